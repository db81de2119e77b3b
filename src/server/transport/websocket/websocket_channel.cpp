#include "server/transport/websocket/websocket_channel.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket.hpp>

#include "base/log.hpp"
#include "xml/writer.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto close_flush_limit = std::chrono::seconds{10};
// The stand-in root every message is parsed under: it declares no default namespace, so an
// element without its own xmlns is in none (RFC 7395 §3.3.3: each message declares its own).
constexpr std::string_view stand_in_root = "<starling:ws xmlns:starling='urn:starling:websocket'>";

// The largest message Beast reads at all. Above the parser's element limit, so a message
// somewhat too large gets its stream error (policy-violation) from the stream; one far too
// large is cut off by Beast itself (close code 1009) before it takes the memory.
std::size_t message_cap(const xml::ParserLimits& limits) { return 2 * limits.max_element_bytes + 4096; }

// Whether a Sec-WebSocket-Protocol header lists "xmpp" (a comma-separated token list).
bool offers_xmpp(std::string_view header) {
    while (!header.empty()) {
        auto comma = header.find(',');
        std::string_view token = header.substr(0, comma);
        while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
        while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
        if (token == "xmpp") return true;
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
    return false;
}
}  // namespace

struct WebSocketChannel::Socket {
    explicit Socket(HttpStream stream) : ws{std::move(stream)}, timer{ws.get_executor()}, wake{ws.get_executor()} {}
    websocket::stream<HttpStream> ws;
    asio::steady_timer timer;  // deadlines, keepalives
    asio::steady_timer wake;   // the writer waits here for messages
    beast::flat_buffer buffer;
    bool writing = false;
};

WebSocketChannel::WebSocketChannel(HttpStream stream, WebSocketChannelOptions options)
    : ws_{std::make_unique<Socket>(std::move(stream))},
      options_{std::move(options)},
      parser_{options_.limits},
      deadline_{Clock::time_point::max()},
      last_write_{Clock::now()},
      last_read_{Clock::now()} {
    parser_.feed(stand_in_root);
    while (parser_.next()) {
    }
    ws_->ws.read_message_max(message_cap(options_.limits));
    ws_->ws.auto_fragment(false);
}

WebSocketChannel::~WebSocketChannel() = default;

Task<bool> WebSocketChannel::accept(const HttpRequest& request) {
    auto self = shared_from_this();
    if (!offers_xmpp(request[http::field::sec_websocket_protocol])) {
        // RFC 7395 §3.2: the client must ask for the "xmpp" subprotocol.
        http::response<http::string_body> refusal{http::status::bad_request, request.version()};
        refusal.set(http::field::content_type, "text/plain");
        refusal.body() = "This endpoint speaks XMPP over WebSocket (RFC 7395): ask for the subprotocol \"xmpp\".\n";
        refusal.prepare_payload();
        refusal.keep_alive(false);
        co_await http::async_write(ws_->ws.next_layer(), refusal, asio::as_tuple(asio::use_awaitable));
        ws_->ws.next_layer().close();
        co_return false;
    }
    ws_->ws.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
        response.set(http::field::sec_websocket_protocol, "xmpp");
        response.set(http::field::server, "Starling");
    }));
    auto [ec] = co_await ws_->ws.async_accept(request, asio::as_tuple(asio::use_awaitable));
    if (ec) {
        log::info("websocket handshake from {} failed: {}", options_.remote, ec.message());
        co_return false;
    }
    // Pongs and pings count as activity (the idle timeout), as whitespace does on TCP.
    ws_->ws.control_callback([this](websocket::frame_type, beast::string_view) { last_read_ = Clock::now(); });
    asio::co_spawn(ws_->ws.get_executor(), [self] { return self->timer_loop(); }, asio::detached);
    asio::co_spawn(ws_->ws.get_executor(), [self] { return self->write_loop(); }, asio::detached);
    co_return true;
}

