#pragma once
// RFC 4616: the PLAIN message, authzid NUL authcid NUL passwd.
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "xmpp/sasl/sasl_condition.hpp"

namespace starling::xmpp::sasl {

struct PlainMessage {
    std::string authzid;  // empty if absent
    std::string authcid;
    std::string password;
};

// malformed_request for a wrong number of fields, empty authcid/password, NUL in a field,
// fields over 255 octets, or invalid UTF-8.
Result<PlainMessage, SaslCondition> parse_plain(std::string_view message);

}  // namespace starling::xmpp::sasl
