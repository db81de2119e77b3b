#pragma once
// A node's configuration (XEP-0060 §8.2, §16.4.3 pubsub#node_config): the form an owner gets
// and submits, the defaults (§8.3), and the values the node's policies read. Only fields
// whose effect the node implements are in the form; a submitted field the node does not know
// is ignored (XEP-0004 §3.4).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "xml/element.hpp"
#include "xmpp/data_form.hpp"

namespace starling::pubsub {

using xmpp::data_ns;
inline constexpr std::string_view node_config_form = "http://jabber.org/protocol/pubsub#node_config";

// §4.5: who may subscribe and retrieve items.
enum class AccessModel { open, presence, roster, authorize, whitelist };
// §16.4.3 pubsub#publish_model: who may publish.
enum class PublishModel { publishers, subscribers, open };
// §16.4.3 pubsub#send_last_published_item: when a subscriber gets the newest item unasked.
enum class SendLast { never, on_sub, on_sub_and_presence };

struct NodeConfig {
    std::string title;                 // pubsub#title
    std::string description;           // pubsub#description
    std::uint32_t max_items = 10;      // pubsub#max_items (at most the service's max_items_per_node)
    bool deliver_payloads = true;      // pubsub#deliver_payloads
    bool notify_retract = true;        // pubsub#notify_retract
    bool notify_config = false;        // pubsub#notify_config
    bool notify_delete = true;         // pubsub#notify_delete
    AccessModel access_model = AccessModel::open;
    PublishModel publish_model = PublishModel::publishers;
    bool persist_items = true;         // pubsub#persist_items: false keeps no item (§4.3 transient)
    SendLast send_last = SendLast::never;  // pubsub#send_last_published_item
    std::vector<std::string> roster_groups_allowed;  // pubsub#roster_groups_allowed (roster model)
    // XEP-0248 §7.2: pubsub#node_type (a collection holds nodes, no items) and
    // pubsub#collection, the collections this node is in. A collection's children are the
    // nodes that name it here (pubsub#children is found from them, never stored).
    bool collection = false;
    std::vector<std::string> collections;

    bool operator==(const NodeConfig&) const = default;
};

// <x xmlns='jabber:x:data' type='form'> with `config`'s values; with `children` (a
// collection's, XEP-0248 §7.2), pubsub#children too.
xml::Element config_form(const NodeConfig& config, const std::vector<std::string>* children = nullptr);
// The configuration a submitted form makes of `current`, max_items at most `items_limit`
// ("max" is that limit); the error says which field is wrong (the service answers
// not-acceptable, §8.2.5.2). `form_type`: the FORM_TYPE the form may name.
Result<NodeConfig, std::string> apply_form(const NodeConfig& current, const xml::Element& submitted,
                                           std::uint32_t items_limit, std::string_view form_type = node_config_form);
// §7.1.5: publish-options are preconditions: nullopt when `node` meets every one, else why
// not (an unknown field too).
inline constexpr std::string_view publish_options_form = "http://jabber.org/protocol/pubsub#publish-options";
std::optional<std::string> unmet_precondition(const NodeConfig& node, const xml::Element& options, std::uint32_t items_limit);

}  // namespace starling::pubsub
