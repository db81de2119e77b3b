#pragma once
// ModuleContext: everything a module may touch, and nothing more. Built by the host for each
// module on each shard; handlers registered through it are tagged with the module's name.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "server/module/available_resource.hpp"
#include "net/call_on.hpp"
#include "net/task.hpp"
#include "server/module/accounts.hpp"
#include "server/module/caps_cache.hpp"
#include "server/module/disco_registry.hpp"
#include "server/module/exports.hpp"
#include "server/module/hooks.hpp"
#include "server/module/iq_table.hpp"
#include "server/module/service.hpp"
#include "server/module/stores.hpp"
#include "xmpp/stanza.hpp"
#include "xmpp/stream_error.hpp"

namespace starling::config { struct Config; struct HostConfig; }
namespace starling::storage { class StorageThread; }

namespace starling::server {

class Module;
class Session;

// What the core lends every module on a shard.
struct CoreServices {
    std::function<void(xmpp::Stanza)> send;
    storage::StorageThread& storage;
    // The bound full JIDs of a local account; only on the account's owner shard.
    std::function<std::vector<xmpp::Jid>(const xmpp::BareJid&)> resources_of;
    // Those that have sent available presence, with its <show/>; only on the owner shard.
    std::function<std::vector<AvailableResource>(const xmpp::BareJid&)> available_resources;
    // CPU-heavy work (PBKDF2) that must stall neither a shard nor the storage thread.
    boost::asio::thread_pool& hashing;
    // Any shard: deletes an account and everything stored for it; false if there was none.
    std::function<Task<bool>(xmpp::BareJid account)> remove_account;
    // Any shard: closes every bound session of an account with a stream error.
    std::function<void(const xmpp::BareJid&, xmpp::StreamError, std::optional<xmpp::Jid>)> close_sessions;
    // Owner shard: runs a function with each bound session of an account, on the session's shard.
    std::function<void(const xmpp::BareJid&, std::function<void(Session&)>)> for_each_session;
    // Any shard: routes a stanza as if it had just arrived (no StanzaFromAccount).
    std::function<void(xmpp::Stanza)> route_again;
    // This shard: sends an iq and resumes with its reply (or remote-server-timeout).
    std::function<Task<xmpp::Stanza>(xmpp::Stanza, std::chrono::milliseconds)> query;
    // At start-up: the router of this shard starts sending the service its stanzas.
    std::function<void(Service&)> add_service;
    // This shard: ends the waits of queries sent from a JID.
    std::function<void(const xmpp::Jid&)> cancel_queries;
    // Shards: this one, how many, the owner of a bare JID, and each one's executor.
    std::size_t shard = 0;
    std::size_t shard_count = 1;
    std::function<std::size_t(const xmpp::BareJid&)> owner_of;
    std::function<boost::asio::io_context::executor_type(std::size_t shard)> executor_of;
    // This module's instance (same module, same domain) on a shard; use it on that shard only.
    std::function<Module&(std::size_t shard)> instance_on;
    // Server-wide: the capabilities of entities that send presence (caps_cache.hpp).
    CapsCache& caps;
};

class ModuleContext {
public:
    ModuleContext(std::string module, const xmpp::Jid& domain, const config::Config& config,
                  const config::HostConfig& settings, Hooks& hooks, IqTable& iq, DiscoRegistry& disco,
                  Exports& exports, CoreServices core);
    ~ModuleContext();

