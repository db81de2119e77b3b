// XEP-0077 In-Band Registration: creating an account before authentication (§3.1.1), then
// changing its password (§3.3) or cancelling it (§3.2). Off by default: §11 calls it a
// policy matter, and open registration invites spam accounts.
// Registration runs on the connection's shard (PreAuthIq); password change and cancellation
// on the shard the router dispatched to; the stores on the storage thread and PBKDF2 on the
// hashing pool. The module holds no state: the per-address count of registrations is a
// table, so the limit holds across shards and restarts.
#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include "base/log.hpp"
#include "server/config/config.hpp"
#include "server/config/options.hpp"
#include "server/module/events.hpp"
#include "server/module/module.hpp"
#include "server/module/accounts.hpp"
#include "server/storage/storage_thread.hpp"
#include "server/module/session.hpp"
#include "xmpp/precis.hpp"

namespace starling::registration {

using namespace server;
using xmpp::StanzaErrorCondition;

namespace {

constexpr std::string_view register_ns = "jabber:iq:register";
constexpr std::string_view feature_ns = "http://jabber.org/features/iq-register";

struct Options {
    std::uint32_t registrations_per_address = 5;
    std::chrono::seconds window{600};
};

// Successful registrations per client address, remembered for one window. Synchronous: the
// storage thread.
class RegistrationLog {
public:
    explicit RegistrationLog(storage::Database& db) : db_{db} {
        db_.migrate("register", {
            "CREATE TABLE register_log (address TEXT NOT NULL, at INTEGER NOT NULL)",
            "CREATE INDEX register_log_address ON register_log(address, at)",
        });
    }
    // Registrations from `address` at or after `since`; older rows are forgotten first.
    std::int64_t count_since(std::string_view address, std::int64_t since) {
        auto prune = db_.prepare("DELETE FROM register_log WHERE at < ?");
        prune.bind(1, since).run();
        auto q = db_.prepare("SELECT count(*) FROM register_log WHERE address = ?");
        q.bind(1, address);
        return q.step() ? q.integer(0) : 0;
    }
    void add(std::string_view address, std::int64_t at) {
        auto ins = db_.prepare("INSERT INTO register_log(address, at) VALUES(?, ?)");
        ins.bind(1, address).bind(2, at).run();
    }

private:
    storage::Database& db_;
};

enum class Outcome { created, exists, over_limit };

struct Limit {
    std::string address;
    std::uint32_t max;  // 0: no limit
    std::int64_t window_seconds;
    bool reached(storage::Database& db) const {
        auto since = static_cast<std::int64_t>(std::time(nullptr)) - window_seconds;
        return max != 0 && RegistrationLog{db}.count_since(address, since) >= max;
    }
};

// The username as an account name: PRECIS UsernameCaseMapped and a valid localpart
// (RFC 7622 §3.3), as SASL prepares it, so the new account can log in.
std::optional<std::string> account_name(std::string_view text, const xmpp::Jid& domain) {
    auto name = xmpp::precis::username_case_mapped(text);
    if (!name || !xmpp::Jid::from_parts(*name, domain.str(), "")) return std::nullopt;
    return name;
}

xml::Element form(std::string_view instructions) {
    xml::Element query{"query", std::string(register_ns)};
    query.add_child("instructions", std::string(register_ns)).add_text(instructions);
    return query;
}

}  // namespace

class RegisterModule final : public Module {
public:
    RegisterModule(ModuleContext& ctx, const Options& options) : ctx_{ctx}, options_{options} {
        // §10 and §8.
        ctx.disco().add_feature(register_ns);
        ctx.on<PreAuthFeaturesOffered>([](PreAuthFeaturesOffered& e) {
            e.features.add_child("register", std::string(feature_ns));
        });
        ctx.on<PreAuthIq>([this](PreAuthIq& e) {
            const xml::Element* query = e.iq.payload();
            if (!query || !query->is("query", register_ns)) return Flow::next;
            e.work = before_authentication(e.session, e.iq);
            return Flow::stop;
        });
        // After authentication: to the server (§3.3's example) or to one's own account (no
        // 'to', §3.2's example).
        for (To to : {To::host, To::account}) {
            ctx.iq().on_get(register_ns, "query", to, [this](IqRequest& r) { registered(r); });
            ctx.iq().on_set(register_ns, "query", to, [this](IqRequest& r) { return change(r); });
        }
        // §3.3: the new password travels in the clear inside the stream; only over TLS.
        ctx.on<StanzaFromClient>(
            [this](StanzaFromClient& e) {
                if (e.session.is_secure() || !is_password_change(e.stanza)) return Flow::next;
                auto reply = e.stanza.error_reply(
                    {StanzaErrorCondition::not_authorized, "a password change needs an encrypted stream", "modify"});
                reply.set_from(ctx_.domain());
                ctx_.send(std::move(reply));
                return Flow::stop;
            },
            Priority::guard);
    }

private:
    // --- before authentication (connection shard) ---

