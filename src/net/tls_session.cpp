#include "net/tls_session.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

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

TlsSession::TlsSession(const TlsContext& context) : context_{context} {
    ssl_ = SSL_new(context.native());
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    // Reading an empty memory BIO means "wait for more", not end of file.
    BIO_set_mem_eof_return(in, -1);
    BIO_set_mem_eof_return(out, -1);
    SSL_set_bio(ssl_, in, out);
    SSL_set_accept_state(ssl_);
}

TlsSession::~TlsSession() {
    if (ssl_) SSL_free(ssl_);
}

TlsSession::Status TlsSession::feed(std::string_view ciphertext, std::string& plaintext) {
    if (!ciphertext.empty()) BIO_write(SSL_get_rbio(ssl_), ciphertext.data(), static_cast<int>(ciphertext.size()));
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

void TlsSession::take_output(std::string& out) {
    BIO* wbio = SSL_get_wbio(ssl_);
    char* data = nullptr;
    long len = BIO_get_mem_data(wbio, &data);
    if (len > 0) {
        out.append(data, static_cast<std::size_t>(len));
        // Reset rather than read: drops the bytes and frees nothing we need again soon.
        (void)BIO_reset(wbio);
    }
}

bool TlsSession::has_output() const { return BIO_ctrl_pending(SSL_get_wbio(ssl_)) > 0; }

bool TlsSession::handshake_done() const { return SSL_is_init_finished(ssl_); }

std::string TlsSession::protocol() const { return SSL_get_version(ssl_); }

std::string TlsSession::cipher() const {
    const char* c = SSL_get_cipher_name(ssl_);
    return c ? c : "";
}

xmpp::sasl::ChannelBindings TlsSession::channel_bindings() const {
    xmpp::sasl::ChannelBindings b;
    if (!handshake_done()) return b;
    b["tls-server-end-point"] = context_.server_end_point();
    // RFC 9266 §2 / RFC 7627: the exporter is only a secure binding with TLS 1.3 or EMS.
    if (SSL_version(ssl_) >= TLS1_3_VERSION || SSL_get_extms_support(ssl_) == 1) {
        unsigned char out[32];
        static constexpr char label[] = "EXPORTER-Channel-Binding";
        if (SSL_export_keying_material(ssl_, out, sizeof out, label, sizeof label - 1, nullptr, 0, 0) == 1)
            b["tls-exporter"] = std::string(reinterpret_cast<char*>(out), sizeof out);
    }
    return b;
}

}  // namespace starling::net
