#pragma once
// TlsSession: one server-side TLS connection as a pure state machine over memory BIOs.
// Ciphertext goes in with feed(), plaintext comes out of read(); plaintext goes in with
// write(), ciphertext comes out of take_output(). It does no I/O itself, so the caller's
// coroutine owns the socket, the session can move between executors, and it works for any
// byte transport. Owned by one connection, on that connection's shard.
#include <string>
#include <string_view>

#include "xmpp/sasl/scram.hpp"

struct ssl_st;

namespace starling::net {

class TlsContext;

class TlsSession {
public:
    explicit TlsSession(const TlsContext& context);
    ~TlsSession();
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    enum class Status { ok, closed, error };
    // Hands received ciphertext to TLS and appends any plaintext it yields to `plaintext`.
    // Drives the handshake too. `closed`: the peer sent close_notify.
    Status feed(std::string_view ciphertext, std::string& plaintext);
    // Encrypts plaintext; the records are in take_output().
    bool write(std::string_view plaintext);
    // Sends close_notify (into the output).
    void shutdown();
    // Ciphertext waiting to be sent, appended to `out`.
    void take_output(std::string& out);
    bool has_output() const;

    bool handshake_done() const;
    std::string error() const { return error_; }
    std::string protocol() const;  // "TLSv1.3"
    std::string cipher() const;
    // RFC 9266 tls-exporter (TLS 1.3, or 1.2 with extended master secret) and RFC 5929
    // tls-server-end-point, ready for SCRAM -PLUS.
    xmpp::sasl::ChannelBindings channel_bindings() const;

private:
    ssl_st* ssl_ = nullptr;
    const TlsContext& context_;
    std::string error_;
};

}  // namespace starling::net
