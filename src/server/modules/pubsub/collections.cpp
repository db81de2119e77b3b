// Collection nodes (XEP-0248) at the service. Nodes live on the shards their names hash to,
// so a collection and its children are mostly apart: a child names its collections
// (pubsub#collection, stored with it), a collection's children are found by asking every
// shard, and an event of a child climbs the graph one collection (one shard hop) at a time.
#include <algorithm>
#include <set>

#include "server/modules/pubsub/pubsub_module.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::pubsub {

using namespace server;
using xmpp::StanzaErrorCondition;

namespace {

// How far an event climbs, and how many nodes a cycle check visits: the graph has no cycles
// (§7.2.3.5), these only bound the work should the stored graph say otherwise.
constexpr unsigned max_depth = 32;
constexpr std::size_t max_visits = 1024;

const xml::Element* first_child(const xml::Element& e) {
    for (const auto& node : e.children())
        if (!node.is_text()) return node.element.get();
    return nullptr;
}

}  // namespace

Task<PubsubModule::NodeFacts> PubsubModule::facts(std::string name, xmpp::BareJid who) {
    auto look = [name, who](PubsubModule& m) {
        NodeFacts f;
        if (const Node* n = m.nodes_.node(name)) {
            f.exists = true;
            f.collection = n->config.collection;
            f.owned = n->affiliation_of(who) == Affiliation::owner;
            f.parents = n->config.collections;
        }
        return f;
    };
    Task<NodeFacts> looking = ctx_.on_shard<PubsubModule>(node_shard(name), std::move(look));
    NodeFacts f = co_await std::move(looking);
    co_return f;
}

Task<std::vector<std::string>> PubsubModule::children_of(std::string collection) {
    auto find = [collection](PubsubModule& m) {
        std::vector<std::string> out;
        for (const auto& [name, node] : m.nodes_.nodes())
            if (std::count(node.config.collections.begin(), node.config.collections.end(), collection)) out.push_back(name);
        return out;
    };
    Task<std::vector<std::vector<std::string>>> all = ctx_.on_every_shard<PubsubModule>(std::move(find));
    auto per_shard = co_await std::move(all);
    std::vector<std::string> children;
    for (auto& shard : per_shard) children.insert(children.end(), shard.begin(), shard.end());
    std::sort(children.begin(), children.end());
    co_return children;
}

Task<std::optional<xmpp::StanzaError>> PubsubModule::parent_refusal(std::string child, std::string parent, xmpp::BareJid who) {
    Task<NodeFacts> looking = facts(parent, who);
    NodeFacts p = co_await std::move(looking);
    if (!p.exists) co_return pubsub_error(StanzaErrorCondition::item_not_found, {}, "there is no node " + parent);
    if (!p.collection)  // §7.2.3.1
        co_return pubsub_error(StanzaErrorCondition::not_allowed, "invalid-options", parent + " is a leaf: it holds no nodes", "cancel");
    // §7.2.3.2 (pubsub#children_association_policy: owners); the type as §7.5.3.1 Example 39.
    if (!p.owned)
        co_return pubsub_error(StanzaErrorCondition::forbidden, {}, "only an owner of " + parent + " puts nodes in it", "cancel");
    // §7.2.3.5: the child must not be the parent or above it.
    std::vector<std::string> above{parent};
    std::set<std::string> seen;
    while (!above.empty() && seen.size() < max_visits) {
        std::string next = std::move(above.back());
        above.pop_back();
        if (next == child)
            co_return pubsub_error(StanzaErrorCondition::not_allowed, "invalid-options", "that would make a cycle of collections", "cancel");
        if (!seen.insert(next).second) continue;
        if (next == parent) {
            above.insert(above.end(), p.parents.begin(), p.parents.end());
            continue;
        }
        Task<NodeFacts> up = facts(next, who);
        NodeFacts f = co_await std::move(up);
        above.insert(above.end(), f.parents.begin(), f.parents.end());
    }
    co_return std::nullopt;
}

