// Retrieving items (XEP-0060 §6.5): all of a node's items, the newest max_items, or some by
// id, for those the access model lets in (access.cpp). On the node's shard.
#include <charconv>

#include "server/modules/pubsub/node_set.hpp"
#include "xmpp/rsm.hpp"

namespace starling::pubsub {

using xmpp::StanzaErrorCondition;

Outcome NodeSet::items(const Request& request) {
    Outcome outcome;
    Node* node = find(request, outcome);  // §6.5.9.11
    if (!node) return outcome;
    if (auto refusal = access_refusal(*node, request)) return {std::nullopt, std::move(*refusal)};  // §6.5.9
    // §6.5.9.5, XEP-0248 §6.2.3: items are retrieved from the leaves themselves.
    if (node->config.collection) return {std::nullopt, unsupported("retrieve-items", "a collection holds nodes, not items")};
    std::vector<std::string> ids;
    for (const auto& child : request.op.children())
        if (!child.is_text() && child.element->is("item", pubsub_ns)) ids.emplace_back(child.element->attribute("id"));
    std::size_t max = node->items.size();
    if (std::string_view m = request.op.attribute("max_items"); !m.empty()) {
        auto [end, ec] = std::from_chars(m.data(), m.data() + m.size(), max);
        if (ec != std::errc{} || end != m.data() + m.size())
            return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, {}, "max_items is a number")};
    }
    xml::Element pubsub{"pubsub", std::string(pubsub_ns)};
    auto& list = pubsub.add_child("items", std::string(pubsub_ns));
    list.set_attribute("node", node->name);
    auto add = [&list](const Item& item) {
        auto& e = list.add_child("item", std::string(pubsub_ns));
        e.set_attribute("id", item.id);
        if (item.payload) e.add_child(*item.payload);
    };
    // §6.5.4: a page of the items, oldest first, as XEP-0059 asks.
    if (ids.empty() && request.rsm) {
        auto paging = xmpp::page_request(*request.rsm);
        if (!paging) return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, {}, paging.error())};
        auto position = [node](std::string_view id) -> std::optional<std::size_t> {
            for (std::size_t i = 0; i < node->items.size(); ++i)
                if (node->items[i].id == id) return i;
            return std::nullopt;
        };
        auto page = xmpp::select_page(paging.value(), node->items.size(), limits_.max_items_per_node, position);
        if (!page) return {std::nullopt, pubsub_error(StanzaErrorCondition::item_not_found, {}, "no such item to page from")};
        for (std::size_t i = page->begin; i < page->end; ++i) add(node->items[i]);
        std::string first = page->end > page->begin ? node->items[page->begin].id : "";
        std::string last = page->end > page->begin ? node->items[page->end - 1].id : "";
        pubsub.add_child(xmpp::page_answer(*page, first, last, node->items.size()));
    } else if (!ids.empty()) {
        // §6.5.8: those asked for, as far as they exist.
        for (const auto& id : ids)
            if (const Item* item = node->item(id)) add(*item);
    } else {
        // §6.5.7: the newest `max`, oldest first.
        std::size_t skip = node->items.size() > max ? node->items.size() - max : 0;
        for (std::size_t i = skip; i < node->items.size(); ++i) add(node->items[i]);
    }
    return {std::move(pubsub), std::nullopt};
}

}  // namespace starling::pubsub