Task<ChannelEvent> WebSocketChannel::read() {
    using K = ChannelEvent::Kind;
    auto self = shared_from_this();
    for (;;) {
        if (!events_.empty()) {
            ChannelEvent event = std::move(events_.front());
            events_.pop_front();
            co_return event;
        }
        if (timed_out_) co_return ChannelEvent{K::timed_out};
        if (overflow_) co_return ChannelEvent{K::overflow};
        if (finished_) co_return ChannelEvent{K::disconnected};
        ws_->buffer.clear();
        auto [ec, n] = co_await ws_->ws.async_read(ws_->buffer, asio::as_tuple(asio::use_awaitable));
        if (timed_out_ || overflow_) continue;
        if (ec == websocket::error::message_too_big) co_return ChannelEvent{K::parse_error, {}, {}, xml::ParseError::too_large};
        if (ec == websocket::error::closed) {
            // A close frame without <close/> first (§3.6: the client should send one).
            finished_ = true;
            co_return ChannelEvent{K::closed};
        }
        if (ec) {
            finished_ = true;
            continue;
        }
        last_read_ = Clock::now();
        auto data = ws_->buffer.data();
        std::string_view text{static_cast<const char*>(data.data()), data.size()};
        // Each message stands alone (§3.3.3): a DTD in one is restricted XML (RFC 6120 §11.1),
        // though under the stand-in root the parser would only see it out of place.
        if (text.find("<!DOCTYPE") != std::string_view::npos) co_return ChannelEvent{K::parse_error, {}, {}, xml::ParseError::restricted_xml};
        parser_.feed(text);
        std::vector<xml::Element> found;
        std::optional<xml::ParseError> error;
        while (auto ev = parser_.next()) {
            if (ev->kind == xml::StreamEvent::Kind::error) {
                error = ev->error;
                break;
            }
            if (ev->kind == xml::StreamEvent::Kind::element) found.push_back(std::move(ev->element));
        }
        // §3.3.3: a message is one whole element; a part of one, two, or text is not XML
        // here, and nothing of such a message is taken.
        if (!error && (found.size() != 1 || parser_.depth() > 1)) error = xml::ParseError::not_well_formed;
        if (error) co_return ChannelEvent{K::parse_error, {}, {}, *error};
        xml::Element& e = found.front();
        if (e.name() == "open") {
            // §3.3.2: the stream header, as C2sStream knows it from TCP (in another
            // namespace, it is a header in the wrong one: invalid-namespace).
            xml::Element header{"stream", e.is("open", framing_ns) ? std::string(ns::streams) : std::string(e.xmlns())};
            for (const auto& a : e.attributes()) header.set_attribute(a.name, a.value);
            events_.push_back({K::opened, std::move(header), std::string(ns::client)});
        } else if (e.is("close", framing_ns)) {
            events_.push_back({K::closed});
        } else {
            events_.push_back({K::element, std::move(e)});
        }
    }
}

void WebSocketChannel::set_read_deadline(Clock::time_point deadline) {
    deadline_ = deadline;
    ws_->timer.cancel();
}

void WebSocketChannel::set_idle_timeout(std::chrono::seconds timeout) {
    idle_timeout_ = timeout;
    ws_->timer.cancel();
}

void WebSocketChannel::set_parser_limits(xml::ParserLimits limits) {
    parser_.set_limits(limits);
    ws_->ws.read_message_max(message_cap(limits));
}

void WebSocketChannel::open_stream(const xml::Element& header) {
    // §3.3.2: <open/> carries the header's attributes.
    xml::Element open{"open", std::string(framing_ns)};
    for (const auto& a : header.attributes()) open.set_attribute(a.name, a.value);
    queue(xml::to_string(open));
}

void WebSocketChannel::write(const xml::Element& element) {
    std::string out;
    if (element.xmlns() == ns::streams) {
        // <stream:features/>, <stream:error/>: with the prefix clients look for, declared here
        // since no stream header declares it (§3.3.3, Example 4).
        xml::write(out, element, {"", ns::streams, "stream"});
        std::string declaration = " xmlns:stream='" + std::string(ns::streams) + "'";
        out.insert(1 + std::string_view{"stream:"}.size() + element.name().size(), declaration);
    } else {
        xml::write(out, element);
    }
    queue(std::move(out));
}

void WebSocketChannel::queue(std::string message) {
    if (finished_ || closing_) return;
    out_bytes_ += message.size();
    out_.push_back(std::move(message));
    if (out_bytes_ > options_.max_outbound_queue) {
        // The peer does not read: the stream goes, as on TCP.
        overflow_ = true;
        out_.clear();
        out_bytes_ = 0;
        ws_->ws.next_layer().socket().cancel();
        return;
    }
    wake();
}

