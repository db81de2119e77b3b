#pragma once
// Node: one PubSub node's state (XEP-0060), kept on the shard its name hashes to: its
// configuration, the affiliations of bare JIDs, the subscriptions and the items, oldest
// first. No locks: only that shard's module instance touches it.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/modules/pubsub/node_config.hpp"
#include "server/modules/pubsub/subscription_options.hpp"
#include "xml/element.hpp"
#include "xmpp/jid.hpp"
#include "xmpp/stanza_error.hpp"

namespace starling::pubsub {

inline constexpr std::string_view pubsub_ns = "http://jabber.org/protocol/pubsub";
inline constexpr std::string_view owner_ns = "http://jabber.org/protocol/pubsub#owner";
inline constexpr std::string_view event_ns = "http://jabber.org/protocol/pubsub#event";
inline constexpr std::string_view errors_ns = "http://jabber.org/protocol/pubsub#errors";

// §4.1: owner > publisher > member > none > outcast.
enum class Affiliation { owner, publisher, member, none, outcast };
std::string_view to_string(Affiliation affiliation);

struct Subscription {
    xmpp::Jid jid;      // bare or full, as subscribed
    std::string subid;  // §6.1.6
    bool pending = false;  // §6.1.4: waiting for an owner's approval (the authorize model)
    SubscriptionOptions options;  // §6.3
    std::string_view state() const { return pending ? "pending" : "subscribed"; }
};

struct Item {
    std::string id;
    std::uint64_t seq;         // publication order
    xml::ElementPtr payload;   // the one payload element
    std::string publisher;     // bare JID
};

struct Node {
    explicit Node(std::string name) : name{std::move(name)} {}
    std::string name;
    NodeConfig config;
    std::map<xmpp::BareJid, Affiliation> affiliations;  // all but none
    std::vector<Subscription> subscriptions;
    std::deque<Item> items;  // oldest first, at most config.max_items
    std::uint64_t next_seq = 1;
    // §5.4 meta-data: who created it and when (XEP-0082; empty for nodes stored before).
    std::string creator;
    std::string created;

    Affiliation affiliation_of(const xmpp::BareJid& jid) const;
    const Subscription* subscription_of(const xmpp::Jid& jid) const;
    Subscription* subscription_of(const xmpp::Jid& jid);
    // Whether any of `who`'s JIDs (bare or full) has an approved subscription.
    bool subscribed(const xmpp::BareJid& who) const;
    Item* item(std::string_view id);
};

// §5.4: the pubsub#meta-data form of a node's disco#info.
xml::Element meta_data_form(const Node& node);
// The XEP-0082 date-time of now, for Node::created.
std::string now_datetime();

// A refusal: the stanza error, with XEP-0060's application condition when it names one.
// `type`: when XEP-0060 gives the condition another type than RFC 6120's usual one.
xmpp::StanzaError pubsub_error(xmpp::StanzaErrorCondition condition, std::string_view application = {},
                               std::string text = {}, std::string type = {});
// feature-not-implemented with <unsupported feature='...'/> (e.g. §7.1.3.2, §6.3.4.6).
xmpp::StanzaError unsupported(std::string_view feature, std::string text = {});

}  // namespace starling::pubsub
