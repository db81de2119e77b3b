// C2sStream, part two: STARTTLS (RFC 6120 §5) and SASL (RFC 6120 §6).
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/base64.hpp"
#include "base/log.hpp"
#include "net/call_on.hpp"
#include "server/server.hpp"
#include "server/storage/accounts/account_store.hpp"
#include "server/storage/storage_thread.hpp"
#include "server/stream/c2s/c2s_stream.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/precis.hpp"
#include "xmpp/sasl/plain.hpp"

namespace starling::server {

using xmpp::StreamErrorCondition;
using xmpp::sasl::SaslCondition;
using xmpp::sasl::ScramHash;
using Clock = std::chrono::steady_clock;

namespace {

// The SASL username, prepared and valid as the localpart of a JID (RFC 7622 §3.3), or
// nullopt ('a@b' passes UsernameCaseMapped but is no localpart).
std::optional<std::string> account_name(std::string_view authcid, const xmpp::Jid& domain) {
    auto name = xmpp::precis::username_case_mapped(authcid);
    if (!name || !xmpp::Jid::from_parts(*name, domain.str(), "")) return std::nullopt;
    return name;
}

xml::Element sasl_element(std::string_view name, std::string_view payload_b64 = {}) {
    xml::Element e{std::string(name), std::string(ns::sasl)};
    if (!payload_b64.empty()) e.add_text(payload_b64);
    return e;
}

// The SASL payload: base64, or '=' for an empty response (RFC 6120 §6.4.2).
std::optional<std::string> decode_sasl(const xml::Element& e) {
    std::string text = e.text();
    if (text == "=") return std::string{};
    return base64::decode(text);
}

// RFC 6120 §6.4.2: an <auth/> with no character data has no initial response (the server
// then sends an empty challenge); '=' is an initial response of zero length.
bool has_initial_response(const xml::Element& auth) { return !auth.text().empty(); }

}  // namespace

void C2sStream::on_starttls() {
    if (!channel_->can_start_tls()) {
        // RFC 6120 §5.4.2.2: failure, then close.
        channel_->write(xml::Element{"failure", std::string(ns::tls)});
        state_ = State::closing;
        channel_->close_stream();
        return;
    }
    channel_->write(xml::Element{"proceed", std::string(ns::tls)});
    channel_->start_tls(domain().str());
    // RFC 6120 §5.4.3.3: a new stream; nothing negotiated in plaintext carries over.
    state_ = State::wait_header;
    header_sent_ = false;
    scram_.reset();
    scram_username_.clear();
    awaiting_plain_ = false;
}

bool C2sStream::offers(std::string_view mechanism) const {
    const auto& allowed = server_.config().sasl.mechanisms;
    if (std::find(allowed.begin(), allowed.end(), mechanism) == allowed.end()) return false;
    // RFC 6120 §13.8.3: PLAIN only where TLS protects the password; -PLUS needs TLS to bind to.
    if (mechanism == "PLAIN") return channel_->is_secure();
    if (mechanism.ends_with("-PLUS")) return !channel_->channel_bindings().empty();
    return true;
}

xml::Element C2sStream::mechanisms() const {
    xml::Element m{"mechanisms", std::string(ns::sasl)};
    for (const auto& name : server_.config().sasl.mechanisms)
        if (offers(name)) m.add_child("mechanism", std::string(ns::sasl)).add_text(name);
    return m;
}

Task<void> C2sStream::sasl_failure(SaslCondition condition, std::string_view account) {
    scram_.reset();
    awaiting_plain_ = false;
    // Only a wrong credential for a named account is a guess worth counting (RFC 6120
    // §6.4.5). A mechanism or channel-binding mismatch is not: clients such as slixmpp
    // try each -PLUS variant with tls-unique before falling back, and must get that far.
    bool guess = !account.empty() &&
                 (condition == SaslCondition::not_authorized || condition == SaslCondition::invalid_authzid);
    if (!guess)
        log::info("{} authentication with {} refused ({})", log_prefix(), mechanism_, xmpp::sasl::to_string(condition));
    if (guess) {
        ++sasl_failures_;
        auto delay = server_.auth_throttle().failure(channel_->remote_address(), account);
        log::info("{} authentication failed ({}) for '{}'{}", log_prefix(), xmpp::sasl::to_string(condition),
                  log::printable(account),
                  delay.count() ? fmt::format(", answer delayed {} ms", delay.count()) : "");
        if (delay.count() > 0) {
            auto executor = co_await boost::asio::this_coro::executor;
            boost::asio::steady_timer timer{executor, delay};
            boost::system::error_code ec;
            co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
            if (state_ == State::closing) co_return;
        }
    }
    xml::Element failure{"failure", std::string(ns::sasl)};
    failure.add_child(std::string(xmpp::sasl::to_string(condition)), std::string(ns::sasl));
    channel_->write(failure);
    // RFC 6120 §6.4.5: past the allowed retries, close with policy-violation.
    if (sasl_failures_ >= server_.config().sasl.max_failures_per_stream)
        fail(StreamErrorCondition::policy_violation, "Too many failed authentication attempts");
}

Task<void> C2sStream::on_auth(const xml::Element& auth) {
    const auto& cfg = server_.config();
    if (scram_ || awaiting_plain_) {  // a new <auth/> aborts the exchange under way
        awaiting_plain_ = false;
        co_return co_await sasl_failure(SaslCondition::aborted);
    }
    if (!channel_->is_secure() && cfg.c2s.require_encryption)
        co_return co_await sasl_failure(SaslCondition::encryption_required);
    std::string_view mechanism = auth.attribute("mechanism");
    mechanism_ = log::printable(mechanism, 32);
    auto initial = decode_sasl(auth);
    if (!initial) co_return co_await sasl_failure(SaslCondition::incorrect_encoding);

    if (!offers(mechanism)) co_return co_await sasl_failure(SaslCondition::invalid_mechanism);
    if (mechanism == "PLAIN") {
        if (!has_initial_response(auth)) {
            awaiting_plain_ = true;
            channel_->write(sasl_element("challenge", "="));
            co_return;
        }
        co_return co_await plain_login(*initial);
    }

    auto scram = xmpp::sasl::parse_scram_mechanism(mechanism);
    auto bindings = channel_->channel_bindings();
    if (!scram) co_return co_await sasl_failure(SaslCondition::invalid_mechanism);
    // RFC 5802 §6: 'y' from the client is a downgrade only if we did offer a -PLUS variant.
    const auto& allowed = cfg.sasl.mechanisms;
    bool plus_offered = std::any_of(allowed.begin(), allowed.end(),
                                    [&](const std::string& m) { return m.ends_with("-PLUS") && offers(m); });
    scram_ = std::make_unique<xmpp::sasl::ScramServer>(scram->hash, scram->plus, plus_offered, bindings);
    scram_hash_ = scram->hash;
    if (!has_initial_response(auth)) {
        // RFC 6120 §6.4.2: no initial response; ask for it with an empty challenge.
        channel_->write(sasl_element("challenge", "="));
        co_return;
    }
    co_await scram_client_first(*initial);
}

Task<void> C2sStream::plain_login(const std::string& message) {
    auto plain = xmpp::sasl::parse_plain(message);
    if (!plain) co_return co_await sasl_failure(plain.error());
    auto username = account_name(plain->authcid, domain());
    auto password = xmpp::precis::opaque_string(plain->password);
    // Not a valid account name: no account to guess at, so not counted per account.
    if (!username || !password) co_return co_await sasl_failure(SaslCondition::not_authorized);
    if (!plain->authzid.empty() && plain->authzid != *username + "@" + domain().str())
        co_return co_await sasl_failure(SaslCondition::invalid_authzid, *username);
    std::string user = *username, pass = *password;
    advance(PreauthProgress::authenticating);  // a well-formed attempt, not a bare <auth/>
    auto lookup = [host = domain().str(), user](storage::Database& db) {
        return storage::AccountStore{db}.credentials(host, user, ScramHash::sha256);
    };
    auto creds = co_await server_.storage().run(std::move(lookup));
    if (state_ == State::closing) co_return;
    // An unknown account costs the same PBKDF2 as a real one, so timing does not tell them
    // apart; the hashing runs on its own thread, never on a shard or the storage thread.
    bool known = creds.has_value();
    if (!known) {
        creds = xmpp::sasl::ScramServer::fake_credentials(ScramHash::sha256, user, server_.secret());
        creds->iterations = server_.config().sasl.scram_iterations;
    }
    auto verify = [pass, c = *creds, known] {
        auto derived = xmpp::sasl::derive_scram_credentials(ScramHash::sha256, pass, c.salt, c.iterations);
        return known && derived.stored_key == c.stored_key;
    };
    auto hashing = server_.hashing().get_executor();
    bool ok = co_await net::call_on(hashing, std::move(verify));
    if (state_ == State::closing) co_return;
    if (!ok) co_return co_await sasl_failure(SaslCondition::not_authorized, user);
    sasl_success(user, {});
}

Task<void> C2sStream::scram_client_first(const std::string& message) {
    auto first = scram_->client_first(message);
    if (!first) co_return co_await sasl_failure(first.error());
    auto username = account_name(first->authcid, domain());
    if (!username) co_return co_await sasl_failure(SaslCondition::not_authorized);
    if (!first->authzid.empty() && first->authzid != *username + "@" + domain().str())
        co_return co_await sasl_failure(SaslCondition::invalid_authzid, *username);
    std::string user = *username;
    advance(PreauthProgress::authenticating);  // a well-formed attempt, not a bare <auth/>
    ScramHash hash = scram_hash_;
    auto lookup = [host = domain().str(), user, hash](storage::Database& db) {
        return storage::AccountStore{db}.credentials(host, user, hash);
    };
    auto creds = co_await server_.storage().run(std::move(lookup));
    if (state_ == State::closing || !scram_) co_return;
    // An unknown account gets a challenge that looks like any other and fails at the end.
    if (!creds) {
        creds = xmpp::sasl::ScramServer::fake_credentials(hash, user, server_.secret());
        creds->iterations = server_.config().sasl.scram_iterations;
    }
    scram_username_ = user;
    channel_->write(sasl_element("challenge", base64::encode(scram_->server_first(*creds))));
}

Task<void> C2sStream::on_sasl_response(const xml::Element& response) {
    auto message = decode_sasl(response);
    if (awaiting_plain_) {
        awaiting_plain_ = false;
        if (!message) co_return co_await sasl_failure(SaslCondition::incorrect_encoding);
        co_return co_await plain_login(*message);
    }
    if (!scram_) co_return co_await sasl_failure(SaslCondition::malformed_request);
    if (!message) co_return co_await sasl_failure(SaslCondition::incorrect_encoding, scram_username_);
    if (scram_username_.empty()) co_return co_await scram_client_first(*message);
    auto final = scram_->client_final(*message);
    if (!final) {
        // A named local, not a conditional temporary: g++ 12 destroys a temporary std::string
        // from a ?: inside co_await twice.
        std::string guessed_account;
        if (scram_->proof_checked()) guessed_account = scram_username_;
        co_return co_await sasl_failure(final.error(), guessed_account);
    }
    sasl_success(scram_username_, final.value());
}

void C2sStream::sasl_success(std::string username, std::string server_final) {
    scram_.reset();
    scram_username_.clear();
    username_ = std::move(username);
    // RFC 6120 §6.4.6: additional data with success carries the SCRAM server signature.
    channel_->write(sasl_element("success", server_final.empty() ? std::string_view{} : base64::encode(server_final)));
    log::info("{} authenticated as {} with {} over {}", log_prefix(), username_, mechanism_,
              channel_->security_description());
    leave_preauth();
    const auto& cfg = server_.config();
    channel_->restart_stream();
    header_sent_ = false;
    channel_->set_parser_limits({cfg.limits.max_stanza_size, 4096, cfg.limits.max_depth});
    channel_->set_read_deadline(Clock::time_point::max());
    channel_->set_idle_timeout(cfg.c2s.idle_timeout);
    channel_->enable_keepalives(true);
    state_ = State::authenticated;
}

}  // namespace starling::server
