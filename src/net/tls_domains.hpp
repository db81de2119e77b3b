#pragma once
// TlsDomains: the certificate of each served domain, and the choice among them. A client on
// direct TLS names the domain it wants in SNI (RFC 6066 §3); on STARTTLS the stream header's
// 'to' has named it before TLS starts (RFC 6120 §13.7.1), and the session begins with that
// domain's context. A name that is not served gets the first domain's certificate (the
// stream then answers host-unknown). Built at start-up, read-only afterwards.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/tls_context.hpp"

namespace starling::net {

class TlsDomains {
public:
    TlsDomains() = default;
    TlsDomains(const TlsDomains&) = delete;
    TlsDomains& operator=(const TlsDomains&) = delete;

    // In config order: the first is the default. Call enable_sni() after the last.
    void add(std::string domain, TlsContext context);
    void enable_sni();

    const TlsContext& first() const { return *entries_.front().second; }
    // The context of a served domain (compared as DNS compares names), or null.
    const TlsContext* find(std::string_view domain) const;
    // The same, or the first when the domain is not served.
    const TlsContext& for_domain(std::string_view domain) const {
        const TlsContext* found = find(domain);
        return found ? *found : first();
    }

private:
    std::vector<std::pair<std::string, std::unique_ptr<TlsContext>>> entries_;
};

}  // namespace starling::net
