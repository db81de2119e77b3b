// XEP-0191 blocking command. An account's blocklist is kept in three places:
// - the store (BlocklistStore), the truth;
// - the account's owner shard, which checks what arrives for the account (StanzaToAccount)
//   and what modules send on its behalf (StanzaFromAccount). An account has an entry there
//   while it has a bound resource, or while stanzas for it wait for its list to load;
// - each of its streams (SessionBlocklist), which checks what the client sends
//   (StanzaFromClient) without a hop to the owner.
// A change is stored first; the store hands back the whole list as that change left it, and
// since the storage thread answers in order, the last list to reach the owner is the newest.
// The owner keeps it and posts it to every session of the account. A new session reads no
// stanza before its copy has arrived (SessionBound), so no stanza slips through unchecked.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/log.hpp"
#include "base/random.hpp"
#include "server/config/options.hpp"
#include "server/module/events.hpp"
#include "server/module/module.hpp"
#include "server/modules/blocking/blocklist_store.hpp"
#include "server/storage/storage_thread.hpp"
#include "server/module/session.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::blocking {

using namespace server;
using xmpp::Stanza;
using xmpp::StanzaErrorCondition;
using xmpp::StanzaKind;

namespace {

constexpr std::string_view blocking_ns = "urn:xmpp:blocking";
constexpr std::string_view errors_ns = "urn:xmpp:blocking:errors";

struct Options {
    std::uint32_t max_items = 1000;
};

struct Blocklist {
    std::vector<std::string> jids;
    xmpp::JidMatcher matcher;
};
using Snapshot = std::shared_ptr<const Blocklist>;

Snapshot snapshot_of(std::vector<std::string> rows) {
    auto list = std::make_shared<Blocklist>();
    std::vector<xmpp::Jid> parsed;
    for (const auto& row : rows)
        if (auto jid = xmpp::Jid::parse(row)) parsed.push_back(*jid);
    list->matcher = xmpp::JidMatcher{parsed};
    list->jids = std::move(rows);
    return list;
}

// A stream's copy of its account's list (connection shard).
struct SessionBlocklist {
    Snapshot list;
    bool known = false;
    boost::asio::steady_timer* waiting = nullptr;  // the stream's SessionBound wait, if any
};

// The account's own JIDs and its server are never blocked: a user who blocks their own
// domain still gets roster pushes and the server's answers.
bool exempt(const xmpp::Jid& other, const xmpp::BareJid& account) {
    if (other.domain() != account.domain()) return false;
    return other.is_domain() || other.local() == account.local();
}

xml::Element items(std::string_view name, const std::vector<std::string>& jids) {
    xml::Element e{std::string(name), std::string(blocking_ns)};
    for (const auto& jid : jids) e.add_child("item", std::string(blocking_ns)).set_attribute("jid", jid);
    return e;
}

// The JIDs of a <block/> or <unblock/>, canonical; nullopt if one is not a JID.
std::optional<std::vector<std::string>> jids_of(const xml::Element& command) {
    std::vector<std::string> out;
    for (const auto& child : command.children()) {
        if (!child.element || !child.element->is("item", blocking_ns)) continue;
        auto jid = xmpp::Jid::parse(child.element->attribute("jid"));
        if (!jid) return std::nullopt;
        if (std::find(out.begin(), out.end(), jid->str()) == out.end()) out.push_back(jid->str());
    }
    return out;
}

xmpp::JidMatcher matcher_of(const std::vector<std::string>& jids) {
    std::vector<xmpp::Jid> parsed;
    for (const auto& j : jids)
        if (auto jid = xmpp::Jid::parse(j)) parsed.push_back(*jid);
    return xmpp::JidMatcher{parsed};
}

}  // namespace

