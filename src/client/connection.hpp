#pragma once
// client::Connection: one XMPP client session over TCP with STARTTLS (RFC 6120): stream
// negotiation, SCRAM authentication, resource binding, the roster and initial presence, then
// raw stanzas out and parsed elements in. Coroutines on the caller's executor, no thread of
// its own, so thousands share one thread (starling-bench). What send() queues is written in
// one batch per wake-up, so a busy connection makes few system calls and TLS records.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "net/task.hpp"
#include "xml/element.hpp"
#include "xmpp/sasl/scram.hpp"

namespace starling::client {

struct LoginOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 5222;
    std::string domain = "localhost";
    std::string username;
    std::string password;
    std::string resource;  // empty: the server picks one
    xmpp::sasl::ScramHash hash = xmpp::sasl::ScramHash::sha1;
    bool fetch_roster = true;
    bool initial_presence = true;
    // Where salted passwords are kept between logins (nullptr: computed every time).
    xmpp::sasl::SaltedPasswordCache* scram_cache = nullptr;
};

// Whatever stopped a login or a session, said so a person can act on it.
class ClientError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// TLS settings shared by every connection of a program (an OpenSSL context).
class TlsClientContext;
// verify_peer false: any certificate is accepted (loopback benchmarks against self-signed
// servers); true: the system's trust store and the domain's name are checked.
std::shared_ptr<TlsClientContext> make_tls_context(bool verify_peer);

class Connection : public std::enable_shared_from_this<Connection> {
public:
    static std::shared_ptr<Connection> create(boost::asio::any_io_executor executor,
                                              std::shared_ptr<TlsClientContext> tls);
    ~Connection();

    // Connects and logs in; throws ClientError.
    Task<void> login(LoginOptions options);
    // The bound full JID.
    const std::string& jid() const;

    // Queues serialized stanzas; they go out together at the next chance.
    void send(std::string_view xml);
    // The next top-level element from the server; nullopt once the stream or connection ended.
    Task<std::optional<xml::Element>> read();
    // Closes the stream (</stream:stream>) and the connection.
    Task<void> close();

    std::uint64_t bytes_written() const;
    std::uint64_t bytes_read() const;

private:
    struct Impl;
    explicit Connection(std::unique_ptr<Impl> impl);
    Task<void> flush();
    std::unique_ptr<Impl> impl_;
};

}  // namespace starling::client
