// The SCRAM server driven by arbitrary client messages: no crash, and no success without
// the right proof and the right channel binding, judged by an oracle written here from
// RFC 5802 §3 with OpenSSL alone (not by the code under test).
//
// Input: one byte choosing the mechanism (its low two bits, modulo 3, the hash; 0x10 -PLUS;
// 0x20 -PLUS offered), then the client-first message, a newline, and the client-final
// message. The oracle shares only the base64 decoder with the code under test. The account's password is
// "pencil", as in RFC 5802's example, so the seed corpus can hold successful exchanges.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/base64.hpp"
#include "check.hpp"
#include "xmpp/sasl/scram.hpp"

namespace sasl = starling::xmpp::sasl;

namespace {

constexpr std::string_view password = "pencil";
constexpr std::string_view server_nonce = "3rfcNHYJY1ZVvWVs7j";

const EVP_MD* md_of(sasl::ScramHash hash) {
    switch (hash) {
        case sasl::ScramHash::sha1: return EVP_sha1();
        case sasl::ScramHash::sha256: return EVP_sha256();
        case sasl::ScramHash::sha512: return EVP_sha512();
    }
    return EVP_sha256();
}

std::string hmac(sasl::ScramHash hash, std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(md_of(hash), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), out, &n);
    return {reinterpret_cast<char*>(out), n};
}

std::string digest(sasl::ScramHash hash, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), out, &n, md_of(hash), nullptr);
    return {reinterpret_cast<char*>(out), n};
}

// The account, derived once per hash (PBKDF2 is slow; a low count keeps the seeds cheap).
const sasl::ScramCredentials& account(sasl::ScramHash hash) {
    static std::map<sasl::ScramHash, sasl::ScramCredentials> made;
    auto it = made.find(hash);
    if (it == made.end()) it = made.emplace(hash, sasl::derive_scram_credentials(hash, password, "QSXCR+Q6sek8bf92", 64)).first;
    return it->second;
}

const sasl::ChannelBindings& bindings() {
    static const sasl::ChannelBindings b{{"tls-exporter", std::string(32, '\x11')},
                                         {"tls-server-end-point", std::string(32, '\x22')},
                                         {"tls-unique", std::string(12, '\x33')}};
    return b;
}

// RFC 5802 §3: ClientProof = ClientKey XOR HMAC(H(ClientKey), AuthMessage), ClientKey from
// the salted password. True if `proof` is that.
bool proof_is_right(sasl::ScramHash hash, std::string_view auth_message, std::string_view proof) {
    const auto& creds = account(hash);
    // The salted password, recomputed here with OpenSSL's PBKDF2.
    std::string salted(static_cast<std::size_t>(EVP_MD_get_size(md_of(hash))), '\0');
    PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                      reinterpret_cast<const unsigned char*>(creds.salt.data()), static_cast<int>(creds.salt.size()),
                      static_cast<int>(creds.iterations), md_of(hash), static_cast<int>(salted.size()),
                      reinterpret_cast<unsigned char*>(salted.data()));
    std::string client_key = hmac(hash, salted, "Client Key");
    std::string signature = hmac(hash, digest(hash, client_key), auth_message);
    std::string expected = client_key;
    for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<char>(expected[i] ^ signature[i]);
    return proof == expected;
}

// "k=value" attributes of a comma-separated message, by their letter; the first wins.
std::map<char, std::string_view> attributes(std::string_view message) {
    std::map<char, std::string_view> out;
    while (!message.empty()) {
        auto comma = message.find(',');
        std::string_view part = message.substr(0, comma);
        if (part.size() >= 2 && part[1] == '=') out.try_emplace(part[0], part.substr(2));
        if (comma == std::string_view::npos) break;
        message.remove_prefix(comma + 1);
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const auto choice = data[0];
    const auto hash = static_cast<sasl::ScramHash>((choice & 0x03) % 3);
    const bool plus = choice & 0x10, plus_offered = plus || (choice & 0x20);
    std::string_view rest{reinterpret_cast<const char*>(data + 1), size - 1};
    auto newline = rest.find('\n');
    std::string_view first = rest.substr(0, newline);
    std::string_view final = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);

    sasl::ScramServer server{hash, plus, plus_offered, bindings()};
    auto client_first = server.client_first(first);
    if (!client_first) return 0;
    std::string server_first = server.server_first(account(hash), std::string(server_nonce));
    auto outcome = server.client_final(final);
    if (!outcome) return 0;

    // Success: the proof must be right for the AuthMessage of RFC 5802 §3 ...
    auto gs2_end = first.find(',', first.find(',') + 1);
    FUZZ_CHECK(gs2_end != std::string_view::npos, "success after a client-first with no gs2 header");
    std::string_view gs2_header = first.substr(0, gs2_end + 1);
    std::string_view client_first_bare = first.substr(gs2_end + 1);
    auto proof_at = final.rfind(",p=");
    FUZZ_CHECK(proof_at != std::string_view::npos, "success without a proof");
    std::string auth_message = std::string(client_first_bare) + "," + server_first + "," +
                               std::string(final.substr(0, proof_at));
    auto proof = starling::base64::decode(final.substr(proof_at + 3));
    FUZZ_CHECK(proof.has_value(), "success with a proof that is not base64");
    FUZZ_CHECK(proof_is_right(hash, auth_message, *proof), "success with a wrong proof");
    // ... the nonce ours extended, and the channel binding the connection's.
    auto final_attributes = attributes(final);
    FUZZ_CHECK(final_attributes['r'].ends_with(server_nonce), "success with a nonce that is not ours");
    auto binding = starling::base64::decode(final_attributes['c']);
    FUZZ_CHECK(binding.has_value(), "success with a channel binding that is not base64");
    std::string expected_binding{gs2_header};
    if (gs2_header.starts_with("p=")) {
        std::string type{gs2_header.substr(2, gs2_header.find(',') - 2)};
        auto it = bindings().find(type);
        FUZZ_CHECK(plus && it != bindings().end(), "success binding to a type the connection lacks");
        expected_binding += it->second;
    } else {
        FUZZ_CHECK(!plus, "-PLUS succeeded without binding");
        FUZZ_CHECK(!(gs2_header.starts_with("y") && plus_offered), "a downgrade ('y' while -PLUS offered) succeeded");
    }
    FUZZ_CHECK(*binding == expected_binding, "success with channel-binding data that is not the connection's");
    return 0;
}
