#include "xmpp/stream_error.hpp"

#include "xml/element.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::xmpp {

using C = StreamErrorCondition;

std::string_view to_string(StreamErrorCondition c) {
    switch (c) {
        case C::bad_format: return "bad-format";
        case C::bad_namespace_prefix: return "bad-namespace-prefix";
        case C::conflict: return "conflict";
        case C::connection_timeout: return "connection-timeout";
        case C::host_gone: return "host-gone";
        case C::host_unknown: return "host-unknown";
        case C::improper_addressing: return "improper-addressing";
        case C::internal_server_error: return "internal-server-error";
        case C::invalid_from: return "invalid-from";
        case C::invalid_namespace: return "invalid-namespace";
        case C::invalid_xml: return "invalid-xml";
        case C::not_authorized: return "not-authorized";
        case C::not_well_formed: return "not-well-formed";
        case C::policy_violation: return "policy-violation";
        case C::remote_connection_failed: return "remote-connection-failed";
        case C::reset: return "reset";
        case C::resource_constraint: return "resource-constraint";
        case C::restricted_xml: return "restricted-xml";
        case C::see_other_host: return "see-other-host";
        case C::system_shutdown: return "system-shutdown";
        case C::undefined_condition: return "undefined-condition";
        case C::unsupported_encoding: return "unsupported-encoding";
        case C::unsupported_feature: return "unsupported-feature";
        case C::unsupported_stanza_type: return "unsupported-stanza-type";
        case C::unsupported_version: return "unsupported-version";
    }
    return "undefined-condition";
}

xml::Element StreamError::to_element() const {
    xml::Element error{"error", std::string(ns::streams)};
    error.add_child(std::string(to_string(condition)), std::string(ns::stream_errors));
    if (!text.empty())
        error.add_child("text", std::string(ns::stream_errors)).add_text(text);
    return error;
}

}  // namespace starling::xmpp