    Task<void> before_authentication(Session& stream, xmpp::Stanza iq) {
        const xml::Element& query = *iq.payload();
        if (iq.type() == "get") {
            // §3.1: the fields to fill in.
            auto fields = form("Choose a username and password for use with this server.");
            fields.add_child("username", std::string(register_ns));
            fields.add_child("password", std::string(register_ns));
            stream.send_preauth(iq.iq_result(std::move(fields)));
            co_return;
        }
        auto error = [&](StanzaErrorCondition condition, std::string text = {}) {
            stream.send_preauth(iq.error_reply({condition, std::move(text)}));
        };
        // §3.2 table: no account to cancel on an unauthenticated stream.
        if (query.find_child("remove", register_ns))
            co_return error(StanzaErrorCondition::unexpected_request, "authenticate first");
        std::string given_name = query.child_text("username", register_ns);
        std::string given_password = query.child_text("password", register_ns);
        // §3.1: every field is required.
        if (given_name.empty() || given_password.empty())
            co_return error(StanzaErrorCondition::not_acceptable, "a username and a password are required");
        auto name = account_name(given_name, ctx_.domain());
        if (!name) co_return error(StanzaErrorCondition::not_acceptable, "this username is not allowed");
        auto password = xmpp::precis::opaque_string(given_password);
        if (!password) co_return error(StanzaErrorCondition::not_acceptable, "this password is not allowed");

        std::string user = *name;
        Limit limit{stream.remote_address(), options_.registrations_per_address,
                    static_cast<std::int64_t>(options_.window.count())};
        // Cheap refusals first, so that PBKDF2 runs only for a registration that will happen.
        auto admit = [user, limit](storage::Database& db) {
            if (limit.reached(db)) return Outcome::over_limit;
            return accounts::exists(db, user) ? Outcome::exists : Outcome::created;
        };
        Outcome outcome = co_await ctx_.storage().run(std::move(admit));
        if (outcome == Outcome::created) {
            auto credentials = co_await ctx_.derive_credentials(*password);
            // Checked again in the same transaction: another registration may have come first.
            auto create = [user, limit, credentials = std::move(credentials)](storage::Database& db) {
                storage::Database::Transaction transaction{db};
                if (limit.reached(db)) return Outcome::over_limit;
                if (!accounts::create(db, user, credentials)) return Outcome::exists;
                RegistrationLog{db}.add(limit.address, static_cast<std::int64_t>(std::time(nullptr)));
                transaction.commit();
                return Outcome::created;
            };
            outcome = co_await ctx_.storage().run(std::move(create));
        }
        switch (outcome) {
            case Outcome::created:
                log::info("register: {}@{} registered from {}", user, ctx_.domain().str(), limit.address);
                stream.send_preauth(iq.iq_result());
                break;
            case Outcome::exists: error(StanzaErrorCondition::conflict, "this username is taken"); break;
            case Outcome::over_limit:
                log::info("register: refused a registration from {}: over {} in {} s", limit.address, limit.max,
                          limit.window_seconds);
                stream.send_preauth(iq.error_reply({StanzaErrorCondition::policy_violation,
                                                    "too many registrations from your address; try again later",
                                                    "wait"}));
                break;
        }
    }

    // --- after authentication (the shard the router dispatched to) ---