class BlockingModule final : public Module {
public:
    BlockingModule(ModuleContext& ctx, const Options& options) : ctx_{ctx}, options_{options} {
        ctx.disco().add_feature(blocking_ns);
        ctx.iq().on_get(blocking_ns, "blocklist", To::account, [this](IqRequest& r) { return get(r); });
        ctx.iq().on_set(blocking_ns, "block", To::account, [this](IqRequest& r) { return block(r); });
        ctx.iq().on_set(blocking_ns, "unblock", To::account, [this](IqRequest& r) { return unblock(r); });
        // Owner shard.
        ctx.on<ResourceBound>([this](ResourceBound& e) { bound(e.jid.bare()); });
        ctx.on<ResourceUnbound>([this](ResourceUnbound& e) { unbound(e.jid); });
        ctx.on<StanzaToAccount>([this](StanzaToAccount& e) { return inbound(e.stanza); }, Priority::guard);
        ctx.on<StanzaFromAccount>([this](StanzaFromAccount& e) { return from_account(e.stanza); }, Priority::guard);
        // Connection shard.
        ctx.on<SessionBound>([this](SessionBound& e) { await_copy(e); });
        ctx.on<StanzaFromClient>([](StanzaFromClient& e) { return from_client(e); }, Priority::guard);
    }

private:
    struct Entry {
        Snapshot list;                // null while loading
        std::vector<Stanza> waiting;  // arrived while loading
    };

    // --- owner shard ---

    void bound(const xmpp::BareJid& account) {
        auto it = entries_.find(account);
        if (it == entries_.end()) return spawn(load(account));
        if (it->second.list) publish(account, it->second.list);
        // else: loading, and the load publishes to every session, this one included
    }

    void unbound(const xmpp::Jid& resource) {
        auto account = resource.bare();
        if (auto it = interested_.find(account); it != interested_.end()) {
            it->second.erase(std::string(resource.resource()));
            if (it->second.empty()) interested_.erase(it);
        }
        forget_if_unused(account);
    }

    void forget_if_unused(const xmpp::BareJid& account) {
        auto it = entries_.find(account);
        if (it == entries_.end() || !it->second.list || !it->second.waiting.empty()) return;
        if (ctx_.resources_of(account).empty()) entries_.erase(it);
    }

    Task<Snapshot> load(xmpp::BareJid account) {
        entries_.try_emplace(account);
        server::stores::Owner user = server::stores::Owner::of(account);
        auto read = [user](storage::Database& db) { return BlocklistStore{db}.list(user); };
        std::vector<std::string> rows;
        try {
            rows = co_await ctx_.storage().run(std::move(read));
        } catch (...) {
            unavailable(account);
            throw;
        }
        co_return adopt(account, snapshot_of(std::move(rows)));
    }

    // The list cannot be read: what waited for it is refused, not let through unchecked.
    void unavailable(const xmpp::BareJid& account) {
        auto it = entries_.find(account);
        if (it == entries_.end() || it->second.list) return;
        auto waiting = std::move(it->second.waiting);
        entries_.erase(it);
        for (auto& s : waiting)
            if (s.is_iq_request() || (s.kind() == StanzaKind::message && !s.is_error()))
                ctx_.route_again(s.error_reply({StanzaErrorCondition::internal_server_error}));
    }

    // The newest list of the account: kept, sent to its sessions, and the stanzas that
    // waited for it go on.
    Snapshot adopt(const xmpp::BareJid& account, Snapshot list) {
        auto& entry = entries_[account];
        entry.list = list;
        auto waiting = std::move(entry.waiting);
        entry.waiting.clear();
        publish(account, list);
        // Routed again on this (the owner) shard, they come back through inbound() at once.
        for (auto& s : waiting) ctx_.route_again(std::move(s));
        forget_if_unused(account);
        return list;
    }

    void publish(const xmpp::BareJid& account, Snapshot list) {
        ctx_.for_each_session(account, [list](Session& stream) {
            auto& copy = stream.module_state<SessionBlocklist>();
            copy.list = list;
            copy.known = true;
            if (copy.waiting) copy.waiting->cancel();
        });
    }

    Task<Snapshot> current(const xmpp::BareJid& account) {
        if (auto it = entries_.find(account); it != entries_.end() && it->second.list) co_return it->second.list;
        co_return co_await load(account);
    }

