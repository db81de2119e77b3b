#pragma once
// FakeChannel: an ElementChannel with no socket, for in-process tests. The test (any thread)
// hands it the bytes a client would send; the real stream parser turns them into events for
// the stream; what the stream writes comes back to the test as elements, in order. It
// reports itself secure (as if TLS were done) with no channel bindings, so the stream offers
// PLAIN and SCRAM without -PLUS. The channel lives on its stream's shard; send_bytes(),
// next_written() and written_count() are the thread-safe side the test uses.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "server/transport/element_channel.hpp"

namespace starling::server::testing {

// What the stream wrote, as the test sees it: a header, an element, or the stream's end.
struct Written {
    enum class Kind { header, element, closed };
    Kind kind;
    xml::Element element;  // header: the root start tag's attributes; element: the element
};

class FakeChannel final : public ElementChannel, public std::enable_shared_from_this<FakeChannel> {
public:
    explicit FakeChannel(boost::asio::any_io_executor executor, xml::ParserLimits limits = {});

    // --- the test's side, any thread ---
    // Bytes as the client would write them; parsed on the channel's shard.
    void send_bytes(std::string bytes);
    // The client hangs up: the stream reads 'disconnected'.
    void hang_up();
    // The next thing the stream wrote, waiting up to `timeout` for it.
    std::optional<Written> next_written(std::chrono::milliseconds timeout);
    std::size_t written_count() const;
    bool closed_by_server() const;

    // --- ElementChannel, on the shard ---
    Task<ChannelEvent> read() override;
    void set_read_deadline(std::chrono::steady_clock::time_point deadline) override;
    void set_idle_timeout(std::chrono::seconds) override {}
    void enable_keepalives(bool) override {}
    void open_stream(const xml::Element& header) override;
    void write(const xml::Element& element) override;
    void write_keepalive() override {}
    void close_stream() override;
    void abort() override;
    std::chrono::steady_clock::time_point last_write() const override { return last_write_; }
    void restart_stream() override;
    void set_parser_limits(xml::ParserLimits limits) override { parser_.set_limits(limits); }
    bool can_start_tls() const override { return false; }
    void start_tls(std::string_view) override {}
    bool is_secure() const override { return true; }
    xmpp::sasl::ChannelBindings channel_bindings() const override { return {}; }
    std::vector<std::string> advertised_binding_types() const override { return {}; }
    std::string security_description() const override { return "in-process"; }
    const std::string& remote_address() const override { return remote_; }

private:
    void record(Written written);

    boost::asio::any_io_executor executor_;
    boost::asio::steady_timer wake_;
    xml::StreamParser parser_;
    std::string remote_ = "in-process";
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
    bool hung_up_ = false;
    bool closing_ = false;

    mutable std::mutex mutex_;  // guards the written side
    std::condition_variable written_cv_;
    std::deque<Written> written_;
    std::size_t written_total_ = 0;
    bool closed_by_server_ = false;
};

}  // namespace starling::server::testing
