// XEP-0012 Last Activity: the server's uptime (§5), and on an account's behalf the time since
// it last logged out with the status of its last unavailable presence (§3), for the account
// itself and for those subscribed to its presence only (§3, §8: no presence leak).
// One instance per shard. Hooks and account-addressed IQs run on the account's owner shard,
// so `unavailable_status_` (per bound resource) is shard-local. The logouts are a KeyValue
// store, "lastactivity", owned by the account: "<unix seconds>\n<status>". Who may ask is
// the roster's answer (PresenceSubscriptions).
#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/log.hpp"
#include "server/module/events.hpp"
#include "server/module/module.hpp"
#include "server/module/presence_subscriptions.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::last_activity {

using namespace server;
using xmpp::StanzaErrorCondition;

namespace {

constexpr std::string_view last_ns = "jabber:iq:last";

struct Logout {
    std::int64_t at = 0;  // unix seconds
    std::string status;
};

std::string encode(const Logout& l) { return std::to_string(l.at) + '\n' + l.status; }

std::optional<Logout> decode(std::string_view text) {
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    Logout l;
    auto [end, ec] = std::from_chars(text.data(), text.data() + nl, l.at);
    if (ec != std::errc{} || end != text.data() + nl) return std::nullopt;
    l.status = std::string(text.substr(nl + 1));
    return l;
}

xml::Element answer(std::int64_t seconds, std::string_view status = {}) {
    xml::Element query{"query", std::string(last_ns)};
    query.set_attribute("seconds", std::to_string(std::max<std::int64_t>(seconds, 0)));
    if (!status.empty()) query.add_text(status);
    return query;
}

}  // namespace

class LastActivityModule final : public Module {
public:
    explicit LastActivityModule(ModuleContext& ctx)
        : ctx_{ctx}, logouts_{ctx.key_value("lastactivity")}, started_{std::chrono::steady_clock::now()} {
        // §6: the feature, for the server and on accounts' behalf.
        ctx.disco().add_feature(last_ns);
        ctx.disco().add_feature(last_ns, To::account);
        ctx.iq().on_get(last_ns, "query", To::host, [this](IqRequest& r) { uptime(r); });
        ctx.iq().on_get(last_ns, "query", To::account, [this](IqRequest& r) { return last_logout(r); });
        ctx.on<OwnPresence>([this](OwnPresence& e) { remember_status(e.stanza); });
        ctx.on<ResourceUnbound>([this](ResourceUnbound& e) { record_logout(e.jid); });
    }

private:
    // §5: how long the server has been running; no character data.
    void uptime(IqRequest& request) {
        auto up = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_);
        request.reply(answer(up.count()));
    }

    // §3: the status text is that of the user's last unavailable presence; a later available
    // one makes it stale (a session that then drops carries no status).
    void remember_status(const xmpp::Stanza& presence) {
        const xmpp::Jid& from = *presence.from();
        if (presence.type() == "unavailable")
            unavailable_status_[from] = presence.element().child_text("status", ns::client);
        else
            unavailable_status_.erase(from);
    }

    void record_logout(const xmpp::Jid& resource) {
        Logout logout{std::time(nullptr), {}};
        if (auto it = unavailable_status_.find(resource); it != unavailable_status_.end()) {
            logout.status = std::move(it->second);
            unavailable_status_.erase(it);
        }
        ctx_.spawn(logouts_.set(stores::Owner::of(resource.bare()), encode(logout)));
    }

    Task<void> last_logout(IqRequest& request) {
        const xmpp::BareJid account = request.stanza().to()->bare();
        const xmpp::BareJid requester = request.from().bare();
        // §3 and §8: only an entity allowed to see the user's presence (a subscription 'from'
        // or 'both' in the user's roster) may learn when the user was last here.
        bool authorized = requester == account;
        if (!authorized) {
            if (auto* subscriptions = ctx_.find<PresenceSubscriptions>())
                authorized = co_await subscriptions->receives_presence(account, requester);
        }
        if (!authorized) {
            request.error(StanzaErrorCondition::forbidden);
            co_return;
        }
        stores::Owner owner = stores::Owner::of(account);
        std::optional<std::string> stored = co_await logouts_.get(std::move(owner));
        // §3: a connected resource means the user is here now: seconds='0', empty query.
        // (Checked after the store call, on the owner shard, so it is the current state.)
        if (!ctx_.resources_of(account).empty()) {
            request.reply(answer(0));
            co_return;
        }
        // Never logged out: there is no last activity to report. seconds='0' would claim the
        // user is online (§3 reserves it for that), so item-not-found.
        auto logout = stored ? decode(*stored) : std::nullopt;
        if (!logout) {
            if (stored) log::error("last_activity: the stored logout of {} does not parse", account.str());
            request.error(StanzaErrorCondition::item_not_found);
            co_return;
        }
        request.reply(answer(std::time(nullptr) - logout->at, logout->status));
    }

    ModuleContext& ctx_;
    stores::KeyValue logouts_;
    std::chrono::steady_clock::time_point started_;
    std::unordered_map<xmpp::Jid, std::string> unavailable_status_;  // by bound resource
};

extern const ModuleInfo info{
    .name = "last_activity",
    .description = "Tells the server's uptime, and a contact's last logout to its subscribers",
    .xeps = {{12, "2.0", "Last Activity"}},
    .create = create_module<LastActivityModule>,
};

}  // namespace starling::last_activity
