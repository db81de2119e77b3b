#include "base/random.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace starling::random {

std::string bytes(std::size_t count) {
    std::string out(count, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1)
        throw std::runtime_error("RAND_bytes failed");
    return out;
}

std::string id(std::size_t count) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string raw = bytes(count);
    std::string out;
    out.reserve(count);
    for (unsigned char c : raw) out.push_back(alphabet[c & 63]);
    return out;
}

}  // namespace starling::random
