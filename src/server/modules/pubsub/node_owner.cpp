// Creating, deleting and purging nodes (XEP-0060 §8.1, §8.4, §8.5). On the node's shard.
#include "base/log.hpp"
#include "server/modules/pubsub/node_set.hpp"

namespace starling::pubsub {

using xmpp::StanzaErrorCondition;

Outcome NodeSet::create(const Request& request, const std::string& name) {
    // §8.1.1: a name in use is conflict (an instant node's name is fresh, but say so anyway).
    if (nodes_.count(name)) return {std::nullopt, pubsub_error(StanzaErrorCondition::conflict, {}, "that node exists")};
    NodeConfig config = defaults_;
    if (request.configure && request.configure->attribute("type") == "submit") {
        // §8.1.3: created with this configuration, or not at all.
        auto submitted = apply_form(config, *request.configure, limits_.max_items_per_node);
        if (!submitted) return {std::nullopt, pubsub_error(StanzaErrorCondition::not_acceptable, {}, submitted.error())};
        config = std::move(submitted).value();
        if (auto refusal = unoffered(config)) return {std::nullopt, std::move(*refusal)};
    }
    Node& node = nodes_.emplace(name, Node{name}).first->second;
    node.config = std::move(config);
    node.affiliations[request.from.bare()] = Affiliation::owner;  // §8.1: the creator owns it
    node.creator = request.from.bare().str();
    node.created = now_datetime();
    keeper_->store_node(node);
    log::info("pubsub: {} created node {} on {}", request.from.str(), name, address_.str());
    if (!node.config.collections.empty()) {  // XEP-0248 §5.3.1.2: the collections' subscribers hear of it
        xml::Element created{"create", std::string(event_ns)};
        created.set_attribute("node", name);
        keeper_->notify_collections(node, created, true);
    }
    // §8.1.2: an instant node's name goes back to its creator (always: it costs nothing).
    xml::Element pubsub{"pubsub", std::string(pubsub_ns)};
    pubsub.add_child("create", std::string(pubsub_ns)).set_attribute("node", name);
    return {std::move(pubsub), std::nullopt};
}

Outcome NodeSet::delete_node(const Request& request) {
    Outcome outcome;
    Node* node = find(request, outcome);
    if (!node) return outcome;
    if (node->affiliation_of(request.from.bare()) != Affiliation::owner)
        return {std::nullopt, pubsub_error(StanzaErrorCondition::forbidden, {}, "only an owner deletes the node")};  // §8.4.3.1
    // §8.4.2: the subscribers hear of it.
    if (node->config.notify_delete) {
        xml::Element deleted{"delete", std::string(event_ns)};
        deleted.set_attribute("node", node->name);
        // §8.4.1: where requests might go now, if the owner says.
        if (const xml::Element* redirect = request.op.find_child("redirect", owner_ns); redirect && !redirect->attribute("uri").empty())
            deleted.add_child("redirect", std::string(event_ns)).set_attribute("uri", redirect->attribute("uri"));
        notify(*node, deleted);
    }
    std::string name = node->name;  // not a reference into the node being erased
    keeper_->forget_node(name);
    nodes_.erase(name);
    log::info("pubsub: {} deleted node {} on {}", request.from.str(), name, address_.str());
    return outcome;
}

Outcome NodeSet::purge(const Request& request) {
    Outcome outcome;
    Node* node = find(request, outcome);
    if (!node) return outcome;
    if (node->affiliation_of(request.from.bare()) != Affiliation::owner)
        return {std::nullopt, pubsub_error(StanzaErrorCondition::forbidden, {}, "only an owner purges the node")};  // §8.5.3.1
    node->items.clear();
    keeper_->forget_items(*node);
    xml::Element purged{"purge", std::string(event_ns)};  // §8.5.2
    purged.set_attribute("node", node->name);
    notify(*node, purged);
    return outcome;
}

}  // namespace starling::pubsub
