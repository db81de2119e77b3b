#pragma once
// TlsSession: one server-side TLS connection as a pure state machine. Ciphertext goes in
// with feed() and plaintext comes out; plaintext goes in with write() and the records are
// appended to the caller's output buffer. Its BIO reads straight from the bytes handed to
// feed() and writes straight into that buffer, so there are no BIO buffers to copy through
// or to keep allocated while the connection is idle. It does no I/O itself: the caller's
// coroutine owns the socket, the session can move between executors, and it works over any
// byte transport. Owned by one connection, on that connection's shard.
#include <string>
#include <string_view>
#include <vector>

#include "xmpp/sasl/scram.hpp"

struct ssl_st;

namespace starling::net {

class TlsContext;

class TlsSession {
public:
    // Records are appended to `output` (the connection's outbound buffer), which must
    // outlive the session.
    TlsSession(const TlsContext& context, std::string& output);
    ~TlsSession();
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    enum class Status { ok, closed, error };
    // Hands received ciphertext to TLS and appends any plaintext it yields to `plaintext`.
    // Drives the handshake too. `closed`: the peer sent close_notify.
    Status feed(std::string_view ciphertext, std::string& plaintext);
    // Encrypts plaintext into the output buffer.
    bool write(std::string_view plaintext);
    // Appends close_notify to the output buffer.
    void shutdown();

    bool handshake_done() const;
    std::string error() const { return error_; }
    std::string protocol() const;  // "TLSv1.3"
    std::string cipher() const;
    // RFC 5929 tls-server-end-point, and with TLS 1.3 or 1.2 with extended master secret
    // RFC 9266 tls-exporter and RFC 5929 tls-unique: what SCRAM -PLUS may bind to.
    xmpp::sasl::ChannelBindings channel_bindings() const;
    // The types to name in XEP-0440's <sasl-channel-binding/>: all but tls-unique on TLS 1.3.
    std::vector<std::string> advertised_binding_types() const;

    // SNI chose another domain's context during the handshake (TlsDomains): the session's
    // certificate, and so its tls-server-end-point, is that context's.
    static void set_context_in_use(ssl_st* ssl, const TlsContext& context);

private:
    struct Bio;
    Status drain(std::string& plaintext);
    std::string tls_unique() const;
    ssl_st* ssl_ = nullptr;
    std::string& output_;
    std::string_view input_;
    const TlsContext& context_;
    std::string error_;
};

}  // namespace starling::net
