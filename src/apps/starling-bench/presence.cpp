// The presence scenario: users whose rosters hold `contacts` online contacts log in and out.
// Each login costs the server the roster, a probe per contact and the answers, and the
// broadcast of available and then unavailable presence to every contact.
//
// `rosters` makes the subscriptions once, over XMPP, so it works the same on every server:
// everyone asks everyone in their roster (RFC 6121 §3.1.1) and approves every request they
// get (§3.1.4). Run it once, on accounts with empty rosters.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "apps/starling-bench/scenarios.hpp"
#include "apps/starling-bench/support.hpp"

namespace starling::bench {

namespace asio = boost::asio;
using client::Connection;
using namespace support;

namespace {

void check(const PresenceOptions& o) {
    if (o.cyclers == 0 || o.background == 0) throw std::invalid_argument("--cyclers and --background must be at least 1");
    if (o.contacts > o.background) throw std::invalid_argument("--contacts cannot exceed --background");
    if (o.rate <= 0) throw std::invalid_argument("--rate must be positive");
}

// The background accounts (0-based) in cycler k's roster (k from 0): consecutive ones,
// the cyclers' starting points spread evenly over the background.
std::vector<std::uint32_t> contacts_of(const PresenceOptions& o, std::uint32_t k) {
    std::vector<std::uint32_t> out;
    const std::uint64_t start = static_cast<std::uint64_t>(k) * o.background / o.cyclers;
    for (std::uint32_t t = 0; t < o.contacts; ++t) out.push_back(static_cast<std::uint32_t>((start + t) % o.background));
    return out;
}

std::string bare_of(std::string_view jid) { return std::string{jid.substr(0, jid.find('/'))}; }

}  // namespace

// --- rosters ----------------------------------------------------------------------------------

int run_rosters(const Common& common, const PresenceOptions& options) {
    check(options);
    asio::io_context io{1};
    auto tls = client::make_tls_context(false);
    auto scenario = [&]() -> Task<int> {
        auto executor = co_await asio::this_coro::executor;
        const std::uint32_t cyclers = options.cyclers;
        const std::uint32_t total = cyclers + options.background;
        LoginBatch batch = co_await login_many(common, tls, 1, total);
        if (batch.failed) throw std::runtime_error(fmt::format("{} logins failed; the first: {}", batch.failed, batch.first_error));
        auto& s = batch.sessions;
        auto start = Clock::now();

        // Who each session has asked for a subscription (bare JIDs).
        std::vector<std::unordered_set<std::string>> asked(total), approved(total);
        std::uint64_t approvals = 0;
        const std::uint64_t expected = 2ULL * cyclers * options.contacts;
        auto answer = [&](std::uint32_t i) -> Task<void> {
            auto conn = s[i];
            while (auto element = co_await conn->read()) {
                if (element->name() != "presence") continue;
                std::string_view type = element->attribute("type");
                std::string from = bare_of(element->attribute("from"));
                if (type == "subscribe") {
                    std::string reply = fmt::format("<presence to='{}' type='subscribed'/>", from);
                    if (asked[i].insert(from).second) reply += fmt::format("<presence to='{}' type='subscribe'/>", from);
                    conn->send(reply);
                } else if (type == "subscribed" && approved[i].insert(from).second) {
                    ++approvals;  // some servers say it twice when both sides asked at once
                }
            }
        };
        for (std::uint32_t i = 0; i < total; ++i) asio::co_spawn(executor, answer(i), asio::detached);

        // Both sides ask at once, so a pair that is already subscribed completes too.
        std::vector<std::string> requests(total);
        for (std::uint32_t k = 0; k < cyclers; ++k) {
            std::string cycler = bare_of(s[k]->jid());
            for (std::uint32_t b : contacts_of(options, k)) {
                std::string contact = bare_of(s[cyclers + b]->jid());
                if (asked[k].insert(contact).second) requests[k] += fmt::format("<presence to='{}' type='subscribe'/>", contact);
                if (asked[cyclers + b].insert(cycler).second)
                    requests[cyclers + b] += fmt::format("<presence to='{}' type='subscribe'/>", cycler);
            }
        }
        for (std::uint32_t i = 0; i < total; ++i)
            if (!requests[i].empty()) s[i]->send(requests[i]);

        const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.timeout_seconds));
        auto last_progress = Clock::now();
        // A pair subscribed before gets no approval: the server answers for the contact
        // (§3.1.3), but drops that answer as the user asked nothing new (Appendix A.3.3).
        // So a run on rosters already made stalls; after 2 minutes without news it stops.
        std::uint64_t last_count = 0;
        auto last_change = Clock::now();
        while (approvals < expected && Clock::now() < deadline && Clock::now() - last_change < std::chrono::seconds(120)) {
            co_await sleep_for(std::chrono::milliseconds(100));
            if (approvals != last_count) {
                last_count = approvals;
                last_change = Clock::now();
            }
            if (!common.quiet && Clock::now() - last_progress >= std::chrono::seconds(1)) {
                last_progress = Clock::now();
                std::fprintf(stderr, "\rsubscriptions approved: %llu of %llu   ", static_cast<unsigned long long>(approvals),
                             static_cast<unsigned long long>(expected));
            }
        }
        if (!common.quiet) std::fprintf(stderr, "\n");
        double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        print_result("subscriptions", std::to_string(approvals));
        print_result("expected", std::to_string(expected));
        print_result("seconds", fmt::format("{:.1f}", seconds));
        co_await close_all(s);
        if (approvals < expected) {
            std::fprintf(stderr,
                         "starling-bench: only %llu of %llu subscriptions were approved (were the rosters made before?)\n",
                         static_cast<unsigned long long>(approvals), static_cast<unsigned long long>(expected));
            co_return 1;
        }
        co_return 0;
    };
    return run(io, scenario());
}

