#pragma once
// AuthThrottle: slows down password guessing. Failures are counted per IP address and per
// account over a window; past a threshold, failure answers are delayed exponentially up to
// a cap. Only failures are delayed, and nothing is ever locked, so the real user logging in
// from elsewhere with the right password gets in at once. Shared by all shards: auth
// failures are rare, so one mutex is cheaper than routing them to an owner shard.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace starling::server {

class AuthThrottle {
public:
    using Clock = std::chrono::steady_clock;
    AuthThrottle(std::uint32_t failures_before_delay, std::chrono::seconds window, std::chrono::seconds max_delay)
        : threshold_{failures_before_delay}, window_{window}, max_delay_{max_delay} {}

    // Records a failure and returns how long to wait before answering it.
    std::chrono::milliseconds failure(std::string_view ip, std::string_view account);

private:
    struct Count {
        std::uint32_t failures = 0;
        Clock::time_point window_start;
    };
    std::uint32_t bump(std::unordered_map<std::string, Count>& table, std::string_view key, Clock::time_point now);

    std::uint32_t threshold_;
    std::chrono::seconds window_;
    std::chrono::milliseconds max_delay_;
    std::mutex mutex_;
    std::unordered_map<std::string, Count> by_ip_, by_account_;
    Clock::time_point last_prune_;
};

}  // namespace starling::server
