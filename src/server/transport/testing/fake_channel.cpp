#include "server/transport/testing/fake_channel.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "xml/writer.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server::testing {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

FakeChannel::FakeChannel(asio::any_io_executor executor, xml::ParserLimits limits)
    : executor_{executor}, wake_{executor}, parser_{limits} {}

void FakeChannel::send_bytes(std::string bytes) {
    asio::post(executor_, [self = shared_from_this(), bytes = std::move(bytes)] {
        self->parser_.feed(bytes);
        self->wake_.cancel();
    });
}

void FakeChannel::hang_up() {
    asio::post(executor_, [self = shared_from_this()] {
        self->hung_up_ = true;
        self->wake_.cancel();
    });
}

std::optional<Written> FakeChannel::next_written(std::chrono::milliseconds timeout) {
    std::unique_lock lock{mutex_};
    if (!written_cv_.wait_for(lock, timeout, [this] { return !written_.empty(); })) return std::nullopt;
    Written w = std::move(written_.front());
    written_.pop_front();
    return w;
}

std::size_t FakeChannel::written_count() const {
    std::lock_guard lock{mutex_};
    return written_total_;
}

bool FakeChannel::closed_by_server() const {
    std::lock_guard lock{mutex_};
    return closed_by_server_;
}

void FakeChannel::record(Written written) {
    {
        std::lock_guard lock{mutex_};
        if (written.kind == Written::Kind::closed) closed_by_server_ = true;
        written_.push_back(std::move(written));
        ++written_total_;
    }
    written_cv_.notify_all();
    last_write_ = Clock::now();
}

Task<ChannelEvent> FakeChannel::read() {
    using K = ChannelEvent::Kind;
    for (;;) {
        if (auto ev = parser_.next()) {
            switch (ev->kind) {
                case xml::StreamEvent::Kind::opened:
                    co_return ChannelEvent{K::opened, std::move(ev->element), std::move(ev->default_ns)};
                case xml::StreamEvent::Kind::element: co_return ChannelEvent{K::element, std::move(ev->element)};
                case xml::StreamEvent::Kind::closed: co_return ChannelEvent{K::closed};
                case xml::StreamEvent::Kind::error: co_return ChannelEvent{K::parse_error, {}, {}, ev->error};
            }
        }
        // A server-side close ends the connection at once, as a client that hangs up on
        // seeing </stream:stream> would.
        if (hung_up_ || closing_) co_return ChannelEvent{K::disconnected};
        if (Clock::now() >= deadline_) co_return ChannelEvent{K::timed_out};
        wake_.expires_at(deadline_);
        boost::system::error_code ec;
        co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

void FakeChannel::set_read_deadline(Clock::time_point deadline) {
    deadline_ = deadline;
    wake_.cancel();
}

void FakeChannel::open_stream(const xml::Element& header) {
    if (closing_) return;
    record({Written::Kind::header, header});
}

void FakeChannel::write(const xml::Element& element) {
    if (closing_) return;
    // Through the real writer and parser, so what the test sees is what a client would.
    std::string text = xml::to_string(element, {content_namespace(StreamRole::client), ns::streams, "stream"});
    xml::StreamParser reader;
    reader.feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
    reader.next();
    reader.feed(text);
    auto parsed = reader.next();
    record({Written::Kind::element, parsed && parsed->kind == xml::StreamEvent::Kind::element ? std::move(parsed->element)
                                                                                             : element});
}

void FakeChannel::close_stream() {
    if (closing_) return;
    closing_ = true;
    record({Written::Kind::closed, {}});
    wake_.cancel();
}

void FakeChannel::abort() { close_stream(); }

void FakeChannel::restart_stream() {
    std::string rest = parser_.reset();
    parser_.feed(rest);
}

}  // namespace starling::server::testing
