#include "xmpp/sasl/scram.hpp"

#include "base/utf8.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <stdexcept>
#include <vector>

#include "base/base64.hpp"
#include "base/random.hpp"

namespace starling::xmpp::sasl {
namespace {

// Legitimate SCRAM messages are a few hundred octets; the limit bounds parsing work and the
// AuthMessage we hash for a peer that sends junk.
constexpr std::size_t max_message_octets = 4096;
// 144 bits of server nonce, printable without ',' (RFC 5802 §5.1 "r").
constexpr std::size_t nonce_random_bytes = 24;
// The client computes Hi() with whatever count the server sends; a hostile server must not
// make it spin for minutes. Ten million is several seconds of SHA-1 and far above any
// deployed count.
constexpr std::uint32_t max_client_iterations = 10'000'000;
constexpr std::size_t fake_salt_octets = 16;
constexpr std::uint32_t fake_iterations = 4096;

enum State : int { awaiting_client_first, awaiting_server_first, awaiting_client_final, finished };

const EVP_MD* md_of(ScramHash hash) {
    switch (hash) {
        case ScramHash::sha1: return EVP_sha1();
        case ScramHash::sha256: return EVP_sha256();
        case ScramHash::sha512: return EVP_sha512();
    }
    throw std::logic_error("unknown ScramHash");
}

std::size_t hash_size(ScramHash hash) {
    return static_cast<std::size_t>(EVP_MD_get_size(md_of(hash)));
}

std::string hmac(ScramHash hash, std::string_view key, std::string_view data) {
    // OpenSSL 3.0 mishandles a null key pointer, so an empty key points at a real byte.
    static const unsigned char empty_key = 0;
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int out_len = 0;
    const auto* key_ptr =
        key.empty() ? &empty_key : reinterpret_cast<const unsigned char*>(key.data());
    if (HMAC(md_of(hash), key_ptr, static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
             &out_len) == nullptr)
        throw std::runtime_error("HMAC failed");
    return std::string(reinterpret_cast<const char*>(out), out_len);
}

std::string digest(ScramHash hash, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int out_len = 0;
    if (EVP_Digest(data.data(), data.size(), out, &out_len, md_of(hash), nullptr) != 1)
        throw std::runtime_error("EVP_Digest failed");
    return std::string(reinterpret_cast<const char*>(out), out_len);
}

// RFC 5802 §2.2: Hi() is PBKDF2 with HMAC as the PRF and dkLen equal to the hash length.
std::string salted_password(ScramHash hash, std::string_view password, std::string_view salt,
                            std::uint32_t iterations) {
    if (iterations == 0 || iterations > INT_MAX)
        throw std::invalid_argument("SCRAM iteration count");
    std::string out(hash_size(hash), '\0');
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                          reinterpret_cast<const unsigned char*>(salt.data()),
                          static_cast<int>(salt.size()), static_cast<int>(iterations), md_of(hash),
                          static_cast<int>(out.size()),
                          reinterpret_cast<unsigned char*>(out.data())) != 1)
        throw std::runtime_error("PKCS5_PBKDF2_HMAC failed");
    return out;
}

bool equal_secret(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// UTF-8 without NUL: the "value-char" of RFC 5802 §7 minus ',' (we split on it).
bool is_utf8_without_nul(std::string_view s) { return utf8::is_valid(s, false); }

std::vector<std::string_view> split_commas(std::string_view s) {
    std::vector<std::string_view> parts;
    for (;;) {
        const auto comma = s.find(',');
        parts.push_back(s.substr(0, comma));
        if (comma == std::string_view::npos) return parts;
        s.remove_prefix(comma + 1);
    }
}

// The value of `part` if it is "<name>=<1 or more octets>" (RFC 5802 §7 attr-val).
std::optional<std::string_view> attribute(std::string_view part, char name) {
    if (part.size() < 3 || part[0] != name || part[1] != '=') return std::nullopt;
    return part.substr(2);
}

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// RFC 5802 §5.1: unknown optional extensions are ignored, but an attribute the RFC defines
// may not reappear out of its fixed place; 'm' (mandatory extension) must fail.
bool is_extension(std::string_view part) {
    static constexpr std::string_view defined = "anmrcsipve";
    return part.size() >= 3 && is_alpha(part[0]) &&
           defined.find(part[0]) == std::string_view::npos && part[1] == '=' &&
           is_utf8_without_nul(part.substr(2));
}

bool all_extensions(const std::vector<std::string_view>& parts, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i)
        if (!is_extension(parts[i])) return false;
    return true;
}

// RFC 5802 §7: printable = %x21-2B / %x2D-7E.
bool is_nonce(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < 0x21 || c > 0x7e || c == ',') return false;
    return true;
}

