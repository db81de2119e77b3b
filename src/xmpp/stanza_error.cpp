#include "xmpp/stanza_error.hpp"

#include "xml/element.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::xmpp {

using C = StanzaErrorCondition;

std::string_view to_string(StanzaErrorCondition c) {
    switch (c) {
        case C::bad_request: return "bad-request";
        case C::conflict: return "conflict";
        case C::feature_not_implemented: return "feature-not-implemented";
        case C::forbidden: return "forbidden";
        case C::gone: return "gone";
        case C::internal_server_error: return "internal-server-error";
        case C::item_not_found: return "item-not-found";
        case C::jid_malformed: return "jid-malformed";
        case C::not_acceptable: return "not-acceptable";
        case C::not_allowed: return "not-allowed";
        case C::not_authorized: return "not-authorized";
        case C::policy_violation: return "policy-violation";
        case C::recipient_unavailable: return "recipient-unavailable";
        case C::redirect: return "redirect";
        case C::registration_required: return "registration-required";
        case C::remote_server_not_found: return "remote-server-not-found";
        case C::remote_server_timeout: return "remote-server-timeout";
        case C::resource_constraint: return "resource-constraint";
        case C::service_unavailable: return "service-unavailable";
        case C::subscription_required: return "subscription-required";
        case C::undefined_condition: return "undefined-condition";
        case C::unexpected_request: return "unexpected-request";
    }
    return "undefined-condition";
}

std::string_view default_type(StanzaErrorCondition c) {
    switch (c) {
        case C::bad_request: case C::jid_malformed: case C::not_acceptable: case C::not_allowed:
        case C::policy_violation: case C::redirect: case C::gone: case C::unexpected_request:
            return "modify";
        case C::conflict: case C::feature_not_implemented: case C::item_not_found:
        case C::service_unavailable: case C::remote_server_not_found:
            return "cancel";
        case C::forbidden: case C::not_authorized: case C::registration_required:
        case C::subscription_required:
            return "auth";
        case C::internal_server_error: case C::recipient_unavailable: case C::remote_server_timeout:
        case C::resource_constraint:
            return "wait";
        case C::undefined_condition:
            return "cancel";
    }
    return "cancel";
}

xml::Element StanzaError::to_element() const {
    xml::Element error{"error", std::string(ns::client)};
    error.set_attribute("type", type.empty() ? default_type(condition) : std::string_view{type});
    if (!by.empty()) error.set_attribute("by", by);
    error.add_child(std::string(to_string(condition)), std::string(ns::stanza_errors));
    if (!text.empty())
        error.add_child("text", std::string(ns::stanza_errors)).add_text(text);
    if (!application_name.empty()) {
        auto& application = error.add_child(application_name, application_ns);
        for (const auto& [name, value] : application_attributes) application.set_attribute(name, value);
    }
    return error;
}

}  // namespace starling::xmpp
