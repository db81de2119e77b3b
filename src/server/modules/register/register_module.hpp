#pragma once
// XEP-0077 In-Band Registration, as two policies in one module:
//   account_management.cpp: what an authenticated user does with their own account
//     (§3.2 cancel, §3.3 change password, §3.1 "am I registered"). On at the defaults, as
//     in Prosody and ejabberd: every client offers it, and it needs no new trust.
//   in_band_creation.cpp: creating accounts before authentication (§3.1.1). Off unless
//     allow_registration is set: §11 calls it a policy matter, and open registration
//     invites spam accounts; when on, a per-address throttle bounds it.
// One instance per (host, shard). Creation runs on the connection's shard (PreAuthIq);
// management on the shard the router dispatched the iq to; stores on the storage thread and
// PBKDF2 on the hashing pool. The module keeps no state of its own: the per-address count of
// registrations is a table, so the limit holds across shards and restarts.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/module/events.hpp"
#include "server/module/module.hpp"

namespace starling::registration {

inline constexpr std::string_view register_ns = "jabber:iq:register";
inline constexpr std::string_view feature_ns = "http://jabber.org/features/iq-register";

struct Options {
    bool allow_registration = false;
    std::uint32_t registrations_per_address = 5;
    std::chrono::seconds window{600};
    bool password_change_closes_sessions = true;
};

// The username as an account name: PRECIS UsernameCaseMapped and a valid localpart
// (RFC 7622 §3.3), as SASL prepares it, so the account can log in with it.
std::optional<std::string> account_name(std::string_view text, const xmpp::Jid& domain);
xml::Element query_with_instructions(std::string_view instructions);

class RegisterModule final : public server::Module {
public:
    RegisterModule(server::ModuleContext& ctx, const Options& options);

private:
    // account_management.cpp
    void register_account_management();
    void registered(server::IqRequest& request);
    Task<void> change(server::IqRequest& request);
    Task<void> cancel(server::IqRequest& request);
    Task<void> change_password(server::IqRequest& request, const std::string& user);
    bool is_password_change(const xmpp::Stanza& stanza) const;

    // in_band_creation.cpp
    void register_in_band_creation();
    Task<void> create_account(server::Session& stream, xmpp::Stanza iq);

    server::ModuleContext& ctx_;
    Options options_;
};

}  // namespace starling::registration
