#pragma once
// Publish-Subscribe (XEP-0060) at pubsub.<domain>. One instance per (domain, shard); each node
// lives on the shard its name hashes to (node_shard), in that shard's NodeSet (the engine,
// node_set.hpp), so its state needs no locks: a request arrives on any shard, runs on the
// node's shard (ModuleContext::on_shard) and is answered from the arrival shard.
//   pubsub_module.cpp  the service, its disco, dispatch of requests to node shards, loading
//   node_store.cpp     what a node keeps across restarts
//   collections.cpp    collection nodes (XEP-0248) across shards
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/module/module.hpp"
#include "server/modules/pubsub/node_set.hpp"
#include "xmpp/stanza.hpp"

namespace starling::pubsub {

struct Options {
    std::string subdomain = "pubsub";
    std::string node_creation = "local";  // anyone, local (accounts of this server), admins
    std::uint32_t max_items_per_node = 1000;  // the most pubsub#max_items may be ("max")
    std::uint32_t max_payload_bytes = 65536;  // an item's payload, as XML
    std::uint32_t max_nodes_per_user = 1000;  // nodes one account owns
};

class PubsubModule final : public server::Module, private NodeKeeper {
public:
    PubsubModule(server::ModuleContext& ctx, const Options& options);

    NodeSet& nodes() { return nodes_; }

private:
    using Stanza = xmpp::Stanza;
    // What the shard of a node says of it to a request on another shard.
    struct NodeFacts {
        bool exists = false;
        bool collection = false;
        bool owned = false;  // by the asker
        std::vector<std::string> parents;
    };

    std::size_t node_shard(std::string_view name) const;
    Task<void> on_request(server::IqRequest& request, bool owner);
    Task<void> gather(server::IqRequest& request, const xml::Element& op);
    Task<void> disco_info(server::IqRequest& request);
    Task<void> disco_items(server::IqRequest& request);
    bool may_create(const xmpp::Jid& who) const;
    Task<void> load_nodes();
    Task<void> authorization_answer(Stanza message);  // §8.6, on the node's shard
    // Task on the owner shard of `owner`: whether `who` receives its presence.
    Task<bool> receives_presence(xmpp::BareJid owner, xmpp::BareJid who);
    // Task on the owner shard of `owner`: `who`'s roster groups there, if it receives its presence.
    Task<std::optional<std::vector<std::string>>> roster_groups(xmpp::BareJid owner, xmpp::BareJid who);

    // One event to one subscriber, as its options say (§6.3: pubsub#deliver, show-values).
    void send_event(const xml::Element& message, const Subscription& subscription);
    Task<void> send_by_show(Stanza stanza, SubscriptionOptions options);

    // collections.cpp (XEP-0248)
    Task<NodeFacts> facts(std::string name, xmpp::BareJid who);
    Task<std::vector<std::string>> children_of(std::string collection);
    // Why `child` may not go into `parent` (missing, a leaf, not the asker's, a cycle).
    Task<std::optional<xmpp::StanzaError>> parent_refusal(std::string child, std::string parent, xmpp::BareJid who);
    // Why a create or configure request may not name the collections its form names.
    Task<std::optional<xmpp::StanzaError>> collections_refusal(const Request& request, std::string node, bool creating);
    // XEP-0248 §8.3: a collection's submitted pubsub#children, as associations to make and undo.
    struct ChildrenChange {
        std::vector<std::string> added, removed;
    };
    Task<std::optional<xmpp::StanzaError>> children_refusal(const Request& request, std::string node, ChildrenChange& change);
    Task<void> apply_children(std::string node, ChildrenChange change);
    Task<void> associate(server::IqRequest& request, const xml::Element& op);
    Task<void> orphan_children(std::string collection);
    Task<void> climb(std::string collection, xml::Element event_child, bool nodes, unsigned depth);
    void collection_event(const std::string& collection, const xml::Element& event_child, bool nodes, unsigned depth);
    void notify_collections(const Node& node, const xml::Element& event_child, bool nodes) override;

    // NodeKeeper (node_store.cpp's documents in the module's stores)
    void notify(const Node& node, const xml::Element& message, const xmpp::Jid* publisher) override;
    void deliver(const xml::Element& message, const xmpp::Jid& to) override;
    void store_node(const Node& node) override;
    void store_item(const Node& node, const Item& item) override;
    void forget_item(const Node& node, const std::string& id) override;
    void forget_items(const Node& node) override;
    void forget_node(const std::string& name) override;

    server::ModuleContext& ctx_;
    Options options_;
    server::Service& service_;
    server::stores::KeyValue stored_nodes_;  // "pubsub_nodes": (service domain, node) → document
    server::stores::Map stored_items_;       // "pubsub_items": (service domain, node) → id → item
    NodeSet nodes_;                          // the nodes this shard owns
    bool loading_ = true;
};

}  // namespace starling::pubsub
