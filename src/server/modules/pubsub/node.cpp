#include "server/modules/pubsub/node.hpp"

#include <algorithm>
#include <chrono>

#include "xmpp/data_form.hpp"
#include "xmpp/datetime.hpp"

namespace starling::pubsub {

std::string_view to_string(Affiliation affiliation) {
    switch (affiliation) {
        case Affiliation::owner: return "owner";
        case Affiliation::publisher: return "publisher";
        case Affiliation::member: return "member";
        case Affiliation::none: return "none";
        case Affiliation::outcast: return "outcast";
    }
    return "none";
}

Affiliation Node::affiliation_of(const xmpp::BareJid& jid) const {
    auto it = affiliations.find(jid);
    return it == affiliations.end() ? Affiliation::none : it->second;
}

const Subscription* Node::subscription_of(const xmpp::Jid& jid) const {
    auto it = std::find_if(subscriptions.begin(), subscriptions.end(), [&](const Subscription& s) { return s.jid == jid; });
    return it == subscriptions.end() ? nullptr : &*it;
}

Subscription* Node::subscription_of(const xmpp::Jid& jid) {
    auto it = std::find_if(subscriptions.begin(), subscriptions.end(), [&](const Subscription& s) { return s.jid == jid; });
    return it == subscriptions.end() ? nullptr : &*it;
}

bool Node::subscribed(const xmpp::BareJid& who) const {
    return std::any_of(subscriptions.begin(), subscriptions.end(),
                       [&](const Subscription& s) { return !s.pending && s.jid.bare() == who; });
}

Item* Node::item(std::string_view id) {
    auto it = std::find_if(items.begin(), items.end(), [&](const Item& i) { return i.id == id; });
    return it == items.end() ? nullptr : &*it;
}

xml::Element meta_data_form(const Node& node) {
    using xmpp::data_ns;
    const NodeConfig& c = node.config;
    xml::Element form{"x", std::string(data_ns)};
    form.set_attribute("type", "result");
    xmpp::add_form_field(form, "FORM_TYPE", "hidden", "", "http://jabber.org/protocol/pubsub#meta-data");
    if (!node.creator.empty()) xmpp::add_form_field(form, "pubsub#creator", "jid-single", "Node creator", node.creator);
    if (!node.created.empty()) xmpp::add_form_field(form, "pubsub#creation_date", "text-single", "Creation date", node.created);
    xmpp::add_form_field(form, "pubsub#title", "text-single", "A short name for the node", c.title);
    xmpp::add_form_field(form, "pubsub#description", "text-single", "A description of the node", c.description);
    xmpp::add_form_field(form, "pubsub#node_type", "list-single", "Leaf or collection", c.collection ? "collection" : "leaf");
    xml::Element configured = config_form(c);  // the configured models, as the owner's form names them
    for (std::string_view var : {"pubsub#access_model", "pubsub#publish_model", "pubsub#max_items"})
        if (auto value = xmpp::form_value(configured, var)) xmpp::add_form_field(form, var, "text-single", "", *value);
    auto jids = [&](std::string_view var, std::string_view label, Affiliation which) {
        auto& field = form.add_child("field", std::string(data_ns));
        field.set_attribute("var", var).set_attribute("type", "jid-multi").set_attribute("label", label);
        for (const auto& [jid, a] : node.affiliations)
            if (a == which) field.add_child("value", std::string(data_ns)).add_text(jid.str());
    };
    jids("pubsub#owner", "Node owners", Affiliation::owner);
    jids("pubsub#publisher", "Publishers to this node", Affiliation::publisher);
    std::size_t subscribers = std::count_if(node.subscriptions.begin(), node.subscriptions.end(),
                                            [](const Subscription& s) { return !s.pending; });
    xmpp::add_form_field(form, "pubsub#num_subscribers", "text-single", "Number of subscribers to this node", std::to_string(subscribers));
    return form;
}

std::string now_datetime() {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    return xmpp::datetime(std::chrono::duration_cast<std::chrono::seconds>(now).count() * 1'000'000);
}

xmpp::StanzaError pubsub_error(xmpp::StanzaErrorCondition condition, std::string_view application, std::string text,
                               std::string type) {
    xmpp::StanzaError error{condition, std::move(text), std::move(type)};
    if (!application.empty()) {
        error.application_name = std::string(application);
        error.application_ns = std::string(errors_ns);
    }
    return error;
}

xmpp::StanzaError unsupported(std::string_view feature, std::string text) {
    auto error = pubsub_error(xmpp::StanzaErrorCondition::feature_not_implemented, "unsupported", std::move(text), "cancel");
    error.application_attributes.emplace_back("feature", std::string(feature));
    return error;
}

}  // namespace starling::pubsub
