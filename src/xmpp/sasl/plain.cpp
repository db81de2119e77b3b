#include "xmpp/sasl/plain.hpp"

#include "base/utf8.hpp"

#include <cstddef>
#include <cstdint>

namespace starling::xmpp::sasl {
namespace {

// RFC 4616 §2: authzid, authcid and passwd are each "1*SAFE", where SAFE is any UTF-8
// character except NUL.
bool is_safe_utf8(std::string_view s) { return utf8::is_valid(s, false); }

// RFC 4616 §2: servers MUST accept fields of up to 255 octets; we accept no more, which
// bounds the work the PRECIS preparation and the password hash do per attempt.
constexpr std::size_t max_field_octets = 255;

bool field_ok(std::string_view field, bool may_be_empty) {
    if (field.empty()) return may_be_empty;
    return field.size() <= max_field_octets && is_safe_utf8(field);
}

}  // namespace

Result<PlainMessage, SaslCondition> parse_plain(std::string_view message) {
    const auto first_nul = message.find('\0');
    if (first_nul == std::string_view::npos) return Failure{SaslCondition::malformed_request};
    const auto second_nul = message.find('\0', first_nul + 1);
    if (second_nul == std::string_view::npos) return Failure{SaslCondition::malformed_request};

    const auto authzid = message.substr(0, first_nul);
    const auto authcid = message.substr(first_nul + 1, second_nul - first_nul - 1);
    // A third NUL lands in the password and is rejected by is_safe_utf8.
    const auto password = message.substr(second_nul + 1);

    // RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd.
    if (!field_ok(authzid, true) || !field_ok(authcid, false) || !field_ok(password, false))
        return Failure{SaslCondition::malformed_request};
    return PlainMessage{std::string(authzid), std::string(authcid), std::string(password)};
}

}  // namespace starling::xmpp::sasl
