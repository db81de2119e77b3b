#pragma once
// Publish-Subscribe (XEP-0060) at pubsub.<domain>. One instance per (domain, shard); each node
// lives on the shard its name hashes to (node_shard), so its state needs no locks: a request
// arrives on any shard, runs on the node's shard (ModuleContext::on_shard) and is answered
// from the arrival shard. The policies are one file each:
//   pubsub_module.cpp  the service, its disco, dispatch of requests to node shards, loading
//   node_owner.cpp     creating, deleting and purging nodes (§8.1, §8.4, §8.5)
//   publishing.cpp     publishing and retracting items, and the notifications (§7.1, §7.2)
//   subscribing.cpp    subscribing, unsubscribing, one's subscriptions and affiliations (§6.1,
//                      §6.2, §5.6, §5.7)
//   retrieval.cpp      retrieving items (§6.5)
//   access.cpp         who may subscribe, retrieve and publish: access and publish models (§4.5)
//   node_management.cpp the owner's configuration (§8.2, §8.3), affiliations (§8.9) and
//                      subscriptions (§8.8) of a node
//   node_config.cpp    the configuration and its form (pubsub#node_config)
//   node_store.cpp     what a node keeps across restarts
// Not built yet (issue 12): the authorize and roster access models, subscription options,
// publish-options, collections, PEP.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/module/module.hpp"
#include "server/modules/pubsub/node.hpp"
#include "xmpp/stanza.hpp"

namespace starling::pubsub {

struct Options {
    std::string subdomain = "pubsub";
    std::string node_creation = "local";  // anyone, local (accounts of this server), admins
    std::uint32_t max_items_per_node = 1000;  // the most pubsub#max_items may be ("max")
    std::uint32_t max_payload_bytes = 65536;  // an item's payload, as XML
    std::uint32_t max_nodes_per_user = 1000;  // nodes one account owns
};

// A request as the node's shard gets it (copied: it crosses threads).
struct Request {
    xmpp::Jid from;
    bool set = false;    // iq type set (else get)
    xml::Element op;     // <create/>, <publish/>, <subscribe/>, ... (the <pubsub/>'s first child)
    // §8.1.3: the <x/> of a <configure/> next to <create/>; §7.1.5: of <publish-options/>.
    std::optional<xml::Element> configure;
    std::optional<xml::Element> publish_options;
    // The presence access model (§4.5): whether `from` receives an owner's presence, found
    // out on the owners' shards before the request runs on the node's.
    bool receives_owner_presence = false;
};

// What the arrival shard needs to know of a node before a request that depends on the
// access model: whether it exists, the model, and its owners.
struct AccessInfo {
    bool exists = false;
    AccessModel model = AccessModel::open;
    std::vector<xmpp::BareJid> owners;
};

// What the arrival shard answers: a result with `reply` as its payload (none: empty), or an error.
struct Outcome {
    std::optional<xml::Element> reply;
    std::optional<xmpp::StanzaError> error;
};

class PubsubModule final : public server::Module {
public:
    PubsubModule(server::ModuleContext& ctx, const Options& options);

    // On the node's shard (on_shard): each operation of the slice.
    Outcome create(const Request& request, const std::string& name);
    Outcome publish(const Request& request);
    Outcome retract(const Request& request);
    Outcome subscribe(const Request& request);
    Outcome unsubscribe(const Request& request);
    Outcome items(const Request& request);
    Outcome delete_node(const Request& request);
    Outcome purge(const Request& request);
    Outcome configure(const Request& request);
    Outcome owner_affiliations(const Request& request);
    Outcome owner_subscriptions(const Request& request);
    AccessInfo access_info(const std::string& name) const;
    // On each shard: this shard's nodes' names; `who`'s subscriptions and affiliations here
    // (of `node` only, if given), as <subscription/> and <affiliation/> elements.
    std::vector<std::string> node_names() const;
    std::vector<xml::Element> subscriptions_of(const xmpp::BareJid& who, const std::string& node) const;
    std::vector<xml::Element> affiliations_of(const xmpp::BareJid& who, const std::string& node) const;
    bool has_node(const std::string& name) const { return nodes_.count(name) != 0; }
    std::size_t nodes_owned_by(const xmpp::BareJid& who) const;

private:
    using Stanza = xmpp::Stanza;

    // pubsub_module.cpp
    std::size_t node_shard(std::string_view name) const;
    Task<void> on_request(server::IqRequest& request, bool owner);
    Task<void> gather(server::IqRequest& request, const xml::Element& op);
    Task<void> disco_info(server::IqRequest& request);
    Task<void> disco_items(server::IqRequest& request);
    bool may_create(const xmpp::Jid& who) const;
    Node* find(const Request& request, Outcome& outcome);  // the op's node, or an error set
    Task<void> load_nodes();

    // publishing.cpp
    void notify(const Node& node, const xml::Element& items_or_event_child);

    // access.cpp
    // Why `request`'s sender may not subscribe to or retrieve from `node`, or nullopt.
    std::optional<xmpp::StanzaError> access_refusal(const Node& node, const Request& request) const;
    bool may_publish(const Node& node, const xmpp::Jid& who) const;
    // Task on the owner shard of `owner`: whether `who` receives its presence.
    Task<bool> receives_presence(xmpp::BareJid owner, xmpp::BareJid who);

    // node_management.cpp
    void trim(Node& node);  // drops the oldest items beyond max_items

    // node_store.cpp users
    void persist(const Node& node);
    void persist_item(const Node& node, const Item& item);
    void forget_item(const Node& node, const std::string& id);
    void forget(const std::string& name);

    server::ModuleContext& ctx_;
    Options options_;
    server::Service& service_;
    server::stores::KeyValue stored_nodes_;  // "pubsub_nodes": (service domain, node) → document
    server::stores::Map stored_items_;       // "pubsub_items": (service domain, node) → id → item
    std::map<std::string, Node> nodes_;      // the nodes this shard owns
    bool loading_ = true;
};

}  // namespace starling::pubsub
