// What an owner manages of a node (XEP-0060 §8): its configuration (§8.2), its affiliations
// (§8.9) and its subscriptions (§8.8). On the node's shard.
#include <algorithm>

#include "base/random.hpp"
#include "server/modules/pubsub/node_set.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::pubsub {

using xmpp::StanzaErrorCondition;

namespace {

Outcome not_owner() {
    return {std::nullopt, pubsub_error(StanzaErrorCondition::forbidden, {}, "only an owner manages the node")};
}

std::optional<Affiliation> affiliation_named(std::string_view name) {
    for (Affiliation a : {Affiliation::owner, Affiliation::publisher, Affiliation::member, Affiliation::none,
                          Affiliation::outcast})
        if (to_string(a) == name) return a;
    return std::nullopt;
}

const xml::Element* form_in(const xml::Element& e) { return e.find_child("x", data_ns); }

}  // namespace

void NodeSet::trim(Node& node) {
    while (node.items.size() > node.config.max_items) {
        keeper_->forget_item(node, node.items.front().id);
        node.items.pop_front();
    }
}

Outcome NodeSet::configure(const Request& request) {
    Outcome outcome;
    Node* node = find(request, outcome);  // §8.2.3.5
    if (!node) return outcome;
    if (node->affiliation_of(request.from.bare()) != Affiliation::owner) return not_owner();  // §8.2.3.2
    if (!request.set) {
        // §8.2.2: the form with the current values.
        xml::Element pubsub{"pubsub", std::string(owner_ns)};
        auto& configure = pubsub.add_child("configure", std::string(owner_ns));
        configure.set_attribute("node", node->name);
        configure.add_child(config_form(node->config, node->config.collection ? &request.children : nullptr));
        return {std::move(pubsub), std::nullopt};
    }
    const xml::Element* form = form_in(request.op);
    if (!form) return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, {}, "a data form to submit")};
    if (form->attribute("type") == "cancel") return outcome;  // §8.2.4: nothing changes
    if (form->attribute("type") != "submit")
        return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, {}, "a form of type submit")};
    auto next = apply_form(node->config, *form, limits_.max_items_per_node);
    if (!next) return {std::nullopt, pubsub_error(StanzaErrorCondition::not_acceptable, {}, next.error())};  // §8.2.5.2
    if (auto refusal = unoffered(next.value())) return {std::nullopt, std::move(*refusal)};
    // XEP-0248 §7.2.3.4: a collection stays one; §7.2.4: a leaf becoming one loses its items.
    if (node->config.collection && !next.value().collection)
        return {std::nullopt, pubsub_error(StanzaErrorCondition::not_allowed, "invalid-options", "a collection cannot become a leaf", "cancel")};
    if (!node->config.collection && next.value().collection && !node->items.empty()) {
        node->items.clear();
        keeper_->forget_items(*node);
    }
    bool changed = node->config != next.value();
    node->config = std::move(next).value();
    trim(*node);
    keeper_->store_node(*node);
    if (changed && node->config.notify_config) {  // §8.2.5.3
        xml::Element configuration{"configuration", std::string(event_ns)};
        configuration.set_attribute("node", node->name);
        notify(*node, configuration);
    }
    return outcome;
}

bool NodeSet::link(const std::string& child, const std::string& parent, bool associate) {
    auto it = nodes_.find(child);
    if (it == nodes_.end()) return false;
    auto& parents = it->second.config.collections;
    auto found = std::find(parents.begin(), parents.end(), parent);
    if (associate == (found != parents.end())) return associate;  // already so
    if (associate) parents.push_back(parent);
    else parents.erase(found);
    keeper_->store_node(it->second);
    return true;
}

void NodeSet::orphan(const std::string& parent) {
    for (auto& [name, node] : nodes_)
        if (std::erase(node.config.collections, parent)) keeper_->store_node(node);
}

