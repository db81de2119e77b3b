// XEP-0077 for an authenticated user's own account: "am I registered" (§3.1), cancel (§3.2)
// and password change (§3.3). On at the defaults. Handlers run on the shard the router
// dispatched the iq to; the stores on the storage thread, PBKDF2 on the hashing pool.
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

// The account a request is about, or nullopt (answered with an error) if it is not the
// sender's own.
std::optional<std::string> own_account(IqRequest& request) {
    const auto& to = request.stanza().to();
    if (to && to->has_local() && to->bare() != request.from().bare()) {
        request.error(StanzaErrorCondition::forbidden);
        return std::nullopt;
    }
    return std::string(request.from().local());
}

}  // namespace

void RegisterModule::register_account_management() {
    ctx_.disco().add_feature(register_ns);
    // To the server (§3.3's example) or to one's own account (no 'to', §3.2's example).
    for (To to : {To::host, To::account}) {
        ctx_.iq().on_get(register_ns, "query", to, [this](IqRequest& r) { registered(r); });
        ctx_.iq().on_set(register_ns, "query", to, [this](IqRequest& r) { return change(r); });
    }
    // §3.3: the new password travels in the clear inside the stream; only over TLS.
    ctx_.on<StanzaFromClient>(
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

bool RegisterModule::is_password_change(const xmpp::Stanza& s) const {
    if (!s.is_iq_request() || s.type() != "set") return false;
    const xml::Element* query = s.payload();
    if (!query || !query->is("query", register_ns) || !query->find_child("password", register_ns)) return false;
    return !s.to() || s.to()->domain() == ctx_.domain().domain();
}

// §3.1: an authenticated entity is registered.
void RegisterModule::registered(IqRequest& request) {
    auto user = own_account(request);
    if (!user) return;
    auto fields = query_with_instructions(
        "You are registered. Send a new password to change it, or <remove/> to delete the account.");
    fields.add_child("registered", std::string(register_ns));
    fields.add_child("username", std::string(register_ns)).add_text(*user);
    fields.add_child("password", std::string(register_ns));
    request.reply(std::move(fields));
}

Task<void> RegisterModule::change(IqRequest& request) {
    auto user = own_account(request);
    if (!user) co_return;
    const xml::Element& query = request.payload();
    if (query.find_child("remove", register_ns)) co_return co_await cancel(request);
    co_await change_password(request, *user);
}

// §3.2: cancellation removes the account and all its data, answers, then ends every
// session of the account with <not-authorized/>.
Task<void> RegisterModule::cancel(IqRequest& request) {
    if (request.payload().child_element_count() != 1)
        co_return request.error(StanzaErrorCondition::bad_request, "<remove/> must be alone");
    bool removed = co_await ctx_.remove_account(request.from().bare());
    if (!removed) co_return request.error(StanzaErrorCondition::registration_required);
    log::info("register: {} cancelled its registration", request.from().str());
    // The result goes first; the streams close after it (both hop through the owner shard).
    request.reply();
    ctx_.close_sessions(request.from().bare(), {xmpp::StreamErrorCondition::not_authorized, "Account removed"});
}

// §3.3: a new password for one's own account (encrypted streams only: see the guard), with
// the rules of `starling user passwd` (RFC 8265 OpaqueString, not empty). Logins read the
// SCRAM keys from the store at each attempt, so the old password stops working at once.
Task<void> RegisterModule::change_password(IqRequest& request, const std::string& user) {
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
    auto store = [account = stores::Owner::of(request.from().bare()), credentials = std::move(credentials)](
                     storage::Database& db) { return accounts::set_credentials(db, account, credentials);
    };
    bool changed = co_await ctx_.storage().run(std::move(store));
    if (!changed) co_return request.error(StanzaErrorCondition::registration_required);
    log::info("register: {} changed its password", request.from().str());
    request.reply();
    // Whoever else was logged in with the old password is logged in no longer (Prosody
    // does the same); RFC 6120 §4.9.3.16: <reset/> for credentials that changed.
    if (options_.password_change_closes_sessions)
        ctx_.close_sessions(request.from().bare(), {xmpp::StreamErrorCondition::reset, "Password changed"},
                            request.from());
}

}  // namespace starling::registration
