#include "server/modules/pubsub/node.hpp"

#include <algorithm>

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
