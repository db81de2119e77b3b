#pragma once
// RFC 6120 §8.3: stanza errors as values.
#include <string>
#include <utility>
#include <vector>
#include <string_view>

namespace starling::xml { class Element; }

namespace starling::xmpp {

enum class StanzaErrorCondition {
    bad_request, conflict, feature_not_implemented, forbidden, gone, internal_server_error,
    item_not_found, jid_malformed, not_acceptable, not_allowed, not_authorized, policy_violation,
    recipient_unavailable, redirect, registration_required, remote_server_not_found,
    remote_server_timeout, resource_constraint, service_unavailable, subscription_required,
    undefined_condition, unexpected_request,
};

std::string_view to_string(StanzaErrorCondition condition);
// RFC 6120 §8.3.3: the error type each condition usually has.
std::string_view default_type(StanzaErrorCondition condition);

struct StanzaError {
    StanzaErrorCondition condition = StanzaErrorCondition::undefined_condition;
    std::string text;
    std::string type;  // empty: default_type(condition)
    // RFC 6120 §8.3.4: an application-specific condition, an empty element in its own
    // namespace (e.g. XEP-0191's <blocked xmlns='urn:xmpp:blocking:errors'/>). Empty: none.
    std::string application_name;
    std::string application_ns;
    // Attributes of that element (XEP-0060's <unsupported feature='publish'/>).
    std::vector<std::pair<std::string, std::string>> application_attributes;
    // RFC 6120 §8.3.2: the entity that generated the error, when not the server itself (a
    // room: XEP-0045 errors carry by='room@service'). Empty: none.
    std::string by;

    // <error type='...'><condition xmlns='urn:...:xmpp-stanzas'/><text .../></error>
    xml::Element to_element() const;
};

}  // namespace starling::xmpp
