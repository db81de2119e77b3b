#include "net/tls_session.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstring>

#include "net/tls_context.hpp"

namespace starling::net {

namespace {
std::string take_openssl_error() {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return "TLS error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}
}  // namespace

// One BIO for both directions: reads consume TlsSession::input_, writes append to output_.
struct TlsSession::Bio {
    static TlsSession& session(BIO* b) { return *static_cast<TlsSession*>(BIO_get_data(b)); }

    static int write(BIO* b, const char* data, int len) {
        session(b).output_.append(data, static_cast<std::size_t>(len));
        return len;
    }
    static int read(BIO* b, char* data, int len) {
        auto& in = session(b).input_;
        BIO_clear_retry_flags(b);
        if (in.empty()) {
            BIO_set_retry_read(b);  // no more bytes yet: not end of file
            return -1;
        }
        auto n = std::min(in.size(), static_cast<std::size_t>(len));
        std::memcpy(data, in.data(), n);
        in.remove_prefix(n);
        return static_cast<int>(n);
    }
    static long ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }
    static int create(BIO* b) {
        BIO_set_init(b, 1);
        return 1;
    }

    static BIO_METHOD* method() {
        static BIO_METHOD* m = [] {
            BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "starling-tls");
            BIO_meth_set_write(bm, &write);
            BIO_meth_set_read(bm, &read);
            BIO_meth_set_ctrl(bm, &ctrl);
            BIO_meth_set_create(bm, &create);
            return bm;
        }();
        return m;
    }
};

namespace {
int context_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}
}  // namespace

void TlsSession::set_context_in_use(ssl_st* ssl, const TlsContext& context) {
    SSL_set_ex_data(ssl, context_index(), const_cast<TlsContext*>(&context));
}

TlsSession::TlsSession(const TlsContext& context, std::string& output) : output_{output}, context_{context} {
    ssl_ = SSL_new(context.native());
    BIO* bio = BIO_new(Bio::method());
    BIO_set_data(bio, this);
    SSL_set_bio(ssl_, bio, bio);  // one reference, used both ways
    SSL_set_accept_state(ssl_);
}

TlsSession::~TlsSession() {
    if (ssl_) SSL_free(ssl_);
}

TlsSession::Status TlsSession::feed(std::string_view ciphertext, std::string& plaintext) {
    input_ = ciphertext;
    Status status = drain(plaintext);
    input_ = {};  // never keep a view of the caller's buffer
    return status;
}

TlsSession::Status TlsSession::drain(std::string& plaintext) {
    char buf[16 * 1024];
    for (;;) {
        int n = SSL_read(ssl_, buf, sizeof buf);
        if (n > 0) {
            plaintext.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        int err = SSL_get_error(ssl_, n);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::ok;
        if (err == SSL_ERROR_ZERO_RETURN) return Status::closed;
        error_ = take_openssl_error();
        return Status::error;
    }
}

bool TlsSession::write(std::string_view plaintext) {
    while (!plaintext.empty()) {
        int n = SSL_write(ssl_, plaintext.data(), static_cast<int>(plaintext.size()));
        if (n <= 0) {
            error_ = take_openssl_error();
            return false;
        }
        plaintext.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

void TlsSession::shutdown() {
    if (SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);
}

bool TlsSession::handshake_done() const { return SSL_is_init_finished(ssl_); }

std::string TlsSession::protocol() const { return SSL_get_version(ssl_); }

std::string TlsSession::cipher() const {
    const char* c = SSL_get_cipher_name(ssl_);
    return c ? c : "";
}

xmpp::sasl::ChannelBindings TlsSession::channel_bindings() const {
    xmpp::sasl::ChannelBindings b;
    if (!handshake_done()) return b;
    const auto* in_use = static_cast<const TlsContext*>(SSL_get_ex_data(ssl_, context_index()));
    b["tls-server-end-point"] = (in_use ? *in_use : context_).server_end_point();
    // RFC 9266 §2 / RFC 7627: the exporter and tls-unique are only secure bindings with
    // unique master secrets, so TLS 1.3 or 1.2 with extended master secret (else the triple
    // handshake attack applies).
    if (SSL_version(ssl_) >= TLS1_3_VERSION || SSL_get_extms_support(ssl_) == 1) {
        unsigned char out[32];
        static constexpr char label[] = "EXPORTER-Channel-Binding";
        if (SSL_export_keying_material(ssl_, out, sizeof out, label, sizeof label - 1, nullptr, 0, 0) == 1)
            b["tls-exporter"] = std::string(reinterpret_cast<char*>(out), sizeof out);
        if (auto unique = tls_unique(); !unique.empty()) b["tls-unique"] = std::move(unique);
    }
    return b;
}

// RFC 5929 §3.1: the first Finished message of the handshake, the client's in a full TLS
// 1.2 handshake and the server's in an abbreviated one (renegotiation is off, so there is
// only one handshake). RFC 9266 leaves tls-unique undefined for TLS 1.3, but clients built
// on OpenSSL's SSL_get_finished (CPython's ssl, so slixmpp before 1.8.5) still send it
// there, computed by the same rule; it is just as unique to the connection, since TLS 1.3's
// Finished covers the whole transcript. Accepting it lets those clients bind instead of
// falling back to PLAIN; it is not advertised on TLS 1.3 (advertised_binding_types()).
std::string TlsSession::tls_unique() const {
    unsigned char finished[EVP_MAX_MD_SIZE];
    bool server_first = SSL_session_reused(ssl_) == 1;
    std::size_t n = server_first ? SSL_get_finished(ssl_, finished, sizeof finished)
                                 : SSL_get_peer_finished(ssl_, finished, sizeof finished);
    // A zero-length binding would bind to nothing: never offer one.
    if (n == 0 || n > sizeof finished) return {};
    return std::string(reinterpret_cast<char*>(finished), n);
}

std::vector<std::string> TlsSession::advertised_binding_types() const {
    std::vector<std::string> types;
    for (auto& [type, data] : channel_bindings())
        if (type != "tls-unique" || SSL_version(ssl_) < TLS1_3_VERSION) types.push_back(type);
    return types;
}

}  // namespace starling::net