void WebSocketChannel::wake() { ws_->wake.cancel(); }

Task<void> WebSocketChannel::write_loop() {
    auto self = shared_from_this();
    boost::system::error_code ec;
    while (!finished_ && !overflow_) {
        if (out_.empty() && !ping_) {
            if (closing_) {
                // §3.6: our <close/> went out; now the WebSocket closing handshake.
                auto [cec] = co_await ws_->ws.async_close(websocket::close_code::normal, asio::as_tuple(asio::use_awaitable));
                finished_ = true;
                break;
            }
            ws_->wake.expires_at(Clock::time_point::max());
            co_await ws_->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        if (ping_) {
            ping_ = false;
            auto [pec] = co_await ws_->ws.async_ping({}, asio::as_tuple(asio::use_awaitable));
            if (pec) break;
            last_write_ = Clock::now();
            continue;
        }
        std::string message = std::move(out_.front());
        out_.pop_front();
        out_bytes_ -= message.size();
        ws_->ws.text(true);
        auto [wec, written] = co_await ws_->ws.async_write(asio::buffer(message), asio::as_tuple(asio::use_awaitable));
        if (wec) break;
        last_write_ = Clock::now();
    }
    finished_ = true;
    out_.clear();
    ws_->timer.cancel();
    boost::system::error_code ignored;
    ws_->ws.next_layer().socket().cancel(ignored);
}

Task<void> WebSocketChannel::timer_loop() {
    auto self = shared_from_this();
    boost::system::error_code ec;
    while (!finished_ && ws_->ws.next_layer().socket().is_open()) {
        auto now = Clock::now();
        bool idle = idle_timeout_.count() && !closing_ && !timed_out_ && now >= last_read_ + idle_timeout_;
        if (now >= deadline_ && closing_) {
            ws_->ws.next_layer().close();
            break;
        }
        if (idle || now >= deadline_) {
            deadline_ = Clock::time_point::max();
            timed_out_ = true;
            ws_->ws.next_layer().socket().cancel(ec);
        }
        auto next = deadline_;
        if (idle_timeout_.count() && !timed_out_) next = std::min(next, last_read_ + idle_timeout_);
        if (keepalives_ && options_.keepalive_interval.count()) {
            // RFC 7395 §3.4: WebSocket pings, not whitespace, keep the connection alive.
            auto due = last_write_ + options_.keepalive_interval;
            if (due <= now) {
                write_keepalive();
                due = now + options_.keepalive_interval;
            }
            next = std::min(next, due);
        }
        ws_->timer.expires_at(next);
        co_await ws_->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

void WebSocketChannel::close_stream() {
    if (closing_ || finished_) return;
    keepalives_ = false;
    queue(xml::to_string(xml::Element{"close", std::string(framing_ns)}));
    closing_ = true;
    set_read_deadline(std::min(deadline_, Clock::now() + close_flush_limit));
    wake();
}

void WebSocketChannel::abort() {
    closing_ = true;
    finished_ = true;
    ws_->ws.next_layer().close();
    ws_->timer.cancel();
    wake();
}

xmpp::sasl::ChannelBindings WebSocketChannel::channel_bindings() const {
    const net::TlsSession* tls = ws_->ws.next_layer().tls();
    return tls ? tls->channel_bindings() : xmpp::sasl::ChannelBindings{};
}

std::vector<std::string> WebSocketChannel::advertised_binding_types() const {
    const net::TlsSession* tls = ws_->ws.next_layer().tls();
    return tls ? tls->advertised_binding_types() : std::vector<std::string>{};
}

std::string WebSocketChannel::security_description() const {
    const net::TlsSession* tls = ws_->ws.next_layer().tls();
    if (!tls) return options_.secure ? "TLS at a trusted proxy" : "none";
    return tls->protocol() + " " + tls->cipher();
}

std::string WebSocketChannel::transport() const {
    return ws_->ws.next_layer().is_secure() ? "WebSocket over TLS" : "WebSocket";
}

}  // namespace starling::server