// RFC 5802 §7 (RFC 5056 §7): cb-name = 1*(ALPHA / DIGIT / "." / "-").
bool is_cb_name(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-') return false;
    return true;
}

// RFC 5802 §5.1 "n": '=' must be followed by "2C" or "3D", else authentication fails.
std::optional<std::string> decode_saslname(std::string_view s) {
    if (s.empty() || !is_utf8_without_nul(s)) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '=') {
            out.push_back(s[i]);
            continue;
        }
        const auto escape = s.substr(i + 1, 2);
        if (escape == "2C") out.push_back(',');
        else if (escape == "3D") out.push_back('=');
        else return std::nullopt;
        i += 2;
    }
    return out;
}

std::string encode_saslname(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == ',') out += "=2C";
        else if (c == '=') out += "=3D";
        else out.push_back(c);
    }
    return out;
}

// RFC 5802 §7: posit-number = %x31-39 *DIGIT, here bounded to 32 bits.
std::optional<std::uint32_t> parse_posit_number(std::string_view s) {
    if (s.empty() || s.size() > 10 || s[0] < '1' || s[0] > '9') return std::nullopt;
    std::uint64_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (n > UINT32_MAX) return std::nullopt;
    return static_cast<std::uint32_t>(n);
}

std::string xor_bytes(std::string_view a, std::string_view b) {
    std::string out(a);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(out[i] ^ b[i]);
    return out;
}

}  // namespace

std::string scram_mechanism_name(ScramHash hash, bool plus) {
    std::string name = hash == ScramHash::sha1     ? "SCRAM-SHA-1"
                       : hash == ScramHash::sha256 ? "SCRAM-SHA-256"
                                                   : "SCRAM-SHA-512";
    if (plus) name += "-PLUS";
    return name;
}

std::optional<ScramMechanism> parse_scram_mechanism(std::string_view name) {
    for (auto hash : {ScramHash::sha1, ScramHash::sha256, ScramHash::sha512})
        for (bool plus : {false, true})
            if (name == scram_mechanism_name(hash, plus)) return ScramMechanism{hash, plus};
    return std::nullopt;
}

ScramCredentials derive_scram_credentials(ScramHash hash, std::string_view password,
                                          std::string_view salt, std::uint32_t iterations) {
    // RFC 5802 §3: ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = H(ClientKey),
    // ServerKey = HMAC(SaltedPassword, "Server Key").
    const auto salted = salted_password(hash, password, salt, iterations);
    return ScramCredentials{hash, std::string(salt), iterations,
                            digest(hash, hmac(hash, salted, "Client Key")),
                            hmac(hash, salted, "Server Key")};
}

ScramServer::ScramServer(ScramHash hash, bool plus, bool plus_offered, ChannelBindings bindings)
    : hash_(hash),
      plus_(plus),
      plus_offered_(plus_offered || plus),  // a client can only pick -PLUS if we offered it
      bindings_(std::move(bindings)) {}

Result<ScramServer::ClientFirst, SaslCondition> ScramServer::client_first(
    std::string_view message) {
    const auto malformed = Failure{SaslCondition::malformed_request};
    const bool in_order = state_ == awaiting_client_first;
    state_ = finished;  // until the message proves good: no second try on the same exchange
    if (!in_order || message.size() > max_message_octets) return malformed;

    const auto parts = split_commas(message);
    // gs2-cbind-flag "," [authzid] "," then the bare message: n=, r=, extensions.
    if (parts.size() < 4) return malformed;
    const auto flag = parts[0];
    std::string cb_type;
    if (const auto name = attribute(flag, 'p')) {
        if (!is_cb_name(*name)) return malformed;
        cb_type = *name;
    } else if (flag != "n" && flag != "y") {
        // RFC 5802 §5: anything but "n", "y" or "p" MUST fail.
        return malformed;
    }
    std::string authzid;
    if (!parts[1].empty()) {
        const auto value = attribute(parts[1], 'a');
        const auto decoded = value ? decode_saslname(*value) : std::nullopt;
        if (!decoded) return malformed;
        authzid = *decoded;
    }
    // RFC 5802 §5.1 "m": we know no mandatory extension, so "m=" where "n=" belongs MUST
    // fail.
    const auto username = attribute(parts[2], 'n');
    auto authcid = username ? decode_saslname(*username) : std::nullopt;
    const auto nonce = attribute(parts[3], 'r');
    if (!authcid || !nonce || !is_nonce(*nonce) || !all_extensions(parts, 4, parts.size()))
        return malformed;

    // The mechanism and the flag must agree: -PLUS means binding, plain SCRAM means none.
    if (plus_ != !cb_type.empty()) return malformed;
    // RFC 5802 §6: 'y' means the client saw no -PLUS; we offered it, so someone removed it.
    if (flag == "y" && plus_offered_) return Failure{SaslCondition::not_authorized};
    // RFC 5802 §6.1: the server MUST use the client's type or fail.
    if (!cb_type.empty() && !bindings_.contains(cb_type))
        return Failure{SaslCondition::not_authorized};

    const auto header_size = parts[0].size() + parts[1].size() + 2;
    gs2_header_ = message.substr(0, header_size);
    client_first_bare_ = message.substr(header_size);
    client_nonce_ = *nonce;
    cb_type_ = std::move(cb_type);
    state_ = awaiting_server_first;
    return ClientFirst{std::move(*authcid), std::move(authzid)};
}

