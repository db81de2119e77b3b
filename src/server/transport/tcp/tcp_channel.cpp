#include "server/transport/tcp/tcp_channel.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "base/log.hpp"
#include "net/tls_domains.hpp"
#include "net/tls_session.hpp"
#include "xml/writer.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {
// Grace period for the peer's closing tag after ours (RFC 6120 §4.4).
constexpr auto close_grace = std::chrono::seconds{2};
// Longest a closing connection may take to flush what is queued: a peer that stopped
// reading must not hold its socket and buffers forever.
constexpr auto close_flush_limit = std::chrono::seconds{10};
constexpr std::size_t keep_capacity = 4096;
// After this long without input, a connection gives back its parser's memory.
constexpr auto release_parser_after = std::chrono::seconds{10};

void shrink(std::string& s) {
    if (s.capacity() > keep_capacity) std::string{}.swap(s);
}
}  // namespace

TcpChannel::TcpChannel(asio::ip::tcp::socket socket, const net::TlsDomains& tls, TcpChannelOptions options)
    : socket_{std::move(socket)},
      timer_{socket_.get_executor()},
      tls_domains_{tls},
      parser_{options.limits},
      options_{options},
      deadline_{Clock::time_point::max()},
      last_write_{Clock::now()},
      last_read_{Clock::now()} {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    auto ep = socket_.remote_endpoint(ec);
    remote_ = ec ? "unknown" : ep.address().to_string();
}

TcpChannel::~TcpChannel() = default;

void TcpChannel::start() {
    asio::co_spawn(socket_.get_executor(), [self = shared_from_this()] { return self->timer_loop(); }, asio::detached);
}

