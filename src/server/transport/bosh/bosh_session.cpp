#include "server/transport/bosh/bosh_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>
#include <utility>

#include "base/number.hpp"
#include "xml/writer.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

void attribute(std::string& out, std::string_view name, std::string_view value) {
    out += ' ';
    out += name;
    out += "='";
    xml::escape_attribute(out, value);
    out += '\'';
}

std::string qualified(std::string_view ns, std::string_view local) {
    return "{" + std::string(ns) + "}" + std::string(local);
}

}  // namespace

struct BoshSession::Reply {
    Reply(asio::any_io_executor ex, std::uint64_t rid) : timer{ex}, rid{rid} {}
    asio::steady_timer timer;
    std::uint64_t rid;
    std::string body;
    bool done = false;
    bool empty = false;  // answer without payloads (a pause request, §10)
};

BoshSession::BoshSession(asio::any_io_executor executor, std::string sid, BoshOptions options)
    : timer_{executor},
      wake_{executor},
      sid_{std::move(sid)},
      options_{std::move(options)},
      deadline_{Clock::time_point::max()},
      last_answer_{Clock::now()},
      last_request_{Clock::now()} {}

BoshSession::~BoshSession() = default;

std::string BoshSession::terminate(std::string_view condition) {
    std::string out = "<body";
    attribute(out, "xmlns", httpbind_ns);
    attribute(out, "type", "terminate");
    if (!condition.empty()) attribute(out, "condition", condition);
    return out + "/>";
}

Task<std::string> BoshSession::handle(BoshBody body) {
    auto self = shared_from_this();
    last_request_ = Clock::now();
    if (finished_) co_return terminate(terminal_.empty() ? "item-not-found" : terminal_);
    auto rid = parse_number<std::uint64_t>(body.wrapper.attribute("rid"));
    if (!rid) {  // §14.1: every request has one
        end("bad-request");
        co_return terminate("bad-request");
    }
    if (next_rid_ == 0) {
        if (auto refusal = creation(body); !refusal.empty()) co_return refusal;
        take(*rid, std::move(body));
    } else if (*rid < next_rid_) {
        // §14.3: a request sent again gets the same answer; one long gone ends the session.
        if (auto it = answered_.find(*rid); it != answered_.end()) co_return it->second;
        auto waiting = std::find_if(held_.begin(), held_.end(), [&](const auto& r) { return r->rid == *rid; });
        if (waiting == held_.end()) {
            end("item-not-found");
            co_return terminate("item-not-found");
        }
        // Still held: the earlier copy is answered empty, this one waits in its place.
        auto old = *waiting;
        old->body = "<body xmlns='" + std::string(httpbind_ns) + "'/>";
        old->done = true;
        old->timer.cancel();
        held_.erase(waiting);
    } else if (*rid >= next_rid_ + requests_) {
        end("item-not-found");  // §14.2: beyond the window
        co_return terminate("item-not-found");
    } else if (*rid > next_rid_) {
        early_.emplace(*rid, std::move(body));  // a lower one is still on its way
    } else {
        take(*rid, std::move(body));
    }
    while (!early_.empty() && early_.begin()->first == next_rid_) {
        auto node = early_.extract(early_.begin());
        take(node.key(), std::move(node.mapped()));
    }

    auto reply = std::make_shared<Reply>(timer_.get_executor(), *rid);
    auto place = std::find_if(held_.begin(), held_.end(), [&](const auto& r) { return r->rid > *rid; });
    held_.insert(place, reply);
    flush();
    if (!reply->done) {
        // §8: held until something comes for the client, at most 'wait' seconds.
        reply->timer.expires_after(wait_);
        boost::system::error_code ec;
        co_await reply->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        while (!reply->done && !held_.empty()) answer(*held_.front(), true);
    }
    co_return reply->body;
}

std::string BoshSession::creation(BoshBody& body) {
    const xml::Element& w = body.wrapper;
    // §7.1: what the client asks for, within what this server allows.
    auto wait = parse_number<std::uint64_t>(w.attribute("wait"));
    auto hold = parse_number<std::uint64_t>(w.attribute("hold"));
    if (!wait || !hold) {
        end("bad-request");
        return terminate("bad-request");
    }
    wait_ = std::chrono::seconds{std::min<std::uint64_t>(*wait, options_.max_wait.count())};
    hold_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(*hold, options_.max_hold));
    requests_ = hold_ + 1;
    inactivity_ = options_.inactivity;
    to_ = std::string(w.attribute("to"));
    lang_ = std::string(w.attribute("xml:lang"));
    acks_ = w.attribute("ack") == "1";
    if (to_.empty()) {  // §17.2: improper-addressing
        end("improper-addressing");
        return terminate("improper-addressing");
    }
    return {};
}