Task<std::optional<xmpp::StanzaError>> PubsubModule::collections_refusal(const Request& request, std::string node, bool creating) {
    const xml::Element* form = creating ? (request.configure ? &*request.configure : nullptr) : request.op.find_child("x", data_ns);
    if (!form || form->attribute("type") != "submit" || !xmpp::form_value(*form, "pubsub#collection")) co_return std::nullopt;
    auto wanted = apply_form(NodeConfig{}, *form, options_.max_items_per_node);
    if (!wanted) co_return std::nullopt;  // the node set says what is wrong with the form
    xmpp::BareJid who = request.from.bare();
    std::vector<std::string> current;
    if (!creating) {
        Task<NodeFacts> looking = facts(node, who);
        NodeFacts f = co_await std::move(looking);
        if (!f.exists || !f.owned) co_return std::nullopt;  // item-not-found or forbidden, from the node set
        current = f.parents;
    }
    for (const auto& parent : wanted.value().collections) {
        if (std::count(current.begin(), current.end(), parent)) continue;
        Task<std::optional<xmpp::StanzaError>> checking = parent_refusal(node, parent, who);
        if (auto refusal = co_await std::move(checking)) co_return refusal;
    }
    co_return std::nullopt;
}

Task<std::optional<xmpp::StanzaError>> PubsubModule::children_refusal(const Request& request, std::string node,
                                                                      ChildrenChange& change) {
    const xml::Element* form = request.op.find_child("x", data_ns);
    if (!form || form->attribute("type") != "submit") co_return std::nullopt;
    const xml::Element* field = nullptr;
    for (const auto& child : form->children())
        if (!child.is_text() && child.element->is("field", data_ns) && child.element->attribute("var") == "pubsub#children")
            field = child.element.get();
    if (!field) co_return std::nullopt;
    std::set<std::string> wanted;
    for (const auto& v : field->children())
        if (!v.is_text() && v.element->is("value", data_ns) && !v.element->text().empty()) wanted.insert(v.element->text());
    Task<std::vector<std::string>> finding = children_of(node);
    std::vector<std::string> current = co_await std::move(finding);
    xmpp::BareJid who = request.from.bare();
    for (const auto& child : wanted) {
        if (std::count(current.begin(), current.end(), child)) continue;
        Task<NodeFacts> looking = facts(child, who);
        NodeFacts c = co_await std::move(looking);
        if (!c.exists) co_return pubsub_error(StanzaErrorCondition::item_not_found, {}, "there is no node " + child);
        Task<std::optional<xmpp::StanzaError>> checking = parent_refusal(child, node, who);
        if (auto refusal = co_await std::move(checking)) co_return refusal;
        if (!c.owned) co_return pubsub_error(StanzaErrorCondition::forbidden, {}, "only an owner of " + child + " puts it in a collection", "cancel");
        change.added.push_back(child);
    }
    for (const auto& child : current)
        if (!wanted.count(child)) change.removed.push_back(child);
    co_return std::nullopt;
}

Task<void> PubsubModule::apply_children(std::string node, ChildrenChange change) {
    for (auto* list : {&change.added, &change.removed})
        for (const auto& child : *list) {
            auto relink = [child, node, join = list == &change.added](PubsubModule& m) { return m.nodes_.link(child, node, join); };
            Task<bool> linking = ctx_.on_shard<PubsubModule>(node_shard(child), std::move(relink));
            co_await std::move(linking);
        }
}

