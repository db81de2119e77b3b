#include "apps/starling-bench/support.hpp"

#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

namespace starling::bench::support {

namespace asio = boost::asio;
using client::Connection;

std::int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return secs(usage.ru_utime) + secs(usage.ru_stime);
}

Task<void> sleep_for(std::chrono::nanoseconds d) {
    asio::steady_timer timer{co_await asio::this_coro::executor, d};
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

Task<void> Latch::wait() {
    while (count_ > 0) {
        boost::system::error_code ec;
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

client::LoginOptions login_for(const Common& common, std::uint32_t n) {
    client::LoginOptions o = common.login;
    o.username = common.user_prefix + std::to_string(n);
    return o;
}

void print_result(std::string_view key, const std::string& value) { std::printf("%.*s: %s\n", int(key.size()), key.data(), value.c_str()); }

Task<LoginBatch> login_many(const Common& common, std::shared_ptr<client::TlsClientContext> tls, std::uint32_t first,
                            std::uint32_t count) {
    auto executor = co_await asio::this_coro::executor;
    LoginBatch batch;
    batch.sessions.resize(count);
    std::uint32_t next = 0;
    std::uint32_t workers = std::min(common.concurrency, count);
    Latch done{executor, workers};
    auto start = Clock::now();
    auto worker = [&]() -> Task<void> {
        while (next < count) {
            std::uint32_t i = next++;
            auto conn = Connection::create(executor, tls);
            try {
                client::LoginOptions o = login_for(common, first + i);
                co_await conn->login(std::move(o));
                batch.sessions[i] = conn;
            } catch (const std::exception& e) {
                if (batch.failed++ == 0) batch.first_error = e.what();
            }
        }
        done.count_down();
    };
    for (std::uint32_t w = 0; w < workers; ++w) asio::co_spawn(executor, worker, asio::detached);
    co_await done.wait();
    batch.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    co_return batch;
}

Task<void> drain(std::shared_ptr<Connection> conn) {
    while (auto element = co_await conn->read()) {
    }
}

Task<void> close_all(const std::vector<std::shared_ptr<Connection>>& sessions) {
    auto executor = co_await asio::this_coro::executor;
    Latch closed{executor, sessions.size()};
    auto close_one = [&closed](std::shared_ptr<Connection> c) -> Task<void> {
        if (c) co_await c->close();
        closed.count_down();
    };
    for (const auto& c : sessions) asio::co_spawn(executor, close_one(c), asio::detached);
    co_await closed.wait();
}

void OpenLoop::succeeded(std::int64_t due_ns) {
    latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now_ns() - due_ns) / 1000));
    ++completed;
}

void OpenLoop::failed_with(const std::exception& e) {
    if (failed++ == 0) first_error = e.what();
}

void OpenLoop::print(const char* skipped_key) const {
    print_result("logins", std::to_string(completed));
    print_result("failed", std::to_string(failed));
    if (failed) print_result("first_error", first_error);
    print_result(skipped_key, std::to_string(skipped));
    print_result("logins_per_second", fmt::format("{:.1f}", static_cast<double>(completed) / seconds));
    print_result("latency_p50_ms", fmt::format("{:.2f}", static_cast<double>(latency.percentile(0.5)) / 1000));
    print_result("latency_p99_ms", fmt::format("{:.2f}", static_cast<double>(latency.percentile(0.99)) / 1000));
}

Task<void> run_open_loop(const Common& common, double rate, double duration_seconds, const char* what, OpenLoop& loop,
                         const std::function<bool(std::int64_t slot, std::int64_t due_ns)>& start) {
    const auto interval = static_cast<std::int64_t>(1e9 / rate);
    const std::int64_t t0 = now_ns() + 10'000'000;
    const std::int64_t end = t0 + static_cast<std::int64_t>(duration_seconds * 1e9);
    std::int64_t slot = 0, last_progress = t0;
    while (true) {
        std::int64_t now = now_ns();
        for (; t0 + slot * interval <= now && t0 + slot * interval < end; ++slot) {
            // Refused slots mean the server is too slow for this rate: reported, not hidden.
            if (loop.in_flight >= common.concurrency || !start(slot, t0 + slot * interval)) {
                ++loop.skipped;
                continue;
            }
            ++loop.in_flight;
        }
        if (!common.quiet && now - last_progress >= 1'000'000'000) {
            last_progress = now;
            std::fprintf(stderr, "\r%s: %llu done, %u in flight, %llu failed   ", what,
                         static_cast<unsigned long long>(loop.completed), loop.in_flight,
                         static_cast<unsigned long long>(loop.failed));
        }
        if (now >= end && loop.in_flight == 0) break;
        if (now >= end + 30'000'000'000LL) {  // stragglers after 30 s: given up, and failed
            loop.gave_up = true;
            loop.failed += loop.in_flight;
            if (loop.first_error.empty()) loop.first_error = "no answer within 30 s";
            break;
        }
        co_await sleep_for(std::chrono::milliseconds(1));
    }
    loop.seconds = static_cast<double>(now_ns() - t0) / 1e9;
    if (!common.quiet) std::fprintf(stderr, "\n");
}

int run(asio::io_context& io, Task<int> scenario) {
    int status = 1;
    asio::co_spawn(io, std::move(scenario), [&](std::exception_ptr e, int result) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                std::fprintf(stderr, "starling-bench: %s\n", ex.what());
            }
            io.stop();
            return;
        }
        status = result;
        io.stop();
    });
    io.run();
    return status;
}


}  // namespace starling::bench::support
