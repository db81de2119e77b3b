#include "apps/starling-bench/support.hpp"

#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>

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
