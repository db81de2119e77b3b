#pragma once
// SCRAM (RFC 5802, RFC 7677) with channel binding (RFC 5929, RFC 9266), both sides.
// The server never sees or stores the password: only the salted keys (StoredKey, ServerKey).
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "xmpp/sasl/sasl_condition.hpp"

namespace starling::xmpp::sasl {

enum class ScramHash { sha1, sha256, sha512 };

// "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512" (plus "-PLUS" when plus is true).
std::string scram_mechanism_name(ScramHash hash, bool plus);
// Parses a mechanism name into (hash, plus); nullopt if not a SCRAM mechanism we know.
struct ScramMechanism { ScramHash hash; bool plus; };
std::optional<ScramMechanism> parse_scram_mechanism(std::string_view name);

// What the account store keeps per hash: raw bytes (not base64).
struct ScramCredentials {
    ScramHash hash = ScramHash::sha256;
    std::string salt;
    std::uint32_t iterations = 0;
    std::string stored_key;
    std::string server_key;
};

// Hi() of RFC 5802 §2.2 and the derived keys. `password` must already be prepared
// (OpaqueString, RFC 8265 §4.2) by the caller.
ScramCredentials derive_scram_credentials(ScramHash hash, std::string_view password,
                                          std::string_view salt, std::uint32_t iterations);

// Channel-binding data the connection can offer: type name ("tls-exporter",
// "tls-server-end-point", "tls-unique") to the bytes the binding is made of. Empty without TLS.
using ChannelBindings = std::map<std::string, std::string, std::less<>>;

// One server-side exchange. Usage: client_first() → look up credentials for the returned
// authcid → server_first() → client_final() → send the returned server-final message.
class ScramServer {
public:
    // plus: the client chose the -PLUS mechanism. plus_offered: the server advertised -PLUS
    // variants on this stream (needed to detect downgrade, RFC 5802 §6 'y' flag).
    ScramServer(ScramHash hash, bool plus, bool plus_offered, ChannelBindings bindings);

    struct ClientFirst {
        std::string authcid;  // saslname decoded (=2C → ',', =3D → '='); not yet PRECIS-prepared
        std::string authzid;  // empty if absent
    };
    // Errors: malformed_request (syntax, bad gs2 header, bad saslname escapes, 'p=' with a
    // non-PLUS mechanism or no 'p=' with a PLUS one, extensions 'm='), not_authorized
    // (unsupported channel-binding type, or 'y' when the server offered PLUS).
    Result<ClientFirst, SaslCondition> client_first(std::string_view message);

    // The credentials of the account. For an unknown account pass fake credentials (see
    // fake_credentials) so that the exchange looks the same and fails at the end.
    // server_nonce_for_test: only tests set it (RFC vectors); otherwise random.
    std::string server_first(const ScramCredentials& credentials,
                             std::optional<std::string> server_nonce_for_test = std::nullopt);

    // Verifies channel-binding data and proof. On success returns the server-final message
    // ("v=..."). Errors: malformed_request, not_authorized (wrong proof, nonce mismatch,
    // channel-binding data mismatch).
    Result<std::string, SaslCondition> client_final(std::string_view message);
    // Whether client_final() got as far as the proof: a failure before it (syntax, channel
    // binding, nonce) tested no password, so it is no guess to count (RFC 6120 §6.4.5).
    bool proof_checked() const { return proof_checked_; }

    // Deterministic per username, so probing does not tell existing from unknown accounts.
    static ScramCredentials fake_credentials(ScramHash hash, std::string_view username,
                                             std::string_view server_secret);

private:
    ScramHash hash_;
    bool plus_;
    bool plus_offered_;
    ChannelBindings bindings_;
    bool proof_checked_ = false;
    std::string gs2_header_;
    std::string cb_type_;
    std::string client_first_bare_;
    std::string client_nonce_;
    std::string server_first_;
    std::string nonce_;
    ScramCredentials credentials_;
    int state_ = 0;
};

// Salted passwords a client has computed, by (hash, password, salt, iterations). RFC 5802
// §5.1 lets a client keep them; a load generator logging the same accounts in again and
// again must, or its own PBKDF2, not the server, sets the login rate. Thread-safe; when
// full it starts over rather than tracking recency.
class SaltedPasswordCache {
public:
    explicit SaltedPasswordCache(std::size_t max_entries = 100'000) : max_entries_{max_entries} {}
    std::optional<std::string> find(const std::string& key) const;
    void insert(std::string key, std::string salted);
    std::size_t size() const;
    static std::string key_for(ScramHash hash, std::string_view password, std::string_view salt,
                               std::uint32_t iterations);

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::string> entries_;
    std::size_t max_entries_;
};

// One client-side exchange (client library, tests, the bench tool).
class ScramClient {
public:
    // cb_type set: the gs2 flag is 'p=<cb_type>' and cb_data is bound into c=. cb_type empty:
    // 'y' if binding_supported (the client could bind but the server did not offer -PLUS),
    // 'n' otherwise; RFC 5802 §6 forbids 'n' from a client that supports channel binding.
    ScramClient(ScramHash hash, std::string authcid, std::string password,
                std::string cb_type = {}, std::string cb_data = {}, std::string authzid = {},
                bool binding_supported = false);
    std::string client_first(std::optional<std::string> client_nonce_for_test = std::nullopt);
    // Returns the client-final message. Errors: malformed_request (syntax, 'm=', an iteration
    // count above what the client will compute), not_authorized (the nonce does not extend
    // ours with a server part).
    Result<std::string, SaslCondition> client_final(std::string_view server_first);
    // True if the server signature matches (mutual authentication).
    bool verify_server_final(std::string_view server_final) const;
    // Salted passwords are looked up in, and added to, `cache` (which must outlive this).
    void use_cache(SaltedPasswordCache* cache) { cache_ = cache; }

private:
    SaltedPasswordCache* cache_ = nullptr;
    ScramHash hash_;
    std::string authcid_, password_, cb_type_, cb_data_, authzid_;
    std::string gs2_header_, client_first_bare_, nonce_, expected_server_signature_;
};

}  // namespace starling::xmpp::sasl
