#pragma once
// BoshSession: XMPP over BOSH (XEP-0124, XEP-0206) as an ElementChannel, so a BOSH client's
// stream runs through the very C2sStream a TCP client's does. A session lives on the shard
// that created it (its sid names that shard); each HTTP request, wherever it arrives, is
// handed to handle() there and waits for its answer. Requests are taken in 'rid' order
// (§14.2), each one's payloads become stream events, and answers go back in order: at once
// when something is queued for the client, else after 'wait' seconds, with at most 'hold'
// requests waiting (§8). The last answers are kept for a request sent again (§14.3). A
// session nobody asks anything of for 'inactivity' seconds is over (§10).
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "server/transport/element_channel.hpp"

namespace starling::server {

inline constexpr std::string_view httpbind_ns = "http://jabber.org/protocol/httpbind";
inline constexpr std::string_view xbosh_ns = "urn:xmpp:xbosh";

struct BoshOptions {
    xml::ParserLimits limits;             // of the stream's elements, until C2sStream changes them
    std::size_t max_outbound_queue = 1024 * 1024;
    std::chrono::seconds max_wait{60};    // the longest a request is held
    std::chrono::seconds inactivity{60};  // §10
    std::chrono::seconds max_pause{120};  // §10: the longest pause a client may ask for
    std::uint32_t max_hold = 1;           // requests held at once (a client may ask fewer)
    std::string remote;
    bool secure = false;
};

// One HTTP request's <body/>: its attributes and its payloads, as parsed on arrival.
struct BoshBody {
    xml::Element wrapper{"body", std::string(httpbind_ns)};  // no children
    std::vector<xml::Element> payloads;
};

class BoshSession final : public ElementChannel, public std::enable_shared_from_this<BoshSession> {
public:
    BoshSession(boost::asio::any_io_executor executor, std::string sid, BoshOptions options);
    ~BoshSession() override;
    const std::string& sid() const { return sid_; }
    // On the session's shard: takes one request and completes with the <body/> to answer it.
    Task<std::string> handle(BoshBody body);
    // The answer to a request for a session that does not exist (§14.3, §17.2: item-not-found).
    static std::string terminate(std::string_view condition);

    Task<ChannelEvent> read() override;
    void set_read_deadline(std::chrono::steady_clock::time_point deadline) override;
    void set_idle_timeout(std::chrono::seconds timeout) override;
    void enable_keepalives(bool) override {}  // a held request is the keepalive
    void open_stream(const xml::Element& header) override;
    void write(const xml::Element& element) override;
    void write_keepalive() override {}
    void close_stream() override;
    void abort() override;
    std::chrono::steady_clock::time_point last_write() const override { return last_answer_; }
    void restart_stream() override {}  // XEP-0206 §5: the client asks with xmpp:restart
    void set_parser_limits(xml::ParserLimits limits) override { options_.limits = limits; }
    bool can_start_tls() const override { return false; }
    void start_tls(std::string_view) override {}
    bool is_secure() const override { return options_.secure; }
    xmpp::sasl::ChannelBindings channel_bindings() const override { return {}; }
    std::vector<std::string> advertised_binding_types() const override { return {}; }
    std::string security_description() const override { return options_.secure ? "HTTPS" : "none"; }
    const std::string& remote_address() const override { return options_.remote; }
    std::string transport() const override { return options_.secure ? "BOSH over HTTPS" : "BOSH"; }
    bool finished() const { return finished_; }
    // Called once when the session is over (its shard's table lets go of it).
    std::function<void()> on_finished;

private:
    struct Reply;
    std::string creation(BoshBody& body);                 // §7.1: the first request
    void take(std::uint64_t rid, BoshBody body);          // in rid order
    void answer(Reply& reply, bool with_payloads);        // the oldest held request's answer
    void flush();                                         // answers what the queue and 'hold' allow
    void end(std::string_view condition);                 // the session is over
    void push(ChannelEvent event);
    void finish();
    Task<void> timer_loop();
    std::string wrapper_start(bool terminate, std::string_view condition, std::uint64_t rid);

    boost::asio::steady_timer timer_;  // inactivity, deadlines
    boost::asio::steady_timer wake_;   // the reader waits here
    std::string sid_;
    BoshOptions options_;
    // Negotiated at creation (§7.2).
    std::chrono::seconds wait_{60};
    std::uint32_t hold_ = 1;
    std::uint32_t requests_ = 2;
    std::string to_, lang_;
    std::chrono::seconds inactivity_{60};

    std::uint64_t next_rid_ = 0;                   // the rid to take next
    std::map<std::uint64_t, BoshBody> early_;      // arrived before a lower rid (§14.2)
    std::deque<std::shared_ptr<Reply>> held_;      // in rid order
    std::map<std::uint64_t, std::string> answered_;  // the last answers, for resent requests (§14.3)
    std::string out_;                              // payloads for the client, serialized
    std::size_t out_elements_ = 0;
    std::deque<ChannelEvent> events_;              // for read()
    bool created_answered_ = false;                // the creation response is out
    std::string stream_id_, from_;
    std::string terminal_;                         // the condition of our closing, once closing
    bool closing_ = false;
    bool finished_ = false;
    bool timed_out_ = false;
    bool overflow_ = false;
    bool flush_posted_ = false;
    bool timer_started_ = false;
    bool header_pushed_ = false;
    bool acks_ = false;  // §9.1: the client asked for request acknowledgements
    std::chrono::steady_clock::time_point deadline_;
    std::chrono::steady_clock::time_point last_answer_;
    std::chrono::steady_clock::time_point last_request_;
    std::chrono::seconds idle_timeout_{0};
};

}  // namespace starling::server
