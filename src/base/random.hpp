#pragma once
// Random bytes and identifiers from OpenSSL's CSPRNG (nonces, stream ids, resources).
#include <cstddef>
#include <string>

namespace starling::random {

std::string bytes(std::size_t count);
// Printable id of `count` random bytes (URL-safe base64 alphabet, no padding).
std::string id(std::size_t count = 12);

}  // namespace starling::random
