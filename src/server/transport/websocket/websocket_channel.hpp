#pragma once
// WebSocketChannel: XMPP over WebSocket (RFC 7395) as an ElementChannel, so a browser's
// stream runs through the very C2sStream a TCP client's does. Each WebSocket message holds
// one complete element: <open/> and <close/> in the framing namespace stand for the stream
// header and its end (§3.3.2, §3.6), every other message is one top-level element (§3.3.3).
// The transport is an HttpStream (ws:// on 5280, wss:// on 5281); there is no STARTTLS (§3.1).
// One read at a time and one writer coroutine with a bounded queue; pings as keepalives.
// Owned (shared) by its C2sStream and its own coroutines, on one shard.
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <deque>
#include <memory>
#include <string>

#include "server/transport/element_channel.hpp"
#include "server/transport/http/http_stream.hpp"

namespace starling::server {

inline constexpr std::string_view framing_ns = "urn:ietf:params:xml:ns:xmpp-framing";
using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

struct WebSocketChannelOptions {
    xml::ParserLimits limits;
    std::size_t max_outbound_queue = 1024 * 1024;
    std::chrono::seconds keepalive_interval{0};
    std::string remote;  // the client's address (from the proxy when trusted)
    bool secure = false; // TLS, here or at a trusted proxy in front
};

class WebSocketChannel final : public ElementChannel, public std::enable_shared_from_this<WebSocketChannel> {
public:
    WebSocketChannel(HttpStream stream, WebSocketChannelOptions options);
    ~WebSocketChannel() override;
    // Completes the opening handshake for `request` (RFC 6455 §4.2.2) with the subprotocol
    // "xmpp" (RFC 7395 §3.2), then starts the timer and writer coroutines. A request that
    // does not offer "xmpp" is answered 400 and false comes back.
    Task<bool> accept(const HttpRequest& request);

    Task<ChannelEvent> read() override;
    void set_read_deadline(std::chrono::steady_clock::time_point deadline) override;
    void set_idle_timeout(std::chrono::seconds timeout) override;
    void enable_keepalives(bool on) override { keepalives_ = on; }
    void open_stream(const xml::Element& header) override;
    void write(const xml::Element& element) override;
    void write_keepalive() override { ping_ = true; wake(); }
    void close_stream() override;
    void abort() override;
    std::chrono::steady_clock::time_point last_write() const override { return last_write_; }
    void restart_stream() override {}  // §3.3.4: the client's next <open/> starts the new stream
    void set_parser_limits(xml::ParserLimits limits) override;
    bool can_start_tls() const override { return false; }
    void start_tls(std::string_view) override {}
    bool is_secure() const override { return options_.secure; }
    xmpp::sasl::ChannelBindings channel_bindings() const override;
    std::vector<std::string> advertised_binding_types() const override;
    std::string security_description() const override;
    const std::string& remote_address() const override { return options_.remote; }
    std::string transport() const override;

private:
    struct Socket;  // the Beast websocket stream
    Task<void> write_loop();
    Task<void> timer_loop();
    void queue(std::string message);
    void wake();

    std::unique_ptr<Socket> ws_;
    WebSocketChannelOptions options_;
    xml::StreamParser parser_;
    std::deque<ChannelEvent> events_;  // parsed from a message, not yet read
    std::deque<std::string> out_;      // messages to send, oldest first
    std::size_t out_bytes_ = 0;
    std::chrono::steady_clock::time_point deadline_;
    std::chrono::steady_clock::time_point last_write_;
    std::chrono::steady_clock::time_point last_read_;
    std::chrono::seconds idle_timeout_{0};
    bool keepalives_ = false;
    bool ping_ = false;
    bool closing_ = false;   // close once the queue is sent
    bool finished_ = false;  // closed or failed: nothing more is read or written
    bool timed_out_ = false;
    bool overflow_ = false;
};

}  // namespace starling::server
