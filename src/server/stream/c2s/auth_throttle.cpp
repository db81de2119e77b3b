#include "server/stream/c2s/auth_throttle.hpp"

#include <algorithm>

namespace starling::server {

namespace {
constexpr std::size_t prune_above = 10'000;
// Past this many live entries (a distributed attack), a table starts over rather than grow:
// the delay is a courtesy to slow guessing, not something to spend the server's memory on.
constexpr std::size_t hard_cap = 200'000;
constexpr std::chrono::milliseconds first_delay{500};
}  // namespace

std::uint32_t AuthThrottle::bump(std::unordered_map<std::string, Count>& table, std::string_view key,
                                 Clock::time_point now) {
    if (table.size() > prune_above && now - last_prune_ > std::chrono::seconds{1}) {
        last_prune_ = now;  // at most one O(n) sweep per second
        std::erase_if(table, [&](const auto& kv) { return now - kv.second.window_start > window_; });
    }
    if (table.size() > hard_cap) table.clear();
    auto [it, _] = table.try_emplace(std::string(key), Count{0, now});
    if (now - it->second.window_start > window_) it->second = Count{0, now};
    return ++it->second.failures;
}

std::chrono::milliseconds AuthThrottle::failure(std::string_view ip, std::string_view account) {
    auto now = Clock::now();
    std::uint32_t n;
    {
        std::lock_guard lock{mutex_};
        n = std::max(bump(by_ip_, ip, now), account.empty() ? 0u : bump(by_account_, account, now));
    }
    if (n <= threshold_) return std::chrono::milliseconds{0};
    auto shift = std::min<std::uint32_t>(n - threshold_ - 1, 16);
    return std::min(max_delay_, first_delay * (1 << shift));
}

}  // namespace starling::server