void BoshSession::take(std::uint64_t rid, BoshBody body) {
    next_rid_ = rid + 1;
    const xml::Element& w = body.wrapper;
    if (!header_pushed_ || w.attribute(qualified(xbosh_ns, "restart")) == "true") {
        header_pushed_ = true;
        // XEP-0206 §3, §5: the stream header the client would have sent.
        xml::Element header{"stream", std::string(ns::streams)};
        header.set_attribute("to", to_);
        std::string_view version = w.attribute(qualified(xbosh_ns, "version"));
        header.set_attribute("version", version.empty() ? "1.0" : version);
        if (!lang_.empty()) header.set_attribute("xml:lang", lang_);
        if (!w.attribute("from").empty()) header.set_attribute("from", w.attribute("from"));
        push({ChannelEvent::Kind::opened, std::move(header), std::string(ns::client)});
    }
    for (auto& payload : body.payloads) {
        if (xml::to_string(payload).size() > options_.limits.max_element_bytes) {
            push({ChannelEvent::Kind::parse_error, {}, {}, xml::ParseError::too_large});
            break;
        }
        push({ChannelEvent::Kind::element, std::move(payload)});
    }
    // §9.2: the client has the answers up to its 'ack'; they need not be kept.
    // (The creation request's ack='1' only asks for acknowledgements.)
    if (auto ack = parse_number<std::uint64_t>(w.attribute("ack")); ack && acks_ && created_answered_)
        answered_.erase(answered_.begin(), answered_.upper_bound(*ack));
    if (auto pause = parse_number<std::uint64_t>(w.attribute("pause"))) {
        // §10: every held request goes back now, and the session may sleep that long.
        if (std::chrono::seconds{*pause} <= options_.max_pause) {
            inactivity_ = std::chrono::seconds{*pause};
            while (!held_.empty()) answer(*held_.front(), true);
        }
    } else {
        inactivity_ = options_.inactivity;
    }
    if (w.attribute("type") == "terminate") push({ChannelEvent::Kind::closed});  // §13
}

void BoshSession::push(ChannelEvent event) {
    events_.push_back(std::move(event));
    wake_.cancel();
}

