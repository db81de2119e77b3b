// XEP-0077 §3.1: creating an account before authentication, when allow_registration is on.
// Runs on the connection's shard (PreAuthIq); the checks and the write on the storage
// thread, PBKDF2 on the hashing pool.
#include <ctime>

#include "base/log.hpp"
#include "server/module/accounts.hpp"
#include "server/module/session.hpp"
#include "server/modules/register/register_module.hpp"
#include "server/storage/storage_thread.hpp"
#include "xmpp/precis.hpp"

namespace starling::registration {

using namespace server;
using xmpp::StanzaErrorCondition;

namespace {

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

}  // namespace

void RegisterModule::register_in_band_creation() {
    // §8: advertised as a stream feature once authentication is offered (after TLS).
    ctx_.on<PreAuthFeaturesOffered>([](PreAuthFeaturesOffered& e) {
        e.features.add_child("register", std::string(feature_ns));
    });
    ctx_.on<PreAuthIq>([this](PreAuthIq& e) {
        const xml::Element* query = e.iq.payload();
        if (!query || !query->is("query", register_ns)) return Flow::next;
        e.work = create_account(e.session, e.iq);
        return Flow::stop;
    });
}

Task<void> RegisterModule::create_account(Session& stream, xmpp::Stanza iq) {
    const xml::Element& query = *iq.payload();
    if (iq.type() == "get") {
        // §3.1: the fields to fill in.
        auto fields = query_with_instructions("Choose a username and password for use with this server.");
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
    stores::Owner account{ctx_.domain().str(), user};
    Limit limit{stream.remote_address(), options_.registrations_per_address,
                static_cast<std::int64_t>(options_.window.count())};
    // Cheap refusals first, so that PBKDF2 runs only for a registration that will happen.
    auto admit = [account, limit](storage::Database& db) {
        if (limit.reached(db)) return Outcome::over_limit;
        return accounts::exists(db, account) ? Outcome::exists : Outcome::created;
    };
    Outcome outcome = co_await ctx_.storage().run(std::move(admit));
    if (outcome == Outcome::created) {
        auto credentials = co_await ctx_.derive_credentials(*password);
        // Checked again in the same transaction: another registration may have come first.
        auto create = [account, limit, credentials = std::move(credentials)](storage::Database& db) {
            storage::Database::Transaction transaction{db};
            if (limit.reached(db)) return Outcome::over_limit;
            if (!accounts::create(db, account, credentials)) return Outcome::exists;
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

}  // namespace starling::registration
