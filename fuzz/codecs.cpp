// base64 (RFC 4648, canonical only) and hex on arbitrary bytes: encodings decode back to
// the bytes, and whatever decodes is the canonical encoding of what it decodes to.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/base64.hpp"
#include "base/hex.hpp"
#include "check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes{reinterpret_cast<const char*>(data), size};
    std::string encoded = starling::base64::encode(bytes);
    FUZZ_CHECK(encoded.size() == (size + 2) / 3 * 4, "a base64 encoding of the wrong length");
    auto decoded = starling::base64::decode(encoded);
    FUZZ_CHECK(decoded && *decoded == bytes, "base64 does not round-trip");
    if (auto text = starling::base64::decode(bytes))
        FUZZ_CHECK(starling::base64::encode(*text) == bytes, "a non-canonical base64 text was accepted");
    std::string hex = starling::hex::encode(bytes);
    FUZZ_CHECK(hex.size() == 2 * size, "a hex encoding of the wrong length");
    FUZZ_CHECK(hex.find_first_not_of("0123456789abcdef") == std::string::npos, "hex that is not lower-case hex");
    for (std::size_t i = 0; i < size; ++i) {
        auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
        FUZZ_CHECK((digit(hex[2 * i]) << 4 | digit(hex[2 * i + 1])) == static_cast<unsigned char>(bytes[i]),
                   "hex does not encode the bytes");
    }
    return 0;
}
