#include "net/tls_domains.hpp"

#include <openssl/ssl.h>

#include "net/tls_session.hpp"

namespace starling::net {

namespace {

bool same_domain(std::string_view a, std::string_view b) {
    if (!a.empty() && a.back() == '.') a.remove_suffix(1);  // "example.org." names example.org
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
        if (x != b[i]) return false;
    }
    return true;
}

int select_by_server_name(SSL* ssl, int*, void* arg) {
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name) return SSL_TLSEXT_ERR_OK;  // no SNI: the context the session began with
    // A name not served keeps the context the session began with.
    const TlsContext* chosen = static_cast<const TlsDomains*>(arg)->find(name);
    if (!chosen) return SSL_TLSEXT_ERR_OK;
    if (SSL_get_SSL_CTX(ssl) != chosen->native()) SSL_set_SSL_CTX(ssl, chosen->native());
    TlsSession::set_context_in_use(ssl, *chosen);
    return SSL_TLSEXT_ERR_OK;
}

}  // namespace

void TlsDomains::add(std::string domain, TlsContext context) {
    entries_.emplace_back(std::move(domain), std::make_unique<TlsContext>(std::move(context)));
}

void TlsDomains::enable_sni() {
    for (auto& [domain, context] : entries_) {
        SSL_CTX_set_tlsext_servername_callback(context->native(), &select_by_server_name);
        SSL_CTX_set_tlsext_servername_arg(context->native(), this);
    }
}

const TlsContext* TlsDomains::find(std::string_view domain) const {
    for (const auto& [name, context] : entries_)
        if (same_domain(domain, name)) return context.get();
    return nullptr;
}

}  // namespace starling::net
