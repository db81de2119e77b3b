// Publishing and retracting items (XEP-0060 §7.1, §7.2) and the event notifications that
// carry them to subscribers (§7.1.2). On the node's shard.
#include <algorithm>

#include "base/random.hpp"
#include "xml/writer.hpp"
#include "server/modules/pubsub/node_set.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::pubsub {

using xmpp::StanzaErrorCondition;

namespace {

std::vector<const xml::Element*> element_children(const xml::Element& e) {
    std::vector<const xml::Element*> out;
    for (const auto& node : e.children())
        if (!node.is_text()) out.push_back(node.element.get());
    return out;
}

}  // namespace

xml::Element NodeSet::event_message(const xml::Element& event_child) {
    xml::Element message{"message", std::string(ns::client)};
    // XEP-0163 §4.3.4 Example 9: a headline, not for offline storage or the archive.
    message.set_attribute("type", "headline");
    message.add_child("event", std::string(event_ns)).add_child(event_child);
    return message;
}

void NodeSet::notify(const Node& node, const xml::Element& event_child, const xmpp::Jid* publisher) {
    keeper_->notify(node, event_message(event_child), publisher);
    // XEP-0248 §5.3.1: items and purges are item events; the rest are about the node.
    if (!node.config.collections.empty())
        keeper_->notify_collections(node, event_child, event_child.name() != "items" && event_child.name() != "purge");
}

xml::Element NodeSet::event_item(const Node& node, const Item& item) {
    xml::Element e{"item", std::string(event_ns)};
    e.set_attribute("id", item.id);
    if (node.config.deliver_payloads && item.payload) e.add_child(*item.payload);
    return e;
}

xml::Element NodeSet::event_items(const Node& node, const Item& item) {
    xml::Element items{"items", std::string(event_ns)};
    items.set_attribute("node", node.name);
    items.add_child(event_item(node, item));
    return items;
}