std::string ScramServer::server_first(const ScramCredentials& credentials,
                                      std::optional<std::string> server_nonce_for_test) {
    if (state_ != awaiting_server_first)
        throw std::logic_error("ScramServer::server_first out of order");
    const auto size = hash_size(hash_);
    if (credentials.hash != hash_ || credentials.salt.empty() || credentials.iterations == 0 ||
        credentials.stored_key.size() != size || credentials.server_key.size() != size)
        throw std::invalid_argument("SCRAM credentials do not fit the mechanism");
    auto server_nonce =
        server_nonce_for_test ? std::move(*server_nonce_for_test) : random::id(nonce_random_bytes);
    if (!is_nonce(server_nonce)) throw std::invalid_argument("SCRAM server nonce not printable");

    nonce_ = client_nonce_ + server_nonce;
    server_first_ = "r=" + nonce_ + ",s=" + base64::encode(credentials.salt) +
                    ",i=" + std::to_string(credentials.iterations);
    credentials_ = credentials;
    state_ = awaiting_client_final;
    return server_first_;
}

Result<std::string, SaslCondition> ScramServer::client_final(std::string_view message) {
    const auto malformed = Failure{SaslCondition::malformed_request};
    const auto not_authorized = Failure{SaslCondition::not_authorized};
    const bool in_order = state_ == awaiting_client_final;
    state_ = finished;  // one proof per server nonce, whatever the outcome
    if (!in_order || message.size() > max_message_octets) return malformed;

    // c= "," r= ["," extensions] "," p=; p= is last, so extensions cannot follow it.
    const auto parts = split_commas(message);
    if (parts.size() < 3) return malformed;
    const auto c = attribute(parts[0], 'c');
    const auto r = attribute(parts[1], 'r');
    const auto p = attribute(parts.back(), 'p');
    if (!c || !r || !p || !is_nonce(*r) || !all_extensions(parts, 2, parts.size() - 1))
        return malformed;
    const auto cbind_input = base64::decode(*c);
    const auto proof = base64::decode(*p);
    if (!cbind_input || !proof || proof->size() != hash_size(hash_)) return malformed;

    // RFC 5802 §6: the server MUST always validate c=: the gs2 header, then the binding data
    // of the chosen type ('p' only; RFC 5802 §7 cbind-input).
    auto expected_cbind = gs2_header_;
    if (!cb_type_.empty()) expected_cbind += bindings_.find(cb_type_)->second;
    if (!equal_secret(*cbind_input, expected_cbind)) return not_authorized;
    if (*r != nonce_) return not_authorized;

    // RFC 5802 §3: AuthMessage = client-first-bare + "," + server-first + "," +
    // client-final-without-proof.
    const auto without_proof = message.substr(0, message.size() - parts.back().size() - 1);
    std::string auth_message = client_first_bare_;
    auth_message.append(",").append(server_first_).append(",").append(without_proof);
    proof_checked_ = true;
    const auto client_signature = hmac(hash_, credentials_.stored_key, auth_message);
    const auto client_key = xor_bytes(*proof, client_signature);
    if (!equal_secret(digest(hash_, client_key), credentials_.stored_key)) return not_authorized;
    return "v=" + base64::encode(hmac(hash_, credentials_.server_key, auth_message));
}

ScramCredentials ScramServer::fake_credentials(ScramHash hash, std::string_view username,
                                               std::string_view server_secret) {
    // Keyed by a server secret so an attacker cannot tell the salt from a real one, and one
    // HMAC per value so a probe costs nothing like Hi(). The StoredKey has no known preimage,
    // so no proof can succeed. Labels differ before any username byte: no cross-collisions.
    const std::string name(username);
    auto salt = hmac(hash, server_secret, "fake-salt:" + name);
    salt.resize(fake_salt_octets);
    return ScramCredentials{hash, std::move(salt), fake_iterations,
                            hmac(hash, server_secret, "fake-stored-key:" + name),
                            hmac(hash, server_secret, "fake-server-key:" + name)};
}

