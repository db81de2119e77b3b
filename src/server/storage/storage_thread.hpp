#pragma once
// StorageThread: the one thread that touches the SQLite database while the server runs.
// Shards call run(), which hops there, does the work and resumes the caller on its own
// shard, so a slow disk never blocks a shard's event loop.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <filesystem>
#include <memory>
#include <thread>

#include "net/task.hpp"
#include "server/storage/database.hpp"

namespace starling::storage {

class StorageThread {
public:
    explicit StorageThread(const std::filesystem::path& file);
    ~StorageThread();

    // Runs f(Database&) on the storage thread; exceptions propagate to the awaiting caller.
    // (Named locals rather than temporaries inside co_await: g++ 12 destroys such
    // temporaries twice.)
    template <class F>
    auto run(F f) -> Task<decltype(f(std::declval<Database&>()))> {
        using R = decltype(f(std::declval<Database&>()));
        auto work = [this, f = std::move(f)]() mutable -> Task<R> { co_return f(*db_); };
        R result = co_await boost::asio::co_spawn(context_, std::move(work), boost::asio::use_awaitable);
        co_return result;
    }
    // For start-up work before the shards run.
    Database& database_for_startup() { return *db_; }
    void stop();

private:
    std::unique_ptr<Database> db_;
    boost::asio::io_context context_{1};
    std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::thread thread_;
};

}  // namespace starling::storage