    // §3.3: what a blocked JID sends never arrives; presence vanishes silently, messages and
    // requests get service-unavailable, so the user looks offline to them.
    Flow inbound(Stanza& stanza) {
        const auto& from = stanza.from();
        if (!from) return Flow::next;
        auto account = stanza.to()->bare();
        if (exempt(*from, account)) return Flow::next;
        auto it = entries_.find(account);
        if (it == entries_.end()) {
            // No resource bound, so presence has nowhere to go; for the rest, read the list.
            if (stanza.kind() == StanzaKind::presence &&
                (stanza.type().empty() || stanza.type() == "unavailable" || stanza.type() == "error"))
                return Flow::next;
            entries_[account].waiting.push_back(std::move(stanza));
            spawn(load(account));
            return Flow::stop;
        }
        if (!it->second.list) {
            it->second.waiting.push_back(std::move(stanza));
            return Flow::stop;
        }
        if (!it->second.list->matcher.matches(*from)) return Flow::next;
        bool request = stanza.kind() == StanzaKind::iq ? stanza.is_iq_request()
                                                         : stanza.kind() == StanzaKind::message && !stanza.is_error();
        if (request) {
            Stanza reply = stanza.error_reply({StanzaErrorCondition::service_unavailable});
            ctx_.route_again(std::move(reply));
        }
        return Flow::stop;
    }

    // What the server sends for the account (its presence, probes, answers to
    // subscriptions) stays away from the JIDs it blocks. An account with no entry has no
    // session, and sends only answers to stanzas inbound() let through.
    Flow from_account(const Stanza& stanza) {
        const auto& to = stanza.to();
        if (!to) return Flow::next;
        auto account = stanza.from()->bare();
        if (exempt(*to, account)) return Flow::next;
        auto it = entries_.find(account);
        if (it == entries_.end() || !it->second.list) return Flow::next;
        return it->second.list->matcher.matches(*to) ? Flow::stop : Flow::next;
    }

    Task<void> get(IqRequest& request) {
        auto account = request.stanza().to()->bare();
        if (request.from().bare() != account) co_return request.error(StanzaErrorCondition::service_unavailable);
        Snapshot list = co_await current(account);
        interested_[account].insert(std::string(request.from().resource()));
        request.reply(items("blocklist", list->jids));
    }

    Task<void> block(IqRequest& request) {
        auto account = request.stanza().to()->bare();
        if (request.from().bare() != account) co_return request.error(StanzaErrorCondition::service_unavailable);
        auto jids = jids_of(request.payload());
        if (!jids) co_return request.error(StanzaErrorCondition::jid_malformed);
        // §3.3: a block names at least one JID.
        if (jids->empty()) co_return request.error(StanzaErrorCondition::bad_request, "block at least one JID");
        Snapshot before = co_await current(account);
        std::vector<std::string> added;
        for (const auto& j : *jids)
            if (std::find(before->jids.begin(), before->jids.end(), j) == before->jids.end()) added.push_back(j);
        if (before->jids.size() + added.size() > options_.max_items)
            co_return request.error(StanzaErrorCondition::resource_constraint, "the blocklist is full");
        if (!added.empty()) {
            // §3.3: those who saw the user's presence see it end, while they still may.
            auto matcher = matcher_of(added);
            std::vector<Task<void>> work;
            ContactsBlocking event{account, matcher, work};
            ctx_.fire(event);
            for (auto& w : work) {
                Task<void> task = std::move(w);
                co_await std::move(task);
            }
        }
        server::stores::Owner user = server::stores::Owner::of(account);
        auto store = [user, jids = *jids, max = options_.max_items](storage::Database& db) {
            BlocklistStore blocklist{db};
            bool stored = blocklist.add(user, jids, max);
            return std::pair{stored, blocklist.list(user)};
        };
        auto [stored, rows] = co_await ctx_.storage().run(std::move(store));
        adopt(account, snapshot_of(std::move(rows)));
        if (!stored) co_return request.error(StanzaErrorCondition::resource_constraint, "the blocklist is full");
        log::info("jid={} blocked {} JID(s)", request.from().str(), jids->size());
        request.reply();
        push(account, items("block", *jids));
    }

