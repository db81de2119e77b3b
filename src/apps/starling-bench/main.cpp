// starling-bench: an XMPP load generator (any server: Starling, Prosody, ejabberd), built on
// the client library. One thread, many connections, coroutines; messages are sent open-loop
// on a fixed schedule and stamped with the time they were due, so a server that falls behind
// shows as latency instead of slowing the sender down (no coordinated omission).
//
//   starling-bench idle     --sessions 1000 --hold 10
//   starling-bench login    --rate 100 --duration 10
//   starling-bench messages --pairs 500 --rate 5000 --duration 10
//   starling-bench rosters  --user-prefix pres --cyclers 200 --background 500 --contacts 100
//   starling-bench presence --user-prefix pres --cyclers 200 --background 500 --contacts 100 --rate 20
//
// Accounts are <prefix><n> with one password (made beforehand). Results go to stdout as
// "key: value" lines; a progress line goes to stderr once a second.
#include <CLI/CLI.hpp>

#include "apps/starling-bench/scenarios.hpp"

int main(int argc, char** argv) {
    using namespace starling::bench;
    CLI::App app{"starling-bench: XMPP load generator"};
    app.require_subcommand(1);
    Common common;
    bool no_scram_cache = false;
    auto add_common = [&](CLI::App* sub) {
        sub->add_option("--host", common.login.host, "Server address")->capture_default_str();
        sub->add_option("--port", common.login.port, "Client port (STARTTLS)")->capture_default_str();
        sub->add_option("--domain", common.login.domain, "XMPP domain")->capture_default_str();
        sub->add_option("--user-prefix", common.user_prefix, "Accounts are <prefix><n>, n from 1")->capture_default_str();
        sub->add_option("--password", common.login.password, "Password of every account")->required();
        sub->add_option("--concurrency", common.concurrency, "Logins in flight at once")->capture_default_str();
        sub->add_flag("--quiet", common.quiet, "No progress line");
        sub->add_flag("--no-scram-cache", no_scram_cache,
                      "Derive every login's SCRAM keys again (by default each account's are kept, as clients do)");
    };

    IdleOptions idle;
    auto* idle_cmd = app.add_subcommand("idle", "Log N sessions in (roster, presence) and hold them");
    add_common(idle_cmd);
    idle_cmd->add_option("--sessions", idle.sessions, "Sessions to open")->required();
    idle_cmd->add_option("--hold", idle.hold_seconds, "Seconds to keep them open once all are in")->capture_default_str();

    LoginOptions login;
    auto* login_cmd = app.add_subcommand("login", "Complete logins (TLS, SCRAM, bind, roster, presence, close)");
    add_common(login_cmd);
    login_cmd->add_option("--rate", login.rate, "Logins started per second (open loop)")->required();
    login_cmd->add_option("--duration", login.duration_seconds, "Seconds to run")->capture_default_str();
    login_cmd->add_option("--users", login.users, "Accounts to cycle through")->capture_default_str();

    MessageOptions messages;
    auto* messages_cmd = app.add_subcommand("messages", "One-to-one chat between pairs of sessions");
    add_common(messages_cmd);
    messages_cmd->add_option("--pairs", messages.pairs, "Chatting pairs (2 sessions each)")->capture_default_str();
    messages_cmd->add_option("--rate", messages.rate, "Messages per second, all pairs together")->required();
    messages_cmd->add_option("--duration", messages.duration_seconds, "Seconds to measure")->capture_default_str();
    messages_cmd->add_option("--warmup", messages.warmup_seconds, "Seconds to send before measuring")->capture_default_str();
    messages_cmd->add_option("--body-bytes", messages.body_bytes, "Bytes of text per message")->capture_default_str();

    PresenceOptions presence;
    auto add_presence = [&](CLI::App* sub) {
        add_common(sub);
        sub->add_option("--cyclers", presence.cyclers, "Accounts that log in and out: <prefix>1..<prefix>N")->capture_default_str();
        sub->add_option("--background", presence.background, "Always-online contacts, numbered after the cyclers")->capture_default_str();
        sub->add_option("--contacts", presence.contacts, "Contacts in each cycler's roster")->capture_default_str();
    };
    auto* rosters_cmd = app.add_subcommand("rosters", "Make the presence scenario's mutual subscriptions (once per server)");
    add_presence(rosters_cmd);
    rosters_cmd->add_option("--timeout", presence.timeout_seconds, "Seconds the subscriptions may take")->capture_default_str();
    auto* presence_cmd = app.add_subcommand("presence", "Logins of users whose contacts are online (probes, broadcast)");
    add_presence(presence_cmd);
    presence_cmd->add_option("--rate", presence.rate, "Logins started per second (open loop)")->required();
    presence_cmd->add_option("--duration", presence.duration_seconds, "Seconds to run")->capture_default_str();

    CLI11_PARSE(app, argc, argv);
    starling::xmpp::sasl::SaltedPasswordCache scram_cache;
    if (!no_scram_cache) common.login.scram_cache = &scram_cache;
    try {
        if (*idle_cmd) return run_idle(common, idle);
        if (*login_cmd) return run_login(common, login);
        if (*messages_cmd) return run_messages(common, messages);
        if (*rosters_cmd) return run_rosters(common, presence);
        if (*presence_cmd) return run_presence(common, presence);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "starling-bench: %s\n", e.what());
        return 1;
    }
    return 2;
}