Task<void> PubsubModule::associate(IqRequest& request, const xml::Element& op) {
    // §7.5, §7.6: <collection node='parent'><associate node='child'/></collection>.
    std::string parent{op.attribute("node")};
    const xml::Element* what = first_child(op);
    if (parent.empty() || !what || (what->name() != "associate" && what->name() != "dissociate") || what->attribute("node").empty())
        co_return request.error(StanzaErrorCondition::bad_request, "a <collection node='...'/> with an <associate/> or <dissociate/> naming a node");
    bool join = what->name() == "associate";
    std::string child{what->attribute("node")};
    xmpp::BareJid who = request.from().bare();
    Task<NodeFacts> looking = facts(child, who);
    NodeFacts c = co_await std::move(looking);
    if (!c.exists) co_return request.error(pubsub_error(StanzaErrorCondition::item_not_found, {}, "there is no node " + child));
    if (join) {
        Task<std::optional<xmpp::StanzaError>> checking = parent_refusal(child, parent, who);
        if (auto refusal = co_await std::move(checking)) co_return request.error(std::move(*refusal));
        // The child's owner must agree too: a collection shows what its children publish.
        if (!c.owned) co_return request.error(pubsub_error(StanzaErrorCondition::forbidden, {}, "only an owner of " + child + " puts it in a collection", "cancel"));
    } else {
        Task<NodeFacts> looking_up = facts(parent, who);
        NodeFacts p = co_await std::move(looking_up);
        if (!p.exists) co_return request.error(pubsub_error(StanzaErrorCondition::item_not_found, {}, "there is no node " + parent));
        if (!p.owned && !c.owned) co_return request.error(pubsub_error(StanzaErrorCondition::forbidden, {}, "only an owner takes nodes out", "cancel"));
    }
    auto change = [child, parent, join](PubsubModule& m) { return m.nodes_.link(child, parent, join); };
    Task<bool> changing = ctx_.on_shard<PubsubModule>(node_shard(child), std::move(change));
    if (!co_await std::move(changing))  // §7.6.3.1
        co_return request.error(pubsub_error(StanzaErrorCondition::bad_request, {}, child + " is not in " + parent));
    // §5.3.2: the collection's subscribers to nodes hear of it.
    xml::Element event{"collection", std::string(event_ns)};
    event.set_attribute("node", parent);
    event.add_child(join ? "associate" : "dissociate", std::string(event_ns)).set_attribute("node", child);
    auto tell = [parent, message = NodeSet::event_message(event)](PubsubModule& m) {
        if (const Node* n = m.nodes_.node(parent))
            for (const auto& s : n->subscriptions)
                if (s.options.nodes) m.send_event(message, s);
        return true;
    };
    Task<bool> telling = ctx_.on_shard<PubsubModule>(node_shard(parent), std::move(tell));
    co_await std::move(telling);
    request.reply(std::nullopt);
}

Task<void> PubsubModule::orphan_children(std::string collection) {
    // §8.2: the children of a deleted collection stay, without it.
    auto drop = [collection](PubsubModule& m) {
        m.nodes_.orphan(collection);
        return true;
    };
    Task<std::vector<bool>> dropping = ctx_.on_every_shard<PubsubModule>(std::move(drop));
    co_await std::move(dropping);
}

void PubsubModule::notify_collections(const Node& node, const xml::Element& event_child, bool nodes) {
    for (const auto& parent : node.config.collections) ctx_.spawn(climb(parent, event_child, nodes, 1));
}

Task<void> PubsubModule::climb(std::string collection, xml::Element event_child, bool nodes, unsigned depth) {
    auto there = [collection, event_child = std::move(event_child), nodes, depth](PubsubModule& m) {
        m.collection_event(collection, event_child, nodes, depth);
        return true;
    };
    Task<bool> posting = ctx_.on_shard<PubsubModule>(node_shard(collection), std::move(there));
    co_await std::move(posting);
}

void PubsubModule::collection_event(const std::string& collection, const xml::Element& event_child, bool nodes, unsigned depth) {
    const Node* node = nodes_.node(collection);
    if (!node || !node->config.collection) return;
    // §5.3.1: the event names the node it is about; a SHIM header names the collection.
    xml::Element message = NodeSet::event_message(event_child);
    auto& header = message.add_child("headers", std::string(ns::shim)).add_child("header", std::string(ns::shim));
    header.set_attribute("name", "Collection");
    header.add_text(collection);
    for (const auto& s : node->subscriptions)
        if (s.options.nodes == nodes && (s.options.all_depths || depth <= s.options.depth)) send_event(message, s);
    if (depth < max_depth)
        for (const auto& parent : node->config.collections) ctx_.spawn(climb(parent, event_child, nodes, depth + 1));
}

}  // namespace starling::pubsub
