#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <system_error>

#include <sys/stat.h>

namespace starling::net {

namespace {

std::string openssl_error() {
    unsigned long e = ERR_get_error();
    if (e == 0) return "unknown OpenSSL error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

template <class T, void (*F)(T*)>
struct Deleter {
    void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;

std::string end_point_hash(X509* cert) {
    // RFC 5929 §4.1: the certificate's signature hash, but SHA-256 for MD5 and SHA-1.
    int md_nid = NID_undef, pk_nid = NID_undef;
    OBJ_find_sigid_algs(X509_get_signature_nid(cert), &md_nid, &pk_nid);
    const EVP_MD* md = (md_nid == NID_md5 || md_nid == NID_sha1 || md_nid == NID_undef)
                           ? EVP_sha256()
                           : EVP_get_digestbynid(md_nid);
    if (!md) md = EVP_sha256();
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    X509_digest(cert, md, out, &len);
    return std::string(reinterpret_cast<char*>(out), len);
}

std::vector<std::string> certificate_names(X509* cert) {
    std::vector<std::string> names;
    auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (sans) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
            GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
            if (n->type == GEN_DNS) {
                const unsigned char* d = ASN1_STRING_get0_data(n->d.dNSName);
                names.emplace_back(reinterpret_cast<const char*>(d), ASN1_STRING_length(n->d.dNSName));
            }
        }
        GENERAL_NAMES_free(sans);
    }
    if (names.empty()) {
        char cn[256];
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
            names.emplace_back(cn);
    }
    return names;
}

// XEP-0368 §3: direct TLS clients offer ALPN "xmpp-client"; agree to it when offered,
// and carry on without ALPN otherwise (older clients send none).
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void*) {
    static constexpr unsigned char ours[] = {11, 'x', 'm', 'p', 'p', '-', 'c', 'l', 'i', 'e', 'n', 't'};
    unsigned char* selected = nullptr;
    if (SSL_select_next_proto(&selected, outlen, ours, sizeof ours, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
        *out = selected;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

TlsContext::TlsContext(TlsContext&& o) noexcept
    : ctx_{std::exchange(o.ctx_, nullptr)},
      server_end_point_{std::move(o.server_end_point_)},
      names_{std::move(o.names_)} {}

TlsContext& TlsContext::operator=(TlsContext&& o) noexcept {
    std::swap(ctx_, o.ctx_);
    server_end_point_ = std::move(o.server_end_point_);
    names_ = std::move(o.names_);
    return *this;
}

TlsContext::~TlsContext() {
    if (ctx_) SSL_CTX_free(ctx_);
}

Result<TlsContext, std::string> TlsContext::load(const std::filesystem::path& certificate,
                                                 const std::filesystem::path& key) {
    TlsContext t;
    t.ctx_ = SSL_CTX_new(TLS_server_method());
    if (!t.ctx_) return Failure{openssl_error()};
    // RFC 7590 §3.1: TLS 1.2 or later.
    SSL_CTX_set_min_proto_version(t.ctx_, TLS1_2_VERSION);
    SSL_CTX_set_options(t.ctx_, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                    SSL_OP_CIPHER_SERVER_PREFERENCE);
    // Idle sessions should not hold 34 KiB of record buffers.
    SSL_CTX_set_mode(t.ctx_, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(t.ctx_, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(t.ctx_, 0);
    SSL_CTX_set_alpn_select_cb(t.ctx_, &select_alpn, nullptr);
    if (SSL_CTX_use_certificate_chain_file(t.ctx_, certificate.c_str()) != 1)
        return Failure{"cannot load certificate " + certificate.string() + ": " + openssl_error()};
    if (SSL_CTX_use_PrivateKey_file(t.ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1)
        return Failure{"cannot load key " + key.string() + ": " + openssl_error()};
    if (SSL_CTX_check_private_key(t.ctx_) != 1)
        return Failure{"key " + key.string() + " does not match certificate " + certificate.string()};
    X509* cert = SSL_CTX_get0_certificate(t.ctx_);
    t.server_end_point_ = end_point_hash(cert);
    t.names_ = certificate_names(cert);
    return t;
}

bool TlsContext::covers(std::string_view domain) const {
    for (const auto& n : names_) {
        if (n == domain) return true;
        // RFC 6125 §6.4.3: a wildcard only as the whole left-most label.
        if (n.starts_with("*.")) {
            auto dot = domain.find('.');
            if (dot != std::string_view::npos && domain.substr(dot) == std::string_view(n).substr(1))
                return true;
        }
    }
    return false;
}

Result<bool, std::string> TlsContext::make_self_signed(const std::string& domain,
                                                       const std::filesystem::path& certificate,
                                                       const std::filesystem::path& key) {
    KeyPtr pkey{EVP_EC_gen("P-256")};
    if (!pkey) return Failure{openssl_error()};
    X509Ptr cert{X509_new()};
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(time(nullptr)));
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
    X509_set_pubkey(cert.get(), pkey.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(domain.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
    std::string san = "DNS:" + domain;
    if (X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san.c_str())) {
        X509_add_ext(cert.get(), ext, -1);
        X509_EXTENSION_free(ext);
    }
    if (!X509_sign(cert.get(), pkey.get(), EVP_sha256())) return Failure{openssl_error()};

    std::error_code ec;
    std::filesystem::create_directories(certificate.parent_path(), ec);
    std::filesystem::create_directories(key.parent_path(), ec);
    mode_t old = umask(077);
    FILE* kf = fopen(key.c_str(), "w");
    umask(old);
    if (!kf) return Failure{"cannot write " + key.string()};
    bool ok = PEM_write_PrivateKey(kf, pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
    fclose(kf);
    FILE* cf = fopen(certificate.c_str(), "w");
    if (!cf) return Failure{"cannot write " + certificate.string()};
    ok = ok && PEM_write_X509(cf, cert.get()) == 1;
    fclose(cf);
    if (!ok) return Failure{"cannot write the self-signed certificate: " + openssl_error()};
    return true;
}

}  // namespace starling::net