Outcome NodeSet::owner_affiliations(const Request& request) {
    Outcome outcome;
    Node* node = find(request, outcome);  // §8.9.1.3, §8.9.2.3.4
    if (!node) return outcome;
    if (node->affiliation_of(request.from.bare()) != Affiliation::owner) return not_owner();
    if (!request.set) {
        // §8.9.1.2: every entity with an affiliation.
        xml::Element pubsub{"pubsub", std::string(owner_ns)};
        auto& list = pubsub.add_child("affiliations", std::string(owner_ns));
        list.set_attribute("node", node->name);
        for (const auto& [jid, a] : node->affiliations)
            list.add_child("affiliation", std::string(owner_ns))
                .set_attribute("jid", jid.str())
                .set_attribute("affiliation", to_string(a));
        return {std::move(pubsub), std::nullopt};
    }
    // §8.9.2.4: the whole request is checked first; with one bad entry nothing changes.
    std::map<xmpp::BareJid, Affiliation> after = node->affiliations;
    for (const auto& child : request.op.children()) {
        if (child.is_text() || !child.element->is("affiliation", owner_ns)) continue;
        auto jid = xmpp::Jid::parse(child.element->attribute("jid"));
        auto affiliation = affiliation_named(child.element->attribute("affiliation"));
        if (!jid || !affiliation)
            return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, {}, "an affiliation needs a JID and a known value")};
        if (*affiliation == Affiliation::none) after.erase(jid->bare());
        else after[jid->bare()] = *affiliation;
    }
    bool owner_left = false;
    for (const auto& [jid, a] : after) owner_left |= a == Affiliation::owner;
    if (!owner_left)  // §8.9.2.4 Example 209: a node keeps an owner
        return {std::nullopt, pubsub_error(StanzaErrorCondition::not_acceptable, {}, "a node keeps at least one owner")};
    // §8.9.4: each entity whose affiliation changed hears of it.
    std::vector<std::pair<xmpp::BareJid, Affiliation>> changed;
    for (const auto& [jid, a] : after)
        if (node->affiliation_of(jid) != a) changed.emplace_back(jid, a);
    for (const auto& [jid, a] : node->affiliations)
        if (!after.count(jid)) changed.emplace_back(jid, Affiliation::none);
    node->affiliations = std::move(after);
    for (const auto& [jid, a] : changed) {
        xml::Element message{"message", std::string(ns::client)};
        auto& list = message.add_child("pubsub", std::string(pubsub_ns)).add_child("affiliations", std::string(pubsub_ns));
        list.set_attribute("node", node->name);
        list.add_child("affiliation", std::string(pubsub_ns)).set_attribute("jid", jid.str()).set_attribute("affiliation", to_string(a));
        keeper_->deliver(message, jid.jid());
    }
    // An outcast is no longer subscribed (§4.1: it may not be).
    std::erase_if(node->subscriptions,
                  [&](const Subscription& s) { return node->affiliation_of(s.jid.bare()) == Affiliation::outcast; });
    keeper_->store_node(*node);
    return outcome;
}

Outcome NodeSet::owner_subscriptions(const Request& request) {
    Outcome outcome;
    Node* node = find(request, outcome);  // §8.8.1.3, §8.8.2.3.3
    if (!node) return outcome;
    if (node->affiliation_of(request.from.bare()) != Affiliation::owner) return not_owner();
    if (!request.set) {
        xml::Element pubsub{"pubsub", std::string(owner_ns)};  // §8.8.1.2
        auto& list = pubsub.add_child("subscriptions", std::string(owner_ns));
        list.set_attribute("node", node->name);
        for (const auto& s : node->subscriptions) {
            auto& e = list.add_child("subscription", std::string(owner_ns));
            e.set_attribute("jid", s.jid.str()).set_attribute("subscription", s.state()).set_attribute("subid", s.subid);
        }
        return {std::move(pubsub), std::nullopt};
    }
    // §8.8.2: 'none' removes (§8.8.3), 'subscribed' adds; checked whole first.
    std::vector<std::pair<xmpp::Jid, bool>> changes;
    for (const auto& child : request.op.children()) {
        if (child.is_text() || !child.element->is("subscription", owner_ns)) continue;
        auto jid = xmpp::Jid::parse(child.element->attribute("jid"));
        std::string_view state = child.element->attribute("subscription");
        if (!jid || (state != "none" && state != "subscribed"))
            return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, {}, "a subscription needs a JID and none or subscribed")};
        if (state == "subscribed" && node->affiliation_of(jid->bare()) == Affiliation::outcast)
            return {std::nullopt, pubsub_error(StanzaErrorCondition::not_acceptable, {}, "an outcast cannot be subscribed")};
        changes.emplace_back(*jid, state == "subscribed");
    }
    for (const auto& [jid, subscribed] : changes) {
        Subscription* existing = node->subscription_of(jid);
        bool was = existing && !existing->pending;  // an owner's 'subscribed' approves a pending one
        if (!subscribed) std::erase_if(node->subscriptions, [&](const Subscription& s) { return s.jid == jid; });
        else if (existing) existing->pending = false;
        else node->subscriptions.push_back({jid, random::id(9)});
        if (was == subscribed) continue;
        // §8.8.4: the entity hears that its subscription changed.
        xml::Element state{"subscription", std::string(event_ns)};
        state.set_attribute("node", node->name).set_attribute("jid", jid.str());
        state.set_attribute("subscription", subscribed ? "subscribed" : "none");
        keeper_->deliver(event_message(state), jid);
    }
    keeper_->store_node(*node);
    return outcome;
}

}  // namespace starling::pubsub
