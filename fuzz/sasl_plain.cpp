// SASL PLAIN decoding (RFC 4616) on arbitrary messages: no crash, and what it accepts is
// exactly three fields that encode back to the message, within RFC 4616's rules.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/utf8.hpp"
#include "check.hpp"
#include "xmpp/sasl/plain.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view message{reinterpret_cast<const char*>(data), size};
    auto plain = starling::xmpp::sasl::parse_plain(message);
    if (!plain) return 0;
    FUZZ_CHECK(!plain->authcid.empty() && !plain->password.empty(), "an empty authcid or password accepted");
    for (const std::string* field : {&plain->authzid, &plain->authcid, &plain->password}) {
        FUZZ_CHECK(field->size() <= 255, "a field over 255 octets accepted");
        FUZZ_CHECK(starling::utf8::is_valid(*field, false), "invalid UTF-8 or a NUL inside a field accepted");
    }
    std::string again = plain->authzid + '\0' + plain->authcid + '\0' + plain->password;
    FUZZ_CHECK(again == message, "the fields do not encode back to the message");
    return 0;
}
