// Subscribing and unsubscribing (XEP-0060 §6.1, §6.2), and what an entity asks of its own
// subscriptions and affiliations (§5.6, §5.7). One subscribes only oneself, as the access
// model allows (access.cpp). On the node's shard.
#include "base/random.hpp"
#include "server/modules/pubsub/node_set.hpp"

namespace starling::pubsub {

using xmpp::StanzaErrorCondition;

namespace {

xml::Element subscription_element(const std::string& node, const Subscription& s) {
    std::string_view state = s.state();
    xml::Element e{"subscription", std::string(pubsub_ns)};
    e.set_attribute("node", node).set_attribute("jid", s.jid.str()).set_attribute("subscription", state);
    if (!s.subid.empty()) e.set_attribute("subid", s.subid);
    return e;
}

}  // namespace

Outcome NodeSet::subscribe(const Request& request) {
    Outcome outcome;
    Node* node = find(request, outcome);  // §6.1.3.12
    if (!node) return outcome;
    // §6.1.3.1: one subscribes oneself (any of one's resources, or one's bare JID).
    auto jid = xmpp::Jid::parse(request.op.attribute("jid"));
    if (!jid || jid->bare() != request.from.bare())
        return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, "invalid-jid")};
    const Subscription* existing = node->subscription_of(*jid);
    // §6.1.4: under the authorize model an entity without an affiliation waits for an owner.
    bool asks = node->config.access_model == AccessModel::authorize &&
                node->affiliation_of(jid->bare()) == Affiliation::none;
    if (existing && existing->pending)  // §6.1.3.7
        return {std::nullopt, pubsub_error(StanzaErrorCondition::not_authorized, "pending-subscription")};
    if (!asks)
        if (auto refusal = access_refusal(*node, request)) return {std::nullopt, std::move(*refusal)};
    // §6.3.7: options given with the request apply from the start.
    SubscriptionOptions options = existing ? existing->options : default_options(node->config.collection);
    if (request.subscribe_options) {
        if (!limits_.subscription_options) return {std::nullopt, unsupported("subscription-options")};
        // The <options/> belongs to the <subscribe/> beside it: no node or jid of its own.
        if (!request.subscribe_options->attribute("node").empty() || !request.subscribe_options->attribute("jid").empty())
            return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, {}, "<options/> next to <subscribe/> names no node or jid")};
        if (const xml::Element* form = request.subscribe_options->find_child("x", data_ns)) {
            auto wanted = apply_options(options, *form);
            if (!wanted) return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, "invalid-options", wanted.error())};
            options = std::move(wanted).value();
        }
    }
    if (existing && existing->options != options) {
        node->subscription_of(*jid)->options = options;
        keeper_->store_node(*node);
    }
    if (!existing) {
        node->subscriptions.push_back({*jid, random::id(9), asks, options});
        existing = &node->subscriptions.back();
        keeper_->store_node(*node);
        if (asks) {
            ask_owners(*node, *existing);
        } else if (node->config.send_last != SendLast::never && !node->items.empty()) {
            // §6.1.7: the last published item, if the node sends it to new subscribers.
            keeper_->deliver(event_message(event_items(*node, node->items.back())), *jid);
        }
    }
    // §6.1.2: the subscription as it is now (a repeated request gets the same one).
    xml::Element pubsub{"pubsub", std::string(pubsub_ns)};
    pubsub.add_child(subscription_element(node->name, *existing));
    if (request.subscribe_options)  // §6.3.7 Example 68: the options as they now are
        pubsub.add_child("options", std::string(pubsub_ns)).add_child(options_form(existing->options, node->config.collection, "result"));
    return {std::move(pubsub), std::nullopt};
}

Outcome NodeSet::unsubscribe(const Request& request) {
    Outcome outcome;
    Node* node = find(request, outcome);
    if (!node) return outcome;
    auto jid = xmpp::Jid::parse(request.op.attribute("jid"));
    // §6.2.3.3: nobody unsubscribes someone else (owners will, by managing subscriptions).
    if (!jid || jid->bare() != request.from.bare())
        return {std::nullopt, pubsub_error(StanzaErrorCondition::forbidden, {}, "you may only unsubscribe yourself")};
    std::string_view subid = request.op.attribute("subid");
    auto before = node->subscriptions.size();
    std::erase_if(node->subscriptions, [&](const Subscription& s) {
        return s.jid == *jid && (subid.empty() || s.subid == subid);
    });
    if (node->subscriptions.size() == before) {
        // §6.2.3.2, §6.2.3.5: no such subscription.
        return {std::nullopt, subid.empty() ? pubsub_error(StanzaErrorCondition::unexpected_request, "not-subscribed", {}, "cancel")
                                            : pubsub_error(StanzaErrorCondition::not_acceptable, "invalid-subid")};
    }
    keeper_->store_node(*node);
    return outcome;
}

std::vector<xml::Element> NodeSet::subscriptions_of(const xmpp::BareJid& who, const std::string& name) const {
    std::vector<xml::Element> out;
    for (const auto& [node_name, node] : nodes_) {
        if (!name.empty() && node_name != name) continue;
        for (const auto& s : node.subscriptions)
            if (s.jid.bare() == who) out.push_back(subscription_element(node_name, s));
    }
    return out;
}

std::vector<xml::Element> NodeSet::affiliations_of(const xmpp::BareJid& who, const std::string& name) const {
    std::vector<xml::Element> out;
    for (const auto& [node_name, node] : nodes_) {
        if (!name.empty() && node_name != name) continue;
        Affiliation a = node.affiliation_of(who);
        if (a == Affiliation::none) continue;
        xml::Element e{"affiliation", std::string(pubsub_ns)};
        e.set_attribute("node", node_name).set_attribute("affiliation", to_string(a));
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace starling::pubsub