    const std::string& module_name() const { return module_; }
    const xmpp::Jid& domain() const { return domain_; }
    const config::Config& config() const { return config_; }
    // The administrators of this domain ([server] admins, or its [hosts."<domain>"] admins),
    // for policies such as who may create rooms.
    bool is_admin(const xmpp::BareJid& jid) const;
    const std::vector<xmpp::BareJid>& admins() const { return admins_; }
    IqTable& iq() { return iq_; }
    DiscoRegistry& disco() { return disco_; }
    template <class E, class F>
    void on(F handler, Priority priority = Priority::normal) {
        hooks_.on<E>(std::function(std::move(handler)), priority, module_);
    }
    // Fires an event for the other modules on this shard (one a module defines the moment of).
    template <class E>
    Flow fire(E& event) const {
        return hooks_.fire(event);
    }
    // Offers a typed service to the other modules of this host and shard (exports.hpp).
    template <class T>
    void provide(T& implementation) {
        exports_.provide<T>(implementation, module_);
    }
    // Another module's service, or null when that module is off. Look it up when needed,
    // not in the constructor (the provider may be created later).
    template <class T>
    T* find() const {
        return exports_.find<T>();
    }
    // Routes a stanza the module originates (its 'from' must be set). From a local account,
    // on its owner shard, it passes StanzaFromAccount first (the account's blocklist).
    void send(xmpp::Stanza stanza) const { core_.send(std::move(stanza)); }
    // The module's stores (stores.hpp), named by the module; keyed by (host, owner).
    stores::KeyValue key_value(std::string_view store) const { return {core_.storage, std::string(store)}; }
    stores::Map map(std::string_view store) const { return {core_.storage, std::string(store)}; }
    stores::Archive archive(std::string_view store) const { return {core_.storage, std::string(store)}; }
    // The storage thread, for several store steps in one transaction (storage().run(fn)).
    storage::StorageThread& storage() const { return core_.storage; }
    // Owner shard of `account` only (account-addressed events and IQs run there).
    std::vector<xmpp::Jid> resources_of(const xmpp::BareJid& account) const { return core_.resources_of(account); }
    // Owner shard of `account`: its available resources and what each one's presence shows.
    std::vector<AvailableResource> available_resources(const xmpp::BareJid& account) const {
        return core_.available_resources(account);
    }
    // The SCRAM keys of a new password (already OpaqueString-prepared) for every hash, with
    // sasl.scram_iterations, derived on the hashing pool; for accounts::create and
    // accounts::set_credentials.
    Task<accounts::Credentials> derive_credentials(std::string password) const;
    // A thread pool for PBKDF2 (net::call_on(ctx.hashing().get_executor(), ...)).
    boost::asio::thread_pool& hashing() const { return core_.hashing; }
    // Deletes the account `username` and every trace of it, as `starling user del` does (each
    // module's ModuleInfo::remove_account, in one transaction). Any shard; false if none.
    Task<bool> remove_account(xmpp::BareJid account) const { return core_.remove_account(std::move(account)); }
    // Routes again a stanza the module held back (Flow::stop in StanzaToAccount): the events
    // on its way fire again, as for any stanza that arrives.
    void route_again(xmpp::Stanza stanza) const { core_.route_again(std::move(stanza)); }
    // Owner shard of `account`: runs `fn` with each of its bound sessions, each on the
    // session's own shard (later, never inside this call). `fn` must not touch this module
    // instance.
    void for_each_session(const xmpp::BareJid& account, std::function<void(Session&)> fn) const {
        core_.for_each_session(account, std::move(fn));
    }
    // Closes every bound session of `account` with `error`, but the one bound as `keep` if
    // given. Any shard.
    void close_sessions(const xmpp::BareJid& account, xmpp::StreamError error,
                        std::optional<xmpp::Jid> keep = std::nullopt) const {
        core_.close_sessions(account, std::move(error), std::move(keep));
    }
    // Sends an iq get/set (its 'from' set: the host, a service or an entity of the module's)
    // and resumes with the answer: a result, an error, or remote-server-timeout when none
    // comes within `timeout`. On the module's shard; the reply comes back here whichever
    // shard it reaches first.
    Task<xmpp::Stanza> query(xmpp::Stanza iq, std::chrono::milliseconds timeout = std::chrono::seconds{30}) const {
        return core_.query(std::move(iq), timeout);
    }
    // An entity (or the service) that goes away: its queries still waiting on this shard
    // resume at once with remote-server-timeout instead of at their timeout.
    void cancel_queries(const xmpp::Jid& from) const { core_.cancel_queries(from); }
    // XEP-0115: what entities that send presence can do, server-wide (caps_cache.hpp).
    CapsCache& caps() const { return core_.caps; }
    // The features of `full`, whose presence carried `caps`, asking it (disco#info to
    // 'node#ver', from `asker`: an account it sends presence to, so its client answers) if
    // nobody has asked for that version yet. Null when unknown: no answer, an answer that
    // does not hash to the version, or another task asking the same version now (then
    // caps().features_of(full) has them once that answer is in).
    Task<CapsFeaturesPtr> learn_caps(xmpp::Jid asker, xmpp::Jid full, xmpp::Caps caps) const;
    // Runs a task of the module's on this shard; a failure is logged with the module's name.
    // From the constructor too: the task starts once the shard runs (loading what a module
    // keeps, before its first stanza). (Tasks are not yet cancelled when the module goes:
    // they must hold what they use.)
    void spawn(Task<void> task) const;
    // At start-up (the module's constructor): serves `label`.<host domain>, e.g. "conference",
    // named `name` in the host's disco#items. The Service lives as long as the module; fill in
    // its handlers, IqTable and DiscoRegistry (answer_disco() answers disco from it).
    Service& add_service(std::string_view label, std::string name);

