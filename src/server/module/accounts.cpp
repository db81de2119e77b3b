#include "server/module/accounts.hpp"

#include "server/storage/accounts/account_store.hpp"

namespace starling::server::accounts {

bool exists(storage::Database& db, const stores::Owner& account) {
    return storage::AccountStore{db}.exists(account.host, account.name);
}

bool create(storage::Database& db, const stores::Owner& account, const Credentials& credentials) {
    return storage::AccountStore{db}.create(account.host, account.name, credentials);
}

bool set_credentials(storage::Database& db, const stores::Owner& account, const Credentials& credentials) {
    return storage::AccountStore{db}.set_credentials(account.host, account.name, credentials);
}

}  // namespace starling::server::accounts
