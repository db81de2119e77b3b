#pragma once
// What every starling-bench scenario needs: clocks, a latch, logging many accounts in,
// draining sessions, and running a scenario coroutine to its exit status.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "apps/starling-bench/histogram.hpp"
#include "apps/starling-bench/scenarios.hpp"

namespace starling::bench::support {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns();
double cpu_seconds();  // this process, user + system
Task<void> sleep_for(std::chrono::nanoseconds d);

// Counts down; wait() returns once it reaches zero.
class Latch {
public:
    Latch(boost::asio::any_io_executor executor, std::size_t count)
        : timer_{executor, Clock::time_point::max()}, count_{count} {}
    void count_down() {
        if (count_ > 0 && --count_ == 0) timer_.cancel();
    }
    Task<void> wait();

private:
    boost::asio::steady_timer timer_;
    std::size_t count_;
};

client::LoginOptions login_for(const Common& common, std::uint32_t n);
void print_result(std::string_view key, const std::string& value);

struct LoginBatch {
    std::vector<std::shared_ptr<client::Connection>> sessions;  // nullptr where a login failed
    std::size_t failed = 0;
    std::string first_error;
    double seconds = 0;
};
// Logs in accounts first..first+count-1 with at most common.concurrency logins in flight.
Task<LoginBatch> login_many(const Common& common, std::shared_ptr<client::TlsClientContext> tls, std::uint32_t first,
                            std::uint32_t count);

// Reads and drops whatever a session receives, so the server never queues for it.
Task<void> drain(std::shared_ptr<client::Connection> conn);
// Closes every session at once (a server that lingers before closing, as ejabberd does
// for 100 ms, would otherwise cost a second per ten sessions).
Task<void> close_all(const std::vector<std::shared_ptr<client::Connection>>& sessions);

// Open-loop logins: slot k is due at t0 + k/rate until `duration_seconds` have passed, and is
// started on time whatever happened to earlier ones, so a slow server shows as latency and
// skipped slots instead of slowing the schedule down (no coordinated omission).
struct OpenLoop {
    Histogram latency;  // µs from each login's due time to its success
    std::uint64_t completed = 0, failed = 0, skipped = 0;
    std::uint32_t in_flight = 0;
    std::string first_error;
    bool gave_up = false;  // some were still running 30 s after the end
    double seconds = 0;

    // What each started login reports, once.
    void succeeded(std::int64_t due_ns);
    void failed_with(const std::exception& e);
    void finished() { --in_flight; }
    // logins, failed, first_error, <skipped_key>, logins_per_second, latency_p50_ms, _p99_ms.
    void print(const char* skipped_key) const;
};
// `start(slot, due_ns)` spawns that slot's login, which ends with finished(); it returns
// false when the slot cannot start now (counted as skipped, as are slots over
// common.concurrency). A progress line naming `what` goes to stderr once a second.
Task<void> run_open_loop(const Common& common, double rate, double duration_seconds, const char* what, OpenLoop& loop,
                         const std::function<bool(std::int64_t slot, std::int64_t due_ns)>& start);

// Runs the scenario on `io` and returns its status (1 if it threw, said on stderr).
int run(boost::asio::io_context& io, Task<int> scenario);

}  // namespace starling::bench::support
