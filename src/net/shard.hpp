#pragma once
// Shards: one thread and one io_context per core; state is owned by exactly one shard and
// other shards reach it by posting (DESIGN.md "Threads"). Shard 0 runs on the thread that
// calls ShardSet::run(), so a one-shard server has a single thread.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace starling::net {

class Shard {
public:
    explicit Shard(std::size_t index) : index_{index} {}
    std::size_t index() const { return index_; }
    boost::asio::io_context& context() { return context_; }
    boost::asio::io_context::executor_type executor() { return context_.get_executor(); }
    // The shard whose thread is running now, or nullptr off-shard (storage, main before run).
    static Shard* current();

private:
    friend class ShardSet;
    std::size_t index_;
    boost::asio::io_context context_{1};  // one thread per context: Asio may skip locking
};

class ShardSet {
public:
    explicit ShardSet(std::size_t count);  // 0: one per hardware thread
    std::size_t size() const { return shards_.size(); }
    Shard& at(std::size_t index) { return *shards_[index]; }
    // The shard that owns a key (an account, a room): stable for the process lifetime.
    std::size_t owner_of(std::size_t hash) const { return hash % shards_.size(); }

    template <class F>
    void post(std::size_t shard, F&& f) {
        boost::asio::post(shards_[shard]->context_, std::forward<F>(f));
    }

    // Runs every shard until stop(), or until release_work() and every shard has run out
    // of work; shard 0 on the calling thread.
    void run();
    // Lets the loops end once their work is done (graceful). Thread-safe.
    void release_work();
    // Ends the loops now, abandoning pending work. Thread-safe.
    void stop();

private:
    using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
    std::vector<std::unique_ptr<Shard>> shards_;
    std::vector<WorkGuard> work_;
    std::vector<std::thread> threads_;
};

}  // namespace starling::net