// --- presence ---------------------------------------------------------------------------------

int run_presence(const Common& common, const PresenceOptions& options) {
    check(options);
    asio::io_context io{1};
    auto tls = client::make_tls_context(false);
    auto scenario = [&]() -> Task<int> {
        auto executor = co_await asio::this_coro::executor;
        LoginBatch batch = co_await login_many(common, tls, options.cyclers + 1, options.background);
        if (batch.failed) throw std::runtime_error(fmt::format("{} logins failed; the first: {}", batch.failed, batch.first_error));

        // Presence the background sessions received from cyclers: available, unavailable, other.
        std::uint64_t broadcast[3] = {};
        auto count_presence = [&broadcast](std::shared_ptr<Connection> conn) -> Task<void> {
            while (auto element = co_await conn->read()) {
                if (element->name() != "presence") continue;
                std::string_view type = element->attribute("type");
                ++broadcast[type.empty() ? 0 : type == "unavailable" ? 1 : 2];
            }
        };
        for (auto& c : batch.sessions) asio::co_spawn(executor, count_presence(c), asio::detached);

        // The background's own logins probed the cyclers, and the answers (unavailable)
        // are still arriving: they must not count as broadcast. Wait for a quiet moment.
        for (int quiet = 0, waited = 0; quiet < 5 && waited < 300; ++waited) {
            std::uint64_t seen = broadcast[0] + broadcast[1] + broadcast[2];
            co_await sleep_for(std::chrono::milliseconds(100));
            quiet = broadcast[0] + broadcast[1] + broadcast[2] == seen ? quiet + 1 : 0;
        }

        OpenLoop loop;
        std::vector<char> busy(options.cyclers, 0);

        // A cycler logs in, and its login counts as done once every contact's presence has
        // arrived (the answers to its probes); then it logs out.
        auto one = [&](std::uint32_t k, std::int64_t due) -> Task<void> {
            auto conn = Connection::create(executor, tls);
            try {
                client::LoginOptions o = login_for(common, k + 1);
                co_await conn->login(std::move(o));
                const std::string own = bare_of(conn->jid());
                std::uint32_t seen = 0;
                while (seen < options.contacts) {
                    auto element = co_await conn->read();
                    if (!element) throw client::ClientError(fmt::format("the session ended after {} of {} contacts' presence", seen, options.contacts));
                    if (element->name() == "presence" && !element->has_attribute("type") &&
                        bare_of(element->attribute("from")) != own)
                        ++seen;
                }
                loop.succeeded(due);
                co_await conn->close();
            } catch (const std::exception& e) {
                loop.failed_with(e);
            }
            busy[k] = 0;
            loop.finished();
        };

        std::printf("measuring\n");
        std::fflush(stdout);
        const double cpu0 = cpu_seconds();
        const std::uint64_t before[3] = {broadcast[0], broadcast[1], broadcast[2]};
        co_await run_open_loop(common, options.rate, options.duration_seconds, "presence logins", loop,
                               [&](std::int64_t slot, std::int64_t due) {
                                   auto k = static_cast<std::uint32_t>(slot % options.cyclers);
                                   if (busy[k]) return false;  // still logging in from last time
                                   busy[k] = 1;
                                   asio::co_spawn(executor, one(k, due), asio::detached);
                                   return true;
                               });
        const double generator_cpu = cpu_seconds() - cpu0;
        std::printf("measured\n");
        loop.print("skipped_busy");
        print_result("contacts", std::to_string(options.contacts));
        const char* kinds[3] = {"available", "unavailable", "other"};
        for (int i = 0; i < 3; ++i)
            print_result(fmt::format("contacts_got_{}_per_login", kinds[i]),
                         fmt::format("{:.1f}", loop.completed ? static_cast<double>(broadcast[i] - before[i]) / static_cast<double>(loop.completed) : 0.0));
        print_result("generator_cpu_seconds", fmt::format("{:.2f}", generator_cpu));
        std::fflush(stdout);
        if (loop.gave_up) co_return 1;  // sessions still waiting would never end
        co_await close_all(batch.sessions);
        co_return loop.failed == 0 ? 0 : 1;
    };
    return run(io, scenario());
}

}  // namespace starling::bench
