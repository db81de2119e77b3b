#pragma once
// The scenarios of starling-bench (bench/README.md says how the scripts use them).
#include <cstdint>
#include <string>

#include "client/connection.hpp"

namespace starling::bench {

struct Common {
    client::LoginOptions login;
    std::string user_prefix = "user";
    std::uint32_t concurrency = 200;
    bool quiet = false;
};

struct IdleOptions {
    std::uint32_t sessions = 1000;
    double hold_seconds = 0;
};

struct LoginOptions {
    double rate = 50;
    double duration_seconds = 10;
    std::uint32_t users = 1000;
};

struct MessageOptions {
    std::uint32_t pairs = 500;
    double rate = 1000;
    double duration_seconds = 10;
    double warmup_seconds = 2;
    std::uint32_t body_bytes = 40;
};

// Presence accounts: cyclers are <prefix>1..<prefix>cyclers, the always-online background
// accounts follow them. Each cycler's roster holds `contacts` background accounts, with
// mutual subscriptions ("both"), so a cycler's login probes and is answered by that many.
struct PresenceOptions {
    std::uint32_t cyclers = 200;
    std::uint32_t background = 500;
    std::uint32_t contacts = 100;
    double rate = 10;  // cycler logins per second (presence)
    double duration_seconds = 10;
    double timeout_seconds = 600;  // rosters: how long subscriptions may take to complete
};

int run_idle(const Common& common, const IdleOptions& options);
int run_login(const Common& common, const LoginOptions& options);
int run_messages(const Common& common, const MessageOptions& options);
int run_rosters(const Common& common, const PresenceOptions& options);
int run_presence(const Common& common, const PresenceOptions& options);

}  // namespace starling::bench
