#pragma once
// TcpChannel: XML streams over TCP, in plaintext until STARTTLS, or TLS from the first byte
// (XEP-0368). One reader (the stream's read() calls) and one writer coroutine, with a bounded
// outbound queue; writes made while a write is in flight are coalesced into the next one.
// An idle connection holds no read buffer: it waits for readability, then reads into a
// per-thread buffer. Owned (shared) by its C2sStream and its own coroutines, on one shard.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

#include "server/transport/element_channel.hpp"

namespace starling::net {
class TlsDomains;
class TlsSession;
}  // namespace starling::net

namespace starling::server {

struct TcpChannelOptions {
    xml::ParserLimits limits;
    std::size_t max_outbound_queue = 1024 * 1024;
    std::chrono::seconds keepalive_interval{0};
    StreamRole role = StreamRole::client;
};

class TcpChannel final : public ElementChannel, public std::enable_shared_from_this<TcpChannel> {
public:
    TcpChannel(boost::asio::ip::tcp::socket socket, const net::TlsDomains& tls, TcpChannelOptions options);
    ~TcpChannel() override;
    // Starts the timer coroutine; call once, right after construction.
    void start();

    Task<ChannelEvent> read() override;
    void set_read_deadline(std::chrono::steady_clock::time_point deadline) override;
    void set_idle_timeout(std::chrono::seconds timeout) override;
    void open_stream(const xml::Element& header) override;
    void write(const xml::Element& element) override;
    void write_keepalive() override { queue(" "); }
    void close_stream() override;
    void abort() override;
    std::chrono::steady_clock::time_point last_write() const override { return last_write_; }
    void restart_stream() override;
    void set_parser_limits(xml::ParserLimits limits) override { parser_.set_limits(limits); }
    bool can_start_tls() const override { return !tls_; }
    void start_tls(std::string_view domain) override;
    bool is_secure() const override;
    xmpp::sasl::ChannelBindings channel_bindings() const override;
    std::vector<std::string> advertised_binding_types() const override;
    std::string security_description() const override;
    const std::string& remote_address() const override { return remote_; }

    // Whitespace keepalives (RFC 6120 §4.6.1).
    void enable_keepalives(bool on) override;

private:
    Task<void> timer_loop();
    Task<void> write_loop();
    void queue(std::string_view plaintext);
    void seal();  // encrypts the plaintext waiting in plain_ into out_
    void wake_timer();

    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer timer_;
    const net::TlsDomains& tls_domains_;
    std::unique_ptr<net::TlsSession> tls_;
    xml::StreamParser parser_;
    TcpChannelOptions options_;
    // Under TLS, what is written waits here as plaintext until the write loop runs, and is
    // then encrypted at once: a burst of stanzas (a room's fan-out, a roster push) becomes
    // a few full records instead of one record, with its overhead, per stanza.
    std::string plain_;
    std::string out_;      // queued bytes (ciphertext once TLS is on)
    std::string sending_;  // bytes being written now
    std::string remote_;
    std::chrono::steady_clock::time_point deadline_;
    std::chrono::steady_clock::time_point last_write_;
    std::chrono::steady_clock::time_point last_read_;
    std::chrono::seconds idle_timeout_{0};
    bool writing_ = false;
    bool closing_ = false;
    bool failed_ = false;
    bool timed_out_ = false;
    bool overflow_ = false;
    bool keepalives_ = false;
};

}  // namespace starling::server
