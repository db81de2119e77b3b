#pragma once
// TlsContext: the server's TLS configuration (OpenSSL 3): TLS 1.2 or newer, the
// certificate and key, and what channel binding needs of the certificate.
// Built once at start-up, shared read-only by every shard.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

struct ssl_ctx_st;

namespace starling::net {

class TlsContext {
public:
    // Loads a PEM certificate chain and key. Errors are readable sentences.
    static Result<TlsContext, std::string> load(const std::filesystem::path& certificate,
                                                const std::filesystem::path& key);
    // Creates a self-signed certificate for `domain` (EC P-256, SAN dNSName, 10 years)
    // at the given paths, key mode 0600.
    static Result<bool, std::string> make_self_signed(const std::string& domain,
                                                      const std::filesystem::path& certificate,
                                                      const std::filesystem::path& key);

    TlsContext(TlsContext&& other) noexcept;
    TlsContext& operator=(TlsContext&& other) noexcept;
    ~TlsContext();

    ssl_ctx_st* native() const { return ctx_; }
    // RFC 5929 §4: hash of the server certificate for tls-server-end-point.
    const std::string& server_end_point() const { return server_end_point_; }
    // Names (SAN dNSName, or CN if none) the certificate holds, for `starling check`.
    const std::vector<std::string>& names() const { return names_; }
    bool covers(std::string_view domain) const;

private:
    TlsContext() = default;
    ssl_ctx_st* ctx_ = nullptr;
    std::string server_end_point_;
    std::vector<std::string> names_;
};

}  // namespace starling::net