Task<ChannelEvent> BoshSession::read() {
    using K = ChannelEvent::Kind;
    auto self = shared_from_this();
    if (!timer_started_) {
        timer_started_ = true;
        asio::co_spawn(timer_.get_executor(), [self] { return self->timer_loop(); }, asio::detached);
    }
    for (;;) {
        if (!events_.empty()) {
            ChannelEvent event = std::move(events_.front());
            events_.pop_front();
            co_return event;
        }
        if (timed_out_) co_return ChannelEvent{K::timed_out};
        if (overflow_) co_return ChannelEvent{K::overflow};
        if (finished_) co_return ChannelEvent{K::disconnected};
        wake_.expires_at(Clock::time_point::max());
        boost::system::error_code ec;
        co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

void BoshSession::set_read_deadline(Clock::time_point deadline) {
    deadline_ = deadline;
    timer_.cancel();
}

void BoshSession::set_idle_timeout(std::chrono::seconds timeout) {
    idle_timeout_ = timeout;
    timer_.cancel();
}

void BoshSession::open_stream(const xml::Element& header) {
    // The creation response carries what a stream header would (XEP-0206 §4).
    stream_id_ = std::string(header.attribute("id"));
    from_ = std::string(header.attribute("from"));
}

void BoshSession::write(const xml::Element& element) {
    if (finished_ || closing_) return;
    if (element.is("error", ns::streams)) terminal_ = "remote-stream-error";  // §17.2
    xml::write(out_, element, {httpbind_ns, ns::streams, "stream"});
    ++out_elements_;
    if (out_.size() > options_.max_outbound_queue) {
        overflow_ = true;
        out_.clear();
        wake_.cancel();
        return;
    }
    if (!flush_posted_) {
        // What is written in one go (a header's features, a roster push's stanzas) goes in
        // one answer.
        flush_posted_ = true;
        asio::post(timer_.get_executor(), [self = shared_from_this()] {
            self->flush_posted_ = false;
            self->flush();
        });
    }
}

void BoshSession::flush() {
    // §8: no more than 'hold' requests wait; the rest go back, in order.
    while (held_.size() > hold_) answer(*held_.front(), true);
    if ((!out_.empty() || closing_) && !held_.empty()) answer(*held_.front(), true);
    if (closing_)
        while (!held_.empty()) answer(*held_.front(), false);  // §13: the others answered empty
    if (hold_ == 0 || wait_.count() == 0)  // a polling session (§12): nothing is held
        while (!held_.empty()) answer(*held_.front(), true);
}

void BoshSession::answer(Reply& reply, bool with_payloads) {
    bool terminating = closing_ && with_payloads;
    std::string body = wrapper_start(terminating, terminal_, reply.rid);
    if (with_payloads && !out_.empty()) {
        body += '>';
        body += out_;
        body += "</body>";
        out_.clear();
        out_elements_ = 0;
    } else {
        body += "/>";
    }
    reply.body = std::move(body);
    reply.done = true;
    reply.timer.cancel();
    answered_[reply.rid] = reply.body;
    while (answered_.size() > requests_) answered_.erase(answered_.begin());
    held_.erase(std::find_if(held_.begin(), held_.end(), [&](const auto& r) { return r.get() == &reply; }));
    last_answer_ = Clock::now();
    if (terminating) finish();
}

void BoshSession::finish() {
    if (finished_) return;
    finished_ = true;
    wake_.cancel();
    timer_.cancel();
    if (on_finished) std::exchange(on_finished, nullptr)();
}

std::string BoshSession::wrapper_start(bool terminating, std::string_view condition, std::uint64_t rid) {
    std::string out = "<body";
    attribute(out, "xmlns", httpbind_ns);
    // §9.1: the highest rid taken with every lower one, when it is not the one answered
    // (in the creation response, always).
    if (acks_ && next_rid_ > 0 && (!created_answered_ || next_rid_ - 1 != rid)) attribute(out, "ack", std::to_string(next_rid_ - 1));
    if (!created_answered_) {
        // §7.2, XEP-0206 §4: the session's terms, once.
        created_answered_ = true;
        attribute(out, "xmlns:xmpp", xbosh_ns);
        attribute(out, "sid", sid_);
        attribute(out, "wait", std::to_string(wait_.count()));
        attribute(out, "requests", std::to_string(requests_));
        attribute(out, "hold", std::to_string(hold_));
        attribute(out, "inactivity", std::to_string(options_.inactivity.count()));
        attribute(out, "maxpause", std::to_string(options_.max_pause.count()));
        attribute(out, "polling", "2");
        attribute(out, "ver", "1.11");
        if (!from_.empty()) attribute(out, "from", from_);
        attribute(out, "xmpp:version", "1.0");
        attribute(out, "xmpp:restartlogic", "true");
        if (!stream_id_.empty()) attribute(out, "authid", stream_id_);
    }
    attribute(out, "xmlns:stream", ns::streams);
    if (terminating) {
        attribute(out, "type", "terminate");
        if (!condition.empty()) attribute(out, "condition", condition);
    }
    return out;
}

void BoshSession::end(std::string_view condition) {
    if (finished_) return;
    terminal_ = std::string(condition);
    closing_ = true;
    out_.clear();
    while (!held_.empty()) answer(*held_.front(), true);
    finish();
}

void BoshSession::close_stream() {
    if (closing_ || finished_) return;
    closing_ = true;
    flush();  // the oldest held request, if any, carries the end; else the next one will
}

void BoshSession::abort() { end({}); }

Task<void> BoshSession::timer_loop() {
    auto self = shared_from_this();
    boost::system::error_code ec;
    while (!finished_) {
        auto now = Clock::now();
        // §10: nobody has asked anything for 'inactivity' seconds (or the pause).
        if (held_.empty() && now >= last_answer_ + inactivity_ && now >= last_request_ + inactivity_) {
            finish();
            break;
        }
        bool idle = idle_timeout_.count() && now >= last_request_ + idle_timeout_;
        if (!timed_out_ && (idle || now >= deadline_)) {
            timed_out_ = true;
            deadline_ = Clock::time_point::max();
            wake_.cancel();
        }
        auto next = held_.empty() ? std::max(last_answer_, last_request_) + inactivity_ : now + inactivity_;
        if (deadline_ != Clock::time_point::max()) next = std::min(next, deadline_);
        if (idle_timeout_.count() && !timed_out_) next = std::min(next, last_request_ + idle_timeout_);
        timer_.expires_at(next);
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

}  // namespace starling::server
