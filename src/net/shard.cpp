#include "net/shard.hpp"

#include <boost/asio/executor_work_guard.hpp>

namespace starling::net {

namespace {
thread_local Shard* current_shard = nullptr;
}

Shard* Shard::current() { return current_shard; }

ShardSet::ShardSet(std::size_t count) {
    if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
    for (std::size_t i = 0; i < count; ++i) shards_.push_back(std::make_unique<Shard>(i));
}

void ShardSet::run() {
    auto run_one = [](Shard& shard) {
        current_shard = &shard;
        auto guard = boost::asio::make_work_guard(shard.context_);
        shard.context_.run();
        current_shard = nullptr;
    };
    for (std::size_t i = 1; i < shards_.size(); ++i)
        threads_.emplace_back([&, i] { run_one(*shards_[i]); });
    run_one(*shards_[0]);
    for (auto& t : threads_) t.join();
    threads_.clear();
}

void ShardSet::stop() {
    for (auto& s : shards_) s->context_.stop();
}

}  // namespace starling::net