    Task<void> unblock(IqRequest& request) {
        auto account = request.stanza().to()->bare();
        if (request.from().bare() != account) co_return request.error(StanzaErrorCondition::service_unavailable);
        auto jids = jids_of(request.payload());
        if (!jids) co_return request.error(StanzaErrorCondition::jid_malformed);
        // §3.5: no item means every one.
        bool all = jids->empty();
        Snapshot before = co_await current(account);
        server::stores::Owner user = server::stores::Owner::of(account);
        auto store = [user, all, jids = *jids](storage::Database& db) {
            BlocklistStore blocklist{db};
            if (all)
                blocklist.clear(user);
            else
                blocklist.remove(user, jids);
            return blocklist.list(user);
        };
        auto rows = co_await ctx_.storage().run(std::move(store));
        adopt(account, snapshot_of(std::move(rows)));
        log::info("jid={} unblocked {}", request.from().str(),
                  all ? std::string("everyone") : std::to_string(jids->size()) + " JID(s)");
        request.reply();
        push(account, items("unblock", *jids));
        // §3.4: those who may see the user's presence see it again.
        auto removed = matcher_of(all ? before->jids : *jids);
        ContactsUnblocked event{account, removed};
        ctx_.fire(event);
    }

    // §3.3, §3.4: every resource that asked for the list hears of each change.
    void push(const xmpp::BareJid& account, const xml::Element& command) {
        auto it = interested_.find(account);
        if (it == interested_.end()) return;
        for (const auto& resource : it->second) {
            auto to = account.with_resource(resource);
            if (!to) continue;
            xml::Element iq{"iq", std::string(ns::client)};
            iq.set_attribute("type", "set");
            iq.set_attribute("id", "push-" + random::id(8));
            iq.add_child(command);
            ctx_.send(Stanza{StanzaKind::iq, std::move(iq), account.jid(), *to});
        }
    }

    // --- connection shard ---

    // The first stanza of a new session is checked like any other: wait for the copy.
    void await_copy(SessionBound& e) {
        auto& copy = e.session.module_state<SessionBlocklist>();
        if (copy.known) return;
        e.work.push_back(wait_for_copy(e.session.shared()));
    }

    static Task<void> wait_for_copy(std::shared_ptr<Session> stream) {
        auto& copy = stream->module_state<SessionBlocklist>();
        boost::asio::steady_timer timer{co_await boost::asio::this_coro::executor};
        timer.expires_after(std::chrono::seconds(30));
        copy.waiting = &timer;
        boost::system::error_code ec;
        co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        copy.waiting = nullptr;
        if (copy.known) co_return;
        log::error("blocking: no blocklist for {} after 30 s; closing the session", stream->jid()->str());
        stream->close({xmpp::StreamErrorCondition::internal_server_error, "blocklist unavailable"});
    }

    // §3.3: the user cannot reach a JID they block either; they are told why.
    static Flow from_client(StanzaFromClient& e) {
        const auto& to = e.stanza.to();
        if (!to) return Flow::next;
        const auto& copy = e.session.module_state<SessionBlocklist>();
        if (!copy.list || copy.list->matcher.empty()) return Flow::next;
        if (exempt(*to, e.stanza.from()->bare()) || !copy.list->matcher.matches(*to)) return Flow::next;
        if (e.stanza.is_error() || (e.stanza.kind() == StanzaKind::iq && e.stanza.type() == "result")) return Flow::stop;
        xmpp::StanzaError error{StanzaErrorCondition::not_acceptable};
        error.type = "cancel";
        error.application_name = "blocked";
        error.application_ns = errors_ns;
        e.session.deliver(e.stanza.error_reply(error));
        return Flow::stop;
    }

    void spawn(Task<Snapshot> task) {
        ctx_.spawn([](Task<Snapshot> load) -> Task<void> { co_await std::move(load); }(std::move(task)));
    }

    ModuleContext& ctx_;
    Options options_;
    std::unordered_map<xmpp::BareJid, Entry> entries_;
    // Which resources of each account asked for the list (§3.3 pushes go to them).
    std::unordered_map<xmpp::BareJid, std::set<std::string>> interested_;
};

const config::ModuleOptionsOf<Options> options{config::OptionSet<Options>{}.add(
    "max_items", &Options::max_items, "JIDs one account may block; a block beyond gets resource-constraint")};

extern const ModuleInfo info{
    .name = "blocking",
    .description = "Lets each user block JIDs: nothing arrives from them, nothing reaches them",
    .xeps = {{191, "1.3", "Blocking Command"}},
    .options = &options,
    .create = create_module_with_options<BlockingModule, Options>,
    .prepare_tables = [](storage::Database& db) { BlocklistStore{db}; },
    .remove_account = &BlocklistStore::remove_account,
};

}  // namespace starling::blocking
