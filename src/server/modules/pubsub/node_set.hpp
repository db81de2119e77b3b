#pragma once
// NodeSet: the PubSub engine (XEP-0060), one set of nodes at one address and every operation
// on them. The service pubsub.<domain> keeps one per shard (the nodes whose names hash there);
// PEP (XEP-0163) keeps one per account on the account's owner shard. Whoever keeps a set says
// where its notifications go and how its nodes are stored (NodeKeeper); the set itself is
// plain state, touched only on its shard.
//   node_owner.cpp       creating, deleting and purging nodes (§8.1, §8.4, §8.5)
//   publishing.cpp       publishing and retracting items, and the notifications (§7.1, §7.2)
//   subscribing.cpp      subscribing, unsubscribing, one's subscriptions and affiliations
//                        (§6.1, §6.2, §5.6, §5.7)
//   retrieval.cpp        retrieving items (§6.5)
//   access.cpp           the access and publish models (§4.5)
//   node_management.cpp  the owner's configuration (§8.2, §8.3), affiliations (§8.9) and
//                        subscriptions (§8.8)
//   authorization.cpp    the authorize access model: pending subscriptions, owners' answers (§8.6)
//   subscription_options.cpp  a subscription's options (§6.3, §6.4)
// Collections (XEP-0248) span shards; the service keeps them (pubsub/collections.cpp) and a
// set knows only its nodes' own node_type and parents.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/modules/pubsub/node.hpp"
#include "xmpp/stanza.hpp"

namespace starling::pubsub {

// A request as the set's shard gets it (copied: it may cross threads).
struct Request {
    xmpp::Jid from;
    bool set = false;    // iq type set (else get)
    xml::Element op;     // <create/>, <publish/>, <subscribe/>, ... (the <pubsub/>'s first child)
    // §8.1.3: the <x/> of a <configure/> next to <create/>; §7.1.5: of <publish-options/>.
    std::optional<xml::Element> configure;
    std::optional<xml::Element> publish_options;
    // §6.5.4: the XEP-0059 <set/> next to <items/> (or in it).
    std::optional<xml::Element> rsm;
    // §6.3.7: the <options/> next to <subscribe/>.
    std::optional<xml::Element> subscribe_options;
    // XEP-0248 §7.2: a collection's children, found on every shard before its
    // configuration form is made.
    std::vector<std::string> children;
    // The presence access model (§4.5): whether `from` receives an owner's presence, found
    // out on the owners' shards before the request runs on the node's.
    bool receives_owner_presence = false;
    // The roster access model: the groups `from` is in, in an owner's roster (when it
    // receives that owner's presence).
    std::vector<std::string> roster_groups;
};

// What the arrival shard answers: a result with `reply` as its payload (none: empty), or an error.
struct Outcome {
    std::optional<xml::Element> reply;
    std::optional<xmpp::StanzaError> error;
};

// What the arrival shard needs to know of a node before a request that depends on the
// access model: whether it exists, the model, and its owners.
struct AccessInfo {
    bool exists = false;
    AccessModel model = AccessModel::open;
    std::vector<xmpp::BareJid> owners;
};

// The request in an iq's <pubsub/> (`owner`: of the #owner namespace): its first element is
// the operation, with the forms beside it (<configure/> next to <create/>, §8.1.3;
// <publish-options/>, §7.1.5); nullopt without one.
std::optional<Request> request_of(const xmpp::Jid& from, bool set, bool owner, const xml::Element& pubsub);

// The service's limits, with their errors (§7.1.3.5).
struct Limits {
    std::uint32_t max_items_per_node = 1000;  // the most pubsub#max_items may be ("max")
    std::uint32_t max_payload_bytes = 65536;  // an item's payload, as XML
    // The authorize access model needs owners' answers to reach the set (a service's do; an
    // account's PEP has no use for it).
    bool authorize = true;
    bool subscription_options = true;  // §6.3 (PEP's interest follows presence, not options)
    bool collections = true;           // XEP-0248 (the service's; PEP's nodes are all leaves)
};

inline constexpr std::string_view subscribe_authorization_form = "http://jabber.org/protocol/pubsub#subscribe_authorization";

// Who keeps a set: delivers its notifications and stores its nodes.
class NodeKeeper {
public:
    virtual ~NodeKeeper() = default;
    // An event <message/> (no 'from' or 'to' yet) about `node`, for its subscribers and
    // whoever else the keeper knows wants it (PEP: contacts whose caps say +notify).
    // `publisher`: the full JID that published the items it carries (XEP-0163 §4.3.1 rule 3).
    virtual void notify(const Node& node, const xml::Element& message, const xmpp::Jid* publisher) = 0;
    // One event <message/> to one JID (the last item, to a new subscriber).
    virtual void deliver(const xml::Element& message, const xmpp::Jid& to) = 0;
    virtual void store_node(const Node& node) = 0;  // configuration, affiliations, subscriptions
    virtual void store_item(const Node& node, const Item& item) = 0;
    virtual void forget_item(const Node& node, const std::string& id) = 0;
    virtual void forget_items(const Node& node) = 0;
    virtual void forget_node(const std::string& name) = 0;
    // An event of `node` for the collections it is in (XEP-0248 §5.3): `nodes`: about the node
    // itself (created, deleted, configured), else about its items.
    virtual void notify_collections(const Node& /*node*/, const xml::Element& /*event_child*/, bool /*nodes*/) {}
};

class NodeSet {
public:
    // `defaults`: a new node's configuration (§8.3); `auto_create`: publishing to a node that
    // does not exist creates it (§7.1.4, XEP-0163 §3).
    // `address`: where the notifications come from (the service, or the PEP account).
    NodeSet(NodeKeeper& keeper, xmpp::Jid address, Limits limits, NodeConfig defaults = {}, bool auto_create = false)
        : keeper_{&keeper}, address_{std::move(address)}, limits_{limits}, defaults_{std::move(defaults)},
          auto_create_{auto_create} {}