    // The account a request is about, or nullopt (answered with an error) if it is not the
    // sender's own.
    static std::optional<std::string> own_account(IqRequest& request) {
        const auto& to = request.stanza().to();
        if (to && to->has_local() && to->bare() != request.from().bare()) {
            request.error(StanzaErrorCondition::forbidden);
            return std::nullopt;
        }
        return std::string(request.from().local());
    }

    bool is_password_change(const xmpp::Stanza& s) const {
        if (!s.is_iq_request() || s.type() != "set") return false;
        const xml::Element* query = s.payload();
        if (!query || !query->is("query", register_ns) || !query->find_child("password", register_ns)) return false;
        return !s.to() || s.to()->domain() == ctx_.domain().domain();
    }

    // §3.1: an authenticated entity is registered.
    void registered(IqRequest& request) {
        auto user = own_account(request);
        if (!user) return;
        auto fields = form("You are registered. Send a new password to change it, or <remove/> to delete the account.");
        fields.add_child("registered", std::string(register_ns));
        fields.add_child("username", std::string(register_ns)).add_text(*user);
        fields.add_child("password", std::string(register_ns));
        request.reply(std::move(fields));
    }

    Task<void> change(IqRequest& request) {
        auto user = own_account(request);
        if (!user) co_return;
        const xml::Element& query = request.payload();
        if (query.find_child("remove", register_ns)) co_return co_await cancel(request, *user);
        co_await change_password(request, *user);
    }

    // §3.2: cancellation removes the account and all its data, answers, then ends every
    // session of the account with <not-authorized/>.
    Task<void> cancel(IqRequest& request, const std::string& user) {
        if (request.payload().child_element_count() != 1)
            co_return request.error(StanzaErrorCondition::bad_request, "<remove/> must be alone");
        bool removed = co_await ctx_.remove_account(user);
        if (!removed) co_return request.error(StanzaErrorCondition::registration_required);
        log::info("register: {}@{} cancelled its registration", user, ctx_.domain().str());
        // The result goes first; the streams close after it (both hop through the owner shard).
        request.reply();
        ctx_.close_sessions(request.from().bare(), {xmpp::StreamErrorCondition::not_authorized, "Account removed"});
    }

    // §3.3: a new password for one's own account (encrypted streams only: see the guard).
    Task<void> change_password(IqRequest& request, const std::string& user) {
        const xml::Element& query = request.payload();
        std::string given_name = query.child_text("username", register_ns);
        std::string given_password = query.child_text("password", register_ns);
        // §3.3: an empty password never replaces the current one.
        if (given_name.empty() || given_password.empty())
            co_return request.error(StanzaErrorCondition::bad_request, "a username and a new password are required");
        if (account_name(given_name, ctx_.domain()) != user)
            co_return request.error(StanzaErrorCondition::forbidden, "not your username");
        auto password = xmpp::precis::opaque_string(given_password);
        if (!password) co_return request.error(StanzaErrorCondition::not_acceptable, "this password is not allowed");
        auto credentials = co_await ctx_.derive_credentials(*password);
        auto store = [user, credentials = std::move(credentials)](storage::Database& db) {
            return accounts::set_credentials(db, user, credentials);
        };
        bool changed = co_await ctx_.storage().run(std::move(store));
        if (!changed) co_return request.error(StanzaErrorCondition::registration_required);
        log::info("register: {}@{} changed its password", user, ctx_.domain().str());
        request.reply();
    }

    ModuleContext& ctx_;
    Options options_;
};

const config::ModuleOptionsOf<Options> options{
    config::OptionSet<Options>{}
        .add("registrations_per_address", &Options::registrations_per_address,
             "Accounts one IP address may register per window (0: no limit)")
        .add("window", &Options::window, "Seconds over which registrations_per_address is counted",
             std::function<std::string(const std::chrono::seconds&)>(
                 [](const std::chrono::seconds& s) { return s.count() > 0 ? std::string{} : "must be positive"; }))};

extern const ModuleInfo info{
    .name = "register",
    .description = "Lets clients create accounts before logging in, change their password and delete their account",
    .xeps = {{77, "2.4", "In-Band Registration"}},
    .enabled_by_default = false,
    .options = &options,
    .create = create_module_with_options<RegisterModule, Options>,
};

}  // namespace starling::registration
