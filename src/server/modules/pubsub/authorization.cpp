// The authorize access model (XEP-0060 §4.5, §6.1.4, §8.6): a subscription request from an
// entity without an affiliation waits, pending, while each owner gets a data form asking
// whether to allow it; the first owner to submit the form decides, and the subscriber hears
// the outcome (§8.8.4). An owner who cancels the form leaves the request pending.
#include "server/modules/pubsub/node_set.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::pubsub {

using xmpp::StanzaErrorCondition;

void NodeSet::ask_owners(const Node& node, const Subscription& subscription) {
    // §8.6 Example 170.
    xml::Element message{"message", std::string(ns::client)};
    message.add_child("body", std::string(ns::client))
        .add_text(subscription.jid.str() + " asks to subscribe to " + node.name + "; submit the form to allow it or not.");
    auto& form = message.add_child("x", std::string(data_ns));
    form.set_attribute("type", "form");
    form.add_child("title", std::string(data_ns)).add_text("PubSub subscriber request");
    xmpp::add_form_field(form, "FORM_TYPE", "hidden", "", subscribe_authorization_form);
    xmpp::add_form_field(form, "pubsub#subid", "hidden", "", subscription.subid);
    xmpp::add_form_field(form, "pubsub#node", "text-single", "Node ID", node.name);
    xmpp::add_form_field(form, "pubsub#subscriber_jid", "jid-single", "Subscriber Address", subscription.jid.str());
    xmpp::add_form_field(form, "pubsub#allow", "boolean", "Allow this JID to subscribe to this pubsub node?", "false");
    for (const auto& [jid, affiliation] : node.affiliations)
        if (affiliation == Affiliation::owner) keeper_->deliver(message, jid.jid());
}

std::optional<xmpp::StanzaError> NodeSet::authorize(const xmpp::Jid& from, const xml::Element& form) {
    if (form.attribute("type") == "cancel") return std::nullopt;  // §8.6: the request stays pending
    if (form.attribute("type") != "submit")
        return xmpp::StanzaError{StanzaErrorCondition::bad_request, "a submitted subscribe_authorization form"};
    auto it = nodes_.find(xmpp::form_value(form, "pubsub#node").value_or(""));
    if (it == nodes_.end()) return pubsub_error(StanzaErrorCondition::item_not_found, {}, "no such node");
    Node& node = it->second;
    if (node.affiliation_of(from.bare()) != Affiliation::owner)
        return pubsub_error(StanzaErrorCondition::forbidden, {}, "only an owner decides on subscriptions");
    auto subscriber = xmpp::Jid::parse(xmpp::form_value(form, "pubsub#subscriber_jid").value_or(""));
    Subscription* pending = subscriber ? node.subscription_of(*subscriber) : nullptr;
    std::string subid = xmpp::form_value(form, "pubsub#subid").value_or("");
    if (!pending || !pending->pending || (!subid.empty() && subid != pending->subid))
        return pubsub_error(StanzaErrorCondition::item_not_found, {}, "no such pending subscription");
    std::string allow = xmpp::form_value(form, "pubsub#allow").value_or("");
    bool allowed = allow == "1" || allow == "true";
    xmpp::Jid jid = pending->jid;
    if (allowed) pending->pending = false;
    else std::erase_if(node.subscriptions, [&](const Subscription& s) { return s.jid == jid; });
    keeper_->store_node(node);
    // §8.6 Examples 172, 174: the subscriber hears of it.
    xml::Element state{"subscription", std::string(event_ns)};
    state.set_attribute("node", node.name).set_attribute("jid", jid.str());
    state.set_attribute("subscription", allowed ? "subscribed" : "none");
    keeper_->deliver(event_message(state), jid);
    if (allowed && node.config.send_last != SendLast::never && !node.items.empty())
        keeper_->deliver(event_message(event_items(node, node.items.back())), jid);
    return std::nullopt;
}

std::optional<xmpp::StanzaError> NodeSet::unoffered(const NodeConfig& config) const {
    if (config.access_model == AccessModel::authorize && !limits_.authorize)
        return pubsub_error(StanzaErrorCondition::not_acceptable, {}, "the authorize access model is not offered here");
    if ((config.collection || !config.collections.empty()) && !limits_.collections)
        return unsupported("collections", "collection nodes are not offered here");  // XEP-0248 §7.1.3.1
    return std::nullopt;
}

}  // namespace starling::pubsub
