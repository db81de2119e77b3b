#include "net/shard.hpp"


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
    for (auto& s : shards_) work_.push_back(boost::asio::make_work_guard(s->context_));
    auto run_one = [](Shard& shard) {
        current_shard = &shard;
        shard.context_.run();
        current_shard = nullptr;
    };
    for (std::size_t i = 1; i < shards_.size(); ++i)
        threads_.emplace_back([&, i] { run_one(*shards_[i]); });
    run_one(*shards_[0]);
    for (auto& t : threads_) t.join();
    threads_.clear();
}

void ShardSet::release_work() {
    for (auto& w : work_) w.reset();
}

void ShardSet::stop() {
    for (auto& s : shards_) s->context_.stop();
}

}  // namespace starling::net