    // Runs a request (of the #owner namespace if `owner`) on the node its op names (for an
    // instant node, the caller names it first).
    Outcome handle(const Request& request, bool owner);

    Outcome create(const Request& request, const std::string& name);
    Outcome publish(const Request& request);
    Outcome retract(const Request& request);
    Outcome subscribe(const Request& request);
    Outcome unsubscribe(const Request& request);
    Outcome items(const Request& request);
    Outcome delete_node(const Request& request);
    Outcome purge(const Request& request);
    Outcome configure(const Request& request);
    Outcome options(const Request& request);               // §6.3
    Outcome subscription_default(const Request& request);  // §6.4, of a node
    Outcome owner_affiliations(const Request& request);
    Outcome owner_subscriptions(const Request& request);
    // `who`'s subscriptions and affiliations here (of `node` only, if given), as
    // <subscription/> and <affiliation/> elements.
    std::vector<xml::Element> subscriptions_of(const xmpp::BareJid& who, const std::string& node) const;
    std::vector<xml::Element> affiliations_of(const xmpp::BareJid& who, const std::string& node) const;
    AccessInfo access_info(const std::string& name) const;
    // Why `request`'s sender may not subscribe to or retrieve from `node`, or nullopt.
    std::optional<xmpp::StanzaError> access_refusal(const Node& node, const Request& request) const;
    std::optional<xmpp::StanzaError> access_refusal(const Node& node, const xmpp::BareJid& who,
                                                    bool receives_owner_presence,
                                                    const std::vector<std::string>& roster_groups = {}) const;
    bool may_publish(const Node& node, const xmpp::Jid& who) const;

    // XEP-0248 §7.5, §7.6: puts `child` in the collection `parent` or takes it out; false
    // when there is no such child, or (taking out) it was not in.
    bool link(const std::string& child, const std::string& parent, bool associate);
    // XEP-0248 §8.2: a deleted collection's children are left without it.
    void orphan(const std::string& parent);

    // An owner's submitted §8.6 form: allows or denies a pending subscription.
    std::optional<xmpp::StanzaError> authorize(const xmpp::Jid& from, const xml::Element& form);

    std::vector<std::string> node_names() const;
    std::size_t nodes_owned_by(const xmpp::BareJid& who) const;
    const Node* node(const std::string& name) const;
    const std::map<std::string, Node>& nodes() const { return nodes_; }
    // A node as it was stored, with its items (at start-up, or when PEP loads an account).
    void restore(Node node) { std::string name = node.name; nodes_.insert_or_assign(std::move(name), std::move(node)); }
    const xmpp::Jid& address() const { return address_; }
    const NodeConfig& defaults() const { return defaults_; }
    const Limits& limits() const { return limits_; }

    // The <items/> of an event with `item` (its payload if the node delivers payloads).
    static xml::Element event_items(const Node& node, const Item& item);
    static xml::Element event_item(const Node& node, const Item& item);  // its <item/> alone
    // A headline <message/> with an <event/> holding `event_child`.
    static xml::Element event_message(const xml::Element& event_child);

private:
    Node* find(const Request& request, Outcome& outcome);  // the op's node, or an error set
    void notify(const Node& node, const xml::Element& event_child, const xmpp::Jid* publisher = nullptr);
    void trim(Node& node);  // drops the oldest items beyond max_items
    void ask_owners(const Node& node, const Subscription& subscription);  // authorization.cpp
    // Why this set cannot run a node so configured, or nullopt.
    std::optional<xmpp::StanzaError> unoffered(const NodeConfig& config) const;

    NodeKeeper* keeper_;
    xmpp::Jid address_;
    Limits limits_;
    NodeConfig defaults_;
    bool auto_create_;
    std::map<std::string, Node> nodes_;
};

}  // namespace starling::pubsub