Task<ChannelEvent> TcpChannel::read() {
    using K = ChannelEvent::Kind;
    for (;;) {
        if (timed_out_) co_return ChannelEvent{K::timed_out};
        if (overflow_) co_return ChannelEvent{K::overflow};
        if (failed_) co_return ChannelEvent{K::disconnected};
        if (auto ev = parser_.next()) {
            switch (ev->kind) {
                case xml::StreamEvent::Kind::opened:
                    co_return ChannelEvent{K::opened, std::move(ev->element), std::move(ev->default_ns)};
                case xml::StreamEvent::Kind::element:
                    co_return ChannelEvent{K::element, std::move(ev->element)};
                case xml::StreamEvent::Kind::closed:
                    co_return ChannelEvent{K::closed};
                case xml::StreamEvent::Kind::error:
                    co_return ChannelEvent{K::parse_error, {}, {}, ev->error};
            }
        }
        boost::system::error_code ec;
        co_await socket_.async_wait(asio::socket_base::wait_read, asio::redirect_error(asio::use_awaitable, ec));
        if (timed_out_ || overflow_) continue;
        if (ec) {
            failed_ = true;
            continue;
        }
        thread_local char buffer[16 * 1024];
        std::size_t n = socket_.read_some(asio::buffer(buffer), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
        if (ec) {
            failed_ = true;
            continue;
        }
        std::string_view bytes{buffer, n};
        last_read_ = Clock::now();
        if (!tls_) {
            parser_.feed(bytes);
            continue;
        }
        thread_local std::string plaintext;
        plaintext.clear();
        auto status = tls_->feed(bytes, plaintext);
        if (!out_.empty()) queue({});  // handshake records, alerts
        if (status == net::TlsSession::Status::error) {
            log::info("tls failed from {}: {}", remote_, tls_->error());
            failed_ = true;
        } else if (status == net::TlsSession::Status::closed) {
            failed_ = true;
        }
        parser_.feed(plaintext);
        if (plaintext.capacity() > 64 * 1024) std::string{}.swap(plaintext);
    }
}

void TcpChannel::set_read_deadline(Clock::time_point deadline) {
    deadline_ = deadline;
    wake_timer();
}

void TcpChannel::set_idle_timeout(std::chrono::seconds timeout) {
    idle_timeout_ = timeout;
    wake_timer();
}

void TcpChannel::open_stream(const xml::Element& header) {
    // The header is written by hand because it is never closed with the element; its
    // attribute values are escaped like everywhere else.
    std::string out = "<?xml version='1.0'?><stream:stream xmlns='";
    xml::escape_attribute(out, header.xmlns());
    out += "' xmlns:stream='";
    out += ns::streams;
    out += '\'';
    for (const auto& a : header.attributes()) {
        out += ' ';
        out += a.name;
        out += "='";
        xml::escape_attribute(out, a.value);
        out += '\'';
    }
    out += '>';
    queue(out);
}

void TcpChannel::write(const xml::Element& element) {
    thread_local std::string out;
    out.clear();
    xml::write(out, element, {content_namespace(options_.role), ns::streams, "stream"});
    queue(out);
    if (out.capacity() > 64 * 1024) std::string{}.swap(out);
}

void TcpChannel::queue(std::string_view plaintext) {
    if (!socket_.is_open()) return;
    if (tls_) {
        plain_.append(plaintext);
    } else {
        out_.append(plaintext);
    }
    if (out_.size() + plain_.size() > options_.max_outbound_queue) {
        // A client that does not read must not grow our memory (DESIGN.md: bounded queues).
        if (!overflow_) log::info("outbound queue over {} bytes for {}, disconnecting", options_.max_outbound_queue, remote_);
        overflow_ = true;
        out_.clear();
        plain_.clear();
        boost::system::error_code ec;
        socket_.cancel(ec);
        return;
    }
    if (!writing_ && (!out_.empty() || !plain_.empty())) {
        writing_ = true;
        asio::co_spawn(socket_.get_executor(), [self = shared_from_this()] { return self->write_loop(); },
                       asio::detached);
    }
}

void TcpChannel::seal() {
    if (plain_.empty()) return;
    if (tls_ && !tls_->write(plain_)) failed_ = true;  // appends to out_
    plain_.clear();
}

Task<void> TcpChannel::write_loop() {
    boost::system::error_code ec;
    seal();
    while (!out_.empty() && !overflow_) {
        sending_.swap(out_);
        co_await asio::async_write(socket_, asio::buffer(sending_), asio::redirect_error(asio::use_awaitable, ec));
        sending_.clear();
        if (ec) {
            failed_ = true;
            out_.clear();
            socket_.cancel(ec);
            break;
        }
        last_write_ = Clock::now();
        seal();  // what was written meanwhile
    }
    writing_ = false;
    shrink(sending_);
    shrink(out_);
    shrink(plain_);
    if (closing_ && socket_.is_open()) {
        socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
        set_read_deadline(std::min(deadline_, Clock::now() + close_grace));
    }
}

void TcpChannel::close_stream() {
    if (closing_) return;
    keepalives_ = false;
    queue("</stream:stream>");
    if (tls_) {
        seal();  // the stream's last bytes go before the close_notify
        tls_->shutdown();
        queue({});  // the close_notify
    }
    closing_ = true;
    if (!writing_ && socket_.is_open()) {  // nothing left to write
        boost::system::error_code ec;
        socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
        set_read_deadline(std::min(deadline_, Clock::now() + close_grace));
    } else {
        set_read_deadline(std::min(deadline_, Clock::now() + close_flush_limit));
    }
}

void TcpChannel::abort() {
    closing_ = true;
    boost::system::error_code ec;
    socket_.close(ec);
    timer_.cancel();
}

void TcpChannel::restart_stream() {
    // Bytes after the restart point belong to the new stream (a client may pipeline them).
    std::string rest = parser_.reset();
    parser_.feed(rest);
}

void TcpChannel::start_tls(std::string_view domain) {
    parser_.reset();  // RFC 6120 §5.4.3.3: plaintext after <starttls/> is discarded
    // The stream's domain on STARTTLS; SNI may still choose another during the handshake.
    tls_ = std::make_unique<net::TlsSession>(domain.empty() ? tls_domains_.first() : tls_domains_.for_domain(domain), out_);
}

bool TcpChannel::is_secure() const { return tls_ && tls_->handshake_done(); }

xmpp::sasl::ChannelBindings TcpChannel::channel_bindings() const {
    return tls_ ? tls_->channel_bindings() : xmpp::sasl::ChannelBindings{};
}

std::vector<std::string> TcpChannel::advertised_binding_types() const {
    return tls_ ? tls_->advertised_binding_types() : std::vector<std::string>{};
}

std::string TcpChannel::security_description() const {
    return is_secure() ? tls_->protocol() + " " + tls_->cipher() : "plaintext";
}

void TcpChannel::enable_keepalives(bool on) {
    keepalives_ = on && options_.keepalive_interval.count() > 0;
    wake_timer();
}

void TcpChannel::wake_timer() { timer_.cancel(); }

Task<void> TcpChannel::timer_loop() {
    boost::system::error_code ec;
    while (socket_.is_open()) {
        auto now = Clock::now();
        // Reads do not touch the timer (that would cost a wake-up per stanza): the idle
        // deadline is recomputed from last_read_ whenever the timer fires.
        bool idle = idle_timeout_.count() && !closing_ && !timed_out_ && now >= last_read_ + idle_timeout_;
        if (now >= deadline_ && closing_) {
            socket_.close(ec);
            break;
        }
        if (idle || now >= deadline_) {
            deadline_ = Clock::time_point::max();
            timed_out_ = true;
            // Wake the reader so the stream can say connection-timeout. If a write is stuck
            // too, the peer reads nothing: cancelling would cut a TLS record in half, so
            // just close.
            if (writing_) socket_.close(ec);
            else socket_.cancel(ec);
        }
        auto next = deadline_;
        if (idle_timeout_.count() && !timed_out_) next = std::min(next, last_read_ + idle_timeout_);
        if (!parser_.released() && !closing_) {
            if (now >= last_read_ + release_parser_after) parser_.release();
            else next = std::min(next, last_read_ + release_parser_after);
        }
        if (keepalives_) {
            auto due = last_write_ + options_.keepalive_interval;
            if (due <= now) {
                queue(" ");
                due = now + options_.keepalive_interval;
            }
            next = std::min(next, due);
        }
        timer_.expires_at(next);
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

}  // namespace starling::server
