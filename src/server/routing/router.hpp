#pragma once
// Router: decides where a stanza goes (RFC 6120 §10, RFC 6121 §8) and carries it there.
// One Router per shard, for every served domain (a Host each). Its destinations, by the
// 'to' address:
//   - a served domain: that host's modules, where the stanza arrives;
//   - an account at a served domain: hops to the account's owner shard, where the
//     account's UserHome says which resources get it; each delivery then hops to the
//     connection's shard;
//   - a service domain a module serves (Service): its modules where the stanza arrives;
//   - an entity in a service domain (name@service[/resource]): hops to the shard that owns
//     the entity's bare JID, to the service's entity handler there;
//   - anything else: a remote domain (no federation yet: remote-server-not-found).
// Events about an account fire on its own domain's Host: a stanza from alice@a.test to
// bob@b.test passes a.test's modules on the way out and b.test's on the way in, as if the
// two domains were two servers that trust each other.
// Replies to iqs a module sent (query()) go back to the shard that waits for them.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>

#include "server/module/available_resource.hpp"
#include "server/routing/pending_iqs.hpp"
#include "server/routing/user_home.hpp"
#include "xmpp/stanza.hpp"
#include "xmpp/stream_error.hpp"

namespace starling::server {

class Server;
class Host;
class C2sStream;
class IqTable;
class Session;
struct Service;
enum class To;

class Router {
public:
    Router(Server& server, const std::vector<std::unique_ptr<Host>>& hosts, std::size_t shard);

    // Any stanza with 'from' set, on this shard.
    void route(xmpp::Stanza stanza);
    // A stanza a client's session sent ('from' stamped, StanzaFromClient passed), on the
    // session's shard: presence is classified here, for every kind of session, as the
    // account's own (no 'to'), a subscription stanza or directed presence; the rest is routed.
    void from_session(xmpp::Stanza stanza);
    // Replies with an error unless the stanza is itself an error (RFC 6120 §8.3.1).
    void bounce(const xmpp::Stanza& stanza, xmpp::StanzaErrorCondition condition, std::string text = {});

    // --- owner shard of the account only ---
    enum class BindOutcome { bound, replaced, conflict, too_many };
    struct BindResult {
        BindOutcome outcome;
        SessionRef replaced;  // outcome == replaced: the session to close with <conflict/>
        std::shared_ptr<AccountRate> rate;  // the account's stanza budget, shared by its sessions
    };
    BindResult bind(const xmpp::Jid& jid, SessionRef session);
    void unbind(const xmpp::Jid& jid, std::uint64_t connection_id);
    // A presence stanza a user sends without 'to' (any shard): hops to the owner shard,
    // records availability and priority, and fires OwnPresence.
    void own_presence(xmpp::Stanza stanza);
    // Presence a user sends to someone (any shard): DirectedPresence on the owner shard, then on.
    void directed_presence(xmpp::Stanza stanza);
    // A subscription stanza a user sends (any shard): OutboundSubscription on the owner shard.
    void outbound_subscription(xmpp::Stanza stanza);
    static bool is_subscription(std::string_view type);
    // Any shard: hops to the owner shard and closes every bound session of the account but
    // `keep` (if given) with `error` (XEP-0077: an account removed, a password changed).
    void close_sessions(const xmpp::BareJid& account, xmpp::StreamError error, std::optional<xmpp::Jid> keep = {});
    std::vector<xmpp::Jid> resources_of(const xmpp::BareJid& account) const;
    std::vector<AvailableResource> available_resources(const xmpp::BareJid& account) const;
    // Runs `fn` with each bound stream of the account, each on its own shard.
    void for_each_session(const xmpp::BareJid& account, std::function<void(Session&)> fn) const;
    // Stanza to a local account, already on its owner shard.
    void deliver_local(xmpp::Stanza stanza);

    // Any shard: a stanza a module originates. One sent on behalf of a local account from
    // the account's owner shard passes StanzaFromAccount first (the account's blocklist).
    void send_from_module(xmpp::Stanza stanza);
    // This shard: sends an iq get/set (its 'from' set) and resumes with the reply, or with
    // remote-server-timeout if none comes in time.
    Task<xmpp::Stanza> query(xmpp::Stanza iq, std::chrono::milliseconds timeout);
    // This shard: ends the waits of queries sent from `from` (see PendingIqs::cancel_from).
    void cancel_queries(const xmpp::Jid& from) { pending_.cancel_from(from); }
    // At start-up, on this shard: the service starts receiving its domain's stanzas.
    void add_service(Service& service);
    // The Host of a served domain (canonical, as in a JID) on this shard, or null.
    Host* host_of(std::string_view domain) const;
    std::size_t shard() const { return shard_; }

private:
    void handle_for_host(Host& host, xmpp::Stanza stanza);
    void handle_for_account(xmpp::Stanza stanza);
    void to_session(const SessionRef& session, xmpp::Stanza stanza);
    void deliver_to_bare(UserHome* home, xmpp::Stanza stanza);
    void answer_for_offline_account(xmpp::Stanza stanza);
    bool dispatch_iq(const IqTable& table, const xmpp::Stanza& stanza, To to);
    Service* service_for(std::string_view domain) const;
    void handle_for_service(Service& service, xmpp::Stanza stanza);
    void deliver_to_entity(xmpp::Stanza stanza);
    bool take_reply(const xmpp::Stanza& stanza);

    Server& server_;
    const std::vector<std::unique_ptr<Host>>& hosts_;
    std::size_t shard_;
    std::unordered_map<xmpp::BareJid, UserHome> homes_;
    std::unordered_map<std::string, Service*> services_;  // by domain
    PendingIqs pending_;
};

}  // namespace starling::server
