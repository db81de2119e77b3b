#pragma once
// AccountStore: accounts, keyed by (host, username), and their SCRAM credentials (RFC 5802
// §3: salt, iteration count, StoredKey, ServerKey per hash). Passwords are never stored, in any form that can be
// reversed or replayed. Synchronous: call it on the storage thread or from a CLI command.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/storage/database.hpp"
#include "xmpp/sasl/scram.hpp"

namespace starling::storage {

class AccountStore {
public:
    explicit AccountStore(Database& db);

    // Derives credentials for every SCRAM hash from the (OpaqueString-prepared) password.
    static std::vector<xmpp::sasl::ScramCredentials> derive_all(std::string_view password,
                                                               std::uint32_t iterations);

    // Accounts are per served domain: alice@a.test and alice@b.test are two accounts.
    struct Account {
        std::string host, username;
    };

    bool exists(std::string_view host, std::string_view username);
    // False if the account exists already.
    bool create(std::string_view host, std::string_view username,
                const std::vector<xmpp::sasl::ScramCredentials>& credentials);
    // False if there is no such account.
    bool set_credentials(std::string_view host, std::string_view username,
                         const std::vector<xmpp::sasl::ScramCredentials>& credentials);
    bool remove(std::string_view host, std::string_view username);
    // The accounts of `host`, or of every host when it is empty, by host then username.
    std::vector<Account> list(std::string_view host = {});
    std::optional<xmpp::sasl::ScramCredentials> credentials(std::string_view host, std::string_view username,
                                                            xmpp::sasl::ScramHash hash);

private:
    void write_credentials(std::string_view host, std::string_view username,
                           const std::vector<xmpp::sasl::ScramCredentials>& credentials);
    Database& db_;
};

}  // namespace starling::storage
