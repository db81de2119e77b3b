#pragma once
// Base64 (RFC 4648 §4, with padding), as SASL (RFC 6120 §6.4.2) needs it.
#include <optional>
#include <string>
#include <string_view>

namespace starling::base64 {

std::string encode(std::string_view bytes);
// Strict: rejects characters outside the alphabet, whitespace, bad padding and
// non-canonical trailing bits. RFC 6120 §6.4.2 requires receivers to reject such data.
std::optional<std::string> decode(std::string_view text);

}  // namespace starling::base64
