#include "apps/starling-bench/scenarios.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "apps/starling-bench/histogram.hpp"
#include "apps/starling-bench/support.hpp"
#include "xml/element.hpp"

namespace starling::bench {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using client::Connection;

using namespace support;


// --- idle -----------------------------------------------------------------------------------

int run_idle(const Common& common, const IdleOptions& options) {
    asio::io_context io{1};
    auto tls = client::make_tls_context(false);
    auto scenario = [&]() -> Task<int> {
        LoginBatch batch = co_await login_many(common, tls, 1, options.sessions);
        for (auto& s : batch.sessions)
            if (s) asio::co_spawn(io, drain(s), asio::detached);
        std::size_t up = batch.sessions.size() - batch.failed;
        print_result("sessions", std::to_string(up));
        print_result("failed", std::to_string(batch.failed));
        if (batch.failed) print_result("first_error", batch.first_error);
        print_result("connect_seconds", fmt::format("{:.2f}", batch.seconds));
        print_result("logins_per_second", fmt::format("{:.0f}", static_cast<double>(up) / batch.seconds));
        std::printf("ready\n");
        std::fflush(stdout);
        co_await sleep_for(std::chrono::nanoseconds(static_cast<std::int64_t>(options.hold_seconds * 1e9)));
        co_return batch.failed == 0 ? 0 : 1;
    };
    return run(io, scenario());
}

// --- login ----------------------------------------------------------------------------------

int run_login(const Common& common, const LoginOptions& options) {
    asio::io_context io{1};
    auto tls = client::make_tls_context(false);
    auto scenario = [&]() -> Task<int> {
        auto executor = co_await asio::this_coro::executor;
        OpenLoop loop;
        double cpu0 = cpu_seconds();
        auto one = [&](std::uint32_t user, std::int64_t due) -> Task<void> {
            auto conn = Connection::create(executor, tls);
            try {
                client::LoginOptions o = login_for(common, user);
                co_await conn->login(std::move(o));
                // The clock stops once the session is up (presence sent): how fast a server
                // closes is not a login (ejabberd 23.01 waits 100 ms before its closing tag).
                loop.succeeded(due);
                co_await conn->close();
            } catch (const std::exception& e) {
                loop.failed_with(e);
            }
            loop.finished();
        };
        co_await run_open_loop(common, options.rate, options.duration_seconds, "logins", loop,
                               [&](std::int64_t slot, std::int64_t due) {
                                   auto user = static_cast<std::uint32_t>(slot % options.users) + 1;
                                   asio::co_spawn(executor, one(user, due), asio::detached);
                                   return true;
                               });
        loop.print("skipped_over_concurrency");
        print_result("generator_cpu_seconds", fmt::format("{:.2f}", cpu_seconds() - cpu0));
        co_return loop.failed == 0 ? 0 : 1;
    };
    return run(io, scenario());
}

// --- messages -------------------------------------------------------------------------------

int run_messages(const Common& common, const MessageOptions& options) {
    asio::io_context io{1};
    auto tls = client::make_tls_context(false);
    auto scenario = [&]() -> Task<int> {
        auto executor = co_await asio::this_coro::executor;
        const std::uint32_t pairs = options.pairs;
        LoginBatch batch = co_await login_many(common, tls, 1, pairs * 2);
        if (batch.failed) throw std::runtime_error(fmt::format("{} logins failed; the first: {}", batch.failed, batch.first_error));
        auto& s = batch.sessions;

        const std::int64_t interval = static_cast<std::int64_t>(1e9 / options.rate);
        const std::int64_t t0 = now_ns() + 50'000'000;
        const std::int64_t window_start = t0 + static_cast<std::int64_t>(options.warmup_seconds * 1e9);
        const std::int64_t window_end = window_start + static_cast<std::int64_t>(options.duration_seconds * 1e9);
        Histogram measured, last_second;
        std::uint64_t sent_in_window = 0, received_in_window = 0, received = 0, sent = 0;
        const std::string padding(options.body_bytes > 20 ? options.body_bytes - 20 : 0, 'x');

        // Each body starts with the time the message was due; its latency is measured from
        // then, not from when it was actually written.
        auto reader = [&](std::shared_ptr<Connection> conn) -> Task<void> {
            while (auto element = co_await conn->read()) {
                if (element->name() != "message") continue;
                const xml::Element* body = element->find_child("body", "jabber:client");
                if (!body) continue;
                std::string text = body->text();
                std::int64_t due = std::strtoll(text.c_str(), nullptr, 10);
                if (due <= 0) continue;
                auto micros = static_cast<std::uint64_t>(std::max<std::int64_t>(0, now_ns() - due) / 1000);
                ++received;
                last_second.record(micros);
                if (due >= window_start && due < window_end) {
                    ++received_in_window;
                    measured.record(micros);
                }
            }
        };
        for (auto& c : s) asio::co_spawn(executor, reader(c), asio::detached);

        double cpu_at_start = 0, cpu_at_end = 0;
        bool in_window = false;
        std::int64_t k = 0, last_progress = t0;
        std::string stanza;
        while (true) {
            std::int64_t now = now_ns();
            if (!in_window && now >= window_start) {
                in_window = true;
                cpu_at_start = cpu_seconds();
                // For whoever samples the server's CPU time over exactly this window.
                std::printf("measuring\n");
                std::fflush(stdout);
            }
            for (; t0 + k * interval <= now && t0 + k * interval < window_end; ++k) {
                std::int64_t due = t0 + k * interval;
                std::uint32_t pair = static_cast<std::uint32_t>(k % pairs);
                bool back = (k / pairs) % 2 == 1;  // the partners take turns
                auto& from = s[back ? pairs + pair : pair];
                auto& to = s[back ? pair : pairs + pair];
                stanza.clear();
                fmt::format_to(std::back_inserter(stanza), "<message to='{}' type='chat'><body>{} {}</body></message>",
                               to->jid(), due, padding);
                from->send(stanza);
                ++sent;
                if (due >= window_start) ++sent_in_window;
            }
            if (now >= window_end && cpu_at_end == 0) {
                cpu_at_end = cpu_seconds();
                std::printf("measured\n");
                std::fflush(stdout);
            }
            if (!common.quiet && now - last_progress >= 1'000'000'000) {
                last_progress = now;
                std::fprintf(stderr, "\r%s sent %llu, received %llu, last second p99 %.1f ms   ",
                             now < window_start ? "warm-up:" : "measuring:", static_cast<unsigned long long>(sent),
                             static_cast<unsigned long long>(received),
                             static_cast<double>(last_second.percentile(0.99)) / 1000);
                last_second.clear();
            }
            // Stragglers get 5 s after the last message was due.
            if (now >= window_end && (received >= sent || now >= window_end + 5'000'000'000LL)) break;
            co_await sleep_for(std::chrono::microseconds(500));
        }
        if (!common.quiet) std::fprintf(stderr, "\n");
        print_result("pairs", std::to_string(pairs));
        print_result("rate_target", fmt::format("{:.0f}", options.rate));
        print_result("sent", std::to_string(sent_in_window));
        print_result("received", std::to_string(received_in_window));
        print_result("lost", std::to_string(sent_in_window - std::min(sent_in_window, received_in_window)));
        print_result("delivered_per_second", fmt::format("{:.0f}", static_cast<double>(received_in_window) / options.duration_seconds));
        print_result("latency_p50_ms", fmt::format("{:.3f}", static_cast<double>(measured.percentile(0.5)) / 1000));
        print_result("latency_p90_ms", fmt::format("{:.3f}", static_cast<double>(measured.percentile(0.9)) / 1000));
        print_result("latency_p99_ms", fmt::format("{:.3f}", static_cast<double>(measured.percentile(0.99)) / 1000));
        print_result("latency_max_ms", fmt::format("{:.3f}", static_cast<double>(measured.max()) / 1000));
        print_result("generator_cpu_seconds", fmt::format("{:.2f}", cpu_at_end - cpu_at_start));
        print_result("generator_cpu_share", fmt::format("{:.2f}", (cpu_at_end - cpu_at_start) / options.duration_seconds));
        co_await close_all(s);
        co_return 0;
    };
    return run(io, scenario());
}

}  // namespace starling::bench
