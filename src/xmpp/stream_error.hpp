#pragma once
// RFC 6120 §4.9: stream errors as values.
#include <string>
#include <string_view>

namespace starling::xml { class Element; }

namespace starling::xmpp {

enum class StreamErrorCondition {
    bad_format, bad_namespace_prefix, conflict, connection_timeout, host_gone, host_unknown,
    improper_addressing, internal_server_error, invalid_from, invalid_namespace, invalid_xml,
    not_authorized, not_well_formed, policy_violation, remote_connection_failed, reset,
    resource_constraint, restricted_xml, see_other_host, system_shutdown, undefined_condition,
    unsupported_encoding, unsupported_feature, unsupported_stanza_type, unsupported_version,
};

std::string_view to_string(StreamErrorCondition condition);

struct StreamError {
    StreamErrorCondition condition = StreamErrorCondition::undefined_condition;
    std::string text;

    // <stream:error><condition xmlns='urn:...:xmpp-streams'/><text/></stream:error>
    xml::Element to_element() const;
};

}  // namespace starling::xmpp
