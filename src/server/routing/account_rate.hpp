#pragma once
// AccountRate: the stanza budget of one account summed over all its sessions, a token bucket.
// The owner shard makes one per online account and hands it to each session it binds; the
// sessions spend it on their own shards, hence the mutex (uncontended in practice: one
// account's sessions rarely send in the same microsecond).
#include <chrono>
#include <mutex>

namespace starling::server {

class AccountRate {
public:
    AccountRate(double per_second, double burst) : per_second_{per_second}, burst_{burst}, tokens_{burst} {}

    // Spends one stanza; returns how long the sender must wait before it is handled. The
    // token is taken at once, so waiting sessions queue fairly and the debt stays at most
    // one stanza per session.
    std::chrono::nanoseconds spend() {
        auto now = std::chrono::steady_clock::now();
        std::lock_guard lock{mutex_};
        std::chrono::duration<double> elapsed = now - last_;
        last_ = now;
        tokens_ = std::min(burst_, tokens_ + elapsed.count() * per_second_) - 1.0;
        if (tokens_ >= 0) return std::chrono::nanoseconds{0};
        return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(-tokens_ / per_second_));
    }

private:
    std::mutex mutex_;
    double per_second_;
    double burst_;
    double tokens_;
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace starling::server