ScramClient::ScramClient(ScramHash hash, std::string authcid, std::string password,
                         std::string cb_type, std::string cb_data, std::string authzid,
                         bool binding_supported)
    : hash_(hash),
      authcid_(std::move(authcid)),
      password_(std::move(password)),
      cb_type_(std::move(cb_type)),
      cb_data_(std::move(cb_data)),
      authzid_(std::move(authzid)) {
    gs2_header_ = cb_type_.empty() ? (binding_supported ? "y" : "n") : "p=" + cb_type_;
    gs2_header_ += ",";
    if (!authzid_.empty()) gs2_header_ += "a=" + encode_saslname(authzid_);
    gs2_header_ += ",";
}

std::string ScramClient::client_first(std::optional<std::string> client_nonce_for_test) {
    nonce_ =
        client_nonce_for_test ? std::move(*client_nonce_for_test) : random::id(nonce_random_bytes);
    if (!is_nonce(nonce_)) throw std::invalid_argument("SCRAM client nonce not printable");
    client_first_bare_ = "n=" + encode_saslname(authcid_) + ",r=" + nonce_;
    return gs2_header_ + client_first_bare_;
}

std::optional<std::string> SaltedPasswordCache::find(const std::string& key) const {
    std::lock_guard lock{mutex_};
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
}

void SaltedPasswordCache::insert(std::string key, std::string salted) {
    std::lock_guard lock{mutex_};
    if (entries_.size() >= max_entries_) entries_.clear();
    entries_.insert_or_assign(std::move(key), std::move(salted));
}

std::size_t SaltedPasswordCache::size() const {
    std::lock_guard lock{mutex_};
    return entries_.size();
}

std::string SaltedPasswordCache::key_for(ScramHash hash, std::string_view password, std::string_view salt,
                                         std::uint32_t iterations) {
    // Length-prefixed, so no two different tuples make the same key.
    std::string key;
    key += static_cast<char>(hash);
    for (std::string_view part : {password, salt}) {
        key += std::to_string(part.size());
        key += ':';
        key += part;
    }
    key += std::to_string(iterations);
    return key;
}

Result<std::string, SaslCondition> ScramClient::client_final(std::string_view server_first) {
    const auto malformed = Failure{SaslCondition::malformed_request};
    if (nonce_.empty()) throw std::logic_error("ScramClient::client_final before client_first");
    if (server_first.size() > max_message_octets) return malformed;

    // [m=] r= "," s= "," i= ["," extensions]; 'm' fails the attribute('r') test below.
    const auto parts = split_commas(server_first);
    if (parts.size() < 3) return malformed;
    const auto r = attribute(parts[0], 'r');
    const auto s = attribute(parts[1], 's');
    const auto i = attribute(parts[2], 'i');
    if (!r || !s || !i || !is_nonce(*r) || !all_extensions(parts, 3, parts.size()))
        return malformed;
    const auto salt = base64::decode(*s);
    const auto iterations = parse_posit_number(*i);
    if (!salt || !iterations || *iterations > max_client_iterations) return malformed;
    // RFC 5802 §5.1 "r": the client MUST verify that the nonce starts with its own, and the
    // server must have added a part of its own.
    if (r->size() <= nonce_.size() || r->substr(0, nonce_.size()) != nonce_)
        return Failure{SaslCondition::not_authorized};

    std::string salted;
    if (cache_) {
        auto key = SaltedPasswordCache::key_for(hash_, password_, *salt, *iterations);
        if (auto hit = cache_->find(key)) {
            salted = std::move(*hit);
        } else {
            salted = salted_password(hash_, password_, *salt, *iterations);
            cache_->insert(std::move(key), salted);
        }
    } else {
        salted = salted_password(hash_, password_, *salt, *iterations);
    }
    const auto client_key = hmac(hash_, salted, "Client Key");
    const auto stored_key = digest(hash_, client_key);
    const auto server_key = hmac(hash_, salted, "Server Key");

    auto cbind_input = gs2_header_;
    if (!cb_type_.empty()) cbind_input += cb_data_;
    std::string without_proof = "c=" + base64::encode(cbind_input) + ",r=" + std::string(*r);
    std::string auth_message = client_first_bare_;
    auth_message.append(",").append(server_first).append(",").append(without_proof);
    const auto proof = xor_bytes(client_key, hmac(hash_, stored_key, auth_message));
    expected_server_signature_ = hmac(hash_, server_key, auth_message);
    return without_proof + ",p=" + base64::encode(proof);
}

bool ScramClient::verify_server_final(std::string_view server_final) const {
    if (expected_server_signature_.empty() || server_final.size() > max_message_octets)
        return false;
    // verifier ["," extensions]; an "e=" error is a failure whatever follows.
    const auto parts = split_commas(server_final);
    const auto v = attribute(parts[0], 'v');
    if (!v || !all_extensions(parts, 1, parts.size())) return false;
    const auto signature = base64::decode(*v);
    return signature && equal_secret(*signature, expected_server_signature_);
}

}  // namespace starling::xmpp::sasl
