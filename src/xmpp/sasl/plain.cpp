#include "xmpp/sasl/plain.hpp"

#include <cstddef>
#include <cstdint>

namespace starling::xmpp::sasl {
namespace {

// RFC 4616 §2: authzid, authcid and passwd are each "1*SAFE", where SAFE is any UTF-8
// character except NUL (RFC 3629 §4: no overlong forms, surrogates or code points above
// U+10FFFF).
bool is_safe_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == 0) return false;
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (s.size() - i < len) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xc0) != 0x80) return false;
            cp = cp << 6 | (cc & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
        if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return false;
        i += len;
    }
    return true;
}

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
