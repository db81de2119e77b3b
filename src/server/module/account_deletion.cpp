#include "server/module/account_deletion.hpp"

#include "server/storage/accounts/account_store.hpp"
#include "server/storage/archive/archive_store.hpp"
#include "server/storage/map/map_store.hpp"

namespace starling::server {

bool delete_account(storage::Database& db, const stores::Owner& account,
                    const std::vector<const ModuleInfo*>& catalog) {
    storage::Database::Transaction transaction{db};
    if (!storage::AccountStore{db}.remove(account.host, account.name)) return false;
    // Only this (host, owner): the same name on another domain, or a room or node kept under a
    // service's domain, is someone else.
    storage::MapStore{db}.remove_owner(account.host, account.name);
    storage::ArchiveStore{db}.remove_owner(account.host, account.name);
    for (const ModuleInfo* module : catalog)
        if (module->remove_account) module->remove_account(db, account);
    transaction.commit();
    return true;
}

}  // namespace starling::server