Outcome NodeSet::publish(const Request& request) {
    Outcome outcome;
    Node* node = find(request, outcome);
    if (!node && auto_create_) {
        // §7.1.4, XEP-0163 §3: a PEP node comes into being with its first item, configured
        // as the defaults say but for what the publish-options ask (§7.1.5 rule 3).
        NodeConfig config = defaults_;
        if (request.publish_options) {
            auto wanted = apply_form(config, *request.publish_options, limits_.max_items_per_node, publish_options_form);
            if (!wanted) return {std::nullopt, pubsub_error(StanzaErrorCondition::conflict, "precondition-not-met", wanted.error(), "cancel")};
            config = std::move(wanted).value();
            if (auto refusal = unoffered(config)) return {std::nullopt, std::move(*refusal)};
        }
        std::string name{request.op.attribute("node")};
        node = &nodes_.emplace(name, Node{name}).first->second;
        node->config = std::move(config);
        node->affiliations[request.from.bare()] = Affiliation::owner;
        node->creator = request.from.bare().str();
        node->created = now_datetime();
        keeper_->store_node(*node);
        outcome.error.reset();
    }
    if (!node) return outcome;  // §7.1.3.3
    if (node->config.collection) return {std::nullopt, unsupported("publish", "a collection holds nodes, not items")};  // §7.1.3.2
    // §7.1.3.1: as the publish model says.
    if (!may_publish(*node, request.from))
        return {std::nullopt, pubsub_error(StanzaErrorCondition::forbidden, {}, "you may not publish to this node")};
    std::vector<const xml::Element*> items;
    for (const auto* child : element_children(request.op))
        if (child->is("item", pubsub_ns)) items.push_back(child);
    // §7.1.3.7: a persistent node needs an item.
    if (items.empty()) return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, "item-required")};
    // §12.11: a batch is published whole or not at all, and must fit the node.
    if (items.size() > node->config.max_items && node->config.persist_items)
        return {std::nullopt, pubsub_error(StanzaErrorCondition::not_allowed, "max-items-exceeded",
                                           "the node keeps " + std::to_string(node->config.max_items) + " items", "cancel")};
    for (const auto* item : items) {
        std::vector<const xml::Element*> payload = element_children(*item);
        // §7.1.3.6: exactly one payload element (a notification-only node is not built yet).
        if (payload.size() != 1)
            return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, payload.empty() ? "payload-required" : "invalid-payload")};
        // §7.1.3.5: a service-defined limit.
        if (xml::to_string(*payload.front()).size() > limits_.max_payload_bytes)
            return {std::nullopt, pubsub_error(StanzaErrorCondition::not_acceptable, "payload-too-big")};
    }
    // §7.1.5: publish-options are preconditions on the node's configuration.
    if (request.publish_options) {
        if (auto unmet = unmet_precondition(node->config, *request.publish_options, limits_.max_items_per_node))
            return {std::nullopt, pubsub_error(StanzaErrorCondition::conflict, "precondition-not-met", *unmet, "cancel")};
    }
    xml::Element pubsub{"pubsub", std::string(pubsub_ns)};
    auto& published = pubsub.add_child("publish", std::string(pubsub_ns));
    published.set_attribute("node", node->name);
    xml::Element event{"items", std::string(event_ns)};
    event.set_attribute("node", node->name);
    for (const auto* given : items) {
        std::string id{given->attribute("id")};
        if (id.empty()) id = random::id(9);  // §7.1.1: the service makes one
        // The same id again replaces the item (§7.1.2: and it counts as the newest).
        std::erase_if(node->items, [&](const Item& i) { return i.id == id; });
        Item item{id, node->next_seq++, std::make_shared<xml::Element>(*element_children(*given).front()), request.from.bare().str()};
        if (node->config.persist_items) {
            node->items.push_back(item);
            keeper_->store_item(*node, item);
            trim(*node);  // pubsub#max_items: the oldest go
        }
        event.add_child(event_item(*node, item));
        published.add_child("item", std::string(pubsub_ns)).set_attribute("id", id);
    }
    // §7.1.2: each subscriber gets the items (with their payloads: pubsub#deliver_payloads).
    notify(*node, event, &request.from);
    return {std::move(pubsub), std::nullopt};
}

Outcome NodeSet::retract(const Request& request) {
    Outcome outcome;
    Node* node = find(request, outcome);
    if (!node) return outcome;
    if (!may_publish(*node, request.from))  // §7.2.3.1
        return {std::nullopt, pubsub_error(StanzaErrorCondition::forbidden, {}, "you may not retract from this node")};
    std::vector<std::string> ids;
    for (const auto* child : element_children(request.op))
        if (child->is("item", pubsub_ns)) ids.emplace_back(child->attribute("id"));
    if (ids.empty() || std::count(ids.begin(), ids.end(), std::string{}))  // §7.2.3.3
        return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, "item-required")};
    // §12.11: a batch is retracted whole or not at all.
    for (const auto& id : ids)
        if (!node->item(id)) return {std::nullopt, pubsub_error(StanzaErrorCondition::item_not_found, {}, "no item " + id)};
    xml::Element event_items{"items", std::string(event_ns)};
    event_items.set_attribute("node", node->name);
    for (const auto& id : ids) {
        if (!node->item(id)) continue;  // named twice
        std::erase_if(node->items, [&](const Item& i) { return i.id == id; });
        keeper_->forget_item(*node, id);
        event_items.add_child("retract", std::string(event_ns)).set_attribute("id", id);
    }
    // §7.2.2: notify='true' (or the node's pubsub#notify_retract) tells the subscribers.
    std::string_view notify_attr = request.op.attribute("notify");
    if (notify_attr == "true" || notify_attr == "1" || (notify_attr.empty() && node->config.notify_retract)) notify(*node, event_items);
    return outcome;
}

}  // namespace starling::pubsub