    // Shards. Each entity (and account) lives on the shard that owns its bare JID: a module
    // keeps an entity's state there and reaches it from elsewhere with on_shard.
    std::size_t shard() const { return core_.shard; }
    std::size_t shard_count() const { return core_.shard_count; }
    std::size_t owner_of(const xmpp::BareJid& jid) const { return core_.owner_of(jid); }
    // Runs fn(M&) on `shard` with this module's instance there (M: the module's own class; the
    // same module on the same domain), and resumes on this shard with its result (not void).
    // fn must take what it needs by value: it runs on another thread. Name the function and
    // the task before co_await (g++ 12 destroys temporaries of a co_await expression twice):
    //   auto bump = [room](Rooms& m) { return m.bump(room); };
    //   Task<int> call = ctx.on_owner<Rooms>(room, std::move(bump));
    //   int n = co_await std::move(call);
    template <class M, class F>
    auto on_shard(std::size_t shard, F fn) const -> Task<std::invoke_result_t<F&, M&>> {
        using R = std::invoke_result_t<F&, M&>;
        auto there = [instance_on = core_.instance_on, shard, fn = std::move(fn)]() mutable -> R {
            return fn(static_cast<M&>(instance_on(shard)));
        };
        auto executor = core_.executor_of(shard);
        Task<R> call = net::call_on(executor, std::move(there));
        R result = co_await std::move(call);
        co_return result;
    }
    template <class M, class F>
    auto on_owner(const xmpp::BareJid& jid, F fn) const -> Task<std::invoke_result_t<F&, M&>> {
        return on_shard<M>(owner_of(jid), std::move(fn));
    }
    // As on_owner, for a coroutine of the instance there: fn(M&) returns Task<R>, which runs
    // on the owner shard of `jid` (an account's PresenceSubscriptions, say) until it ends.
    template <class M, class F>
    auto on_owner_task(const xmpp::BareJid& jid, F fn) const -> std::invoke_result_t<F&, M&> {
        using T = std::invoke_result_t<F&, M&>;
        using R = typename T::value_type;
        std::size_t shard = owner_of(jid);
        auto there = [instance_on = core_.instance_on, shard, fn = std::move(fn)]() mutable -> T {
            return fn(static_cast<M&>(instance_on(shard)));
        };
        auto executor = core_.executor_of(shard);
        T call = net::call_task_on(executor, std::move(there));
        R result = co_await std::move(call);
        co_return result;
    }
    // Runs fn(M&) on every shard in turn (each on its own thread) and returns the results in
    // shard order: a room list, a count across shards.
    template <class M, class F>
    auto on_every_shard(F fn) const -> Task<std::vector<std::invoke_result_t<F&, M&>>> {
        std::vector<std::invoke_result_t<F&, M&>> results;
        for (std::size_t s = 0; s < shard_count(); ++s) {
            F copy = fn;
            Task<std::invoke_result_t<F&, M&>> call = on_shard<M>(s, std::move(copy));
            auto result = co_await std::move(call);
            results.push_back(std::move(result));
        }
        co_return results;
    }

private:
    std::string module_;
    const xmpp::Jid& domain_;
    const config::Config& config_;
    Hooks& hooks_;
    IqTable& iq_;
    DiscoRegistry& disco_;
    Exports& exports_;
    CoreServices core_;
    std::vector<xmpp::BareJid> admins_;
    std::vector<std::unique_ptr<Service>> services_;
};

}  // namespace starling::server
