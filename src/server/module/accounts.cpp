#include "server/module/accounts.hpp"

#include "server/storage/accounts/account_store.hpp"

namespace starling::server::accounts {

bool exists(storage::Database& db, std::string_view username) { return storage::AccountStore{db}.exists(username); }

bool create(storage::Database& db, std::string_view username, const Credentials& credentials) {
    return storage::AccountStore{db}.create(username, credentials);
}

bool set_credentials(storage::Database& db, std::string_view username, const Credentials& credentials) {
    return storage::AccountStore{db}.set_credentials(username, credentials);
}

}  // namespace starling::server::accounts
