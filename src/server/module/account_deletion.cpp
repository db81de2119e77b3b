#include "server/module/account_deletion.hpp"

#include "server/storage/accounts/account_store.hpp"
#include "server/storage/archive/archive_store.hpp"
#include "server/storage/map/map_store.hpp"

namespace starling::server {

bool delete_account(storage::Database& db, std::string_view host, std::string_view username,
                    const std::vector<const ModuleInfo*>& catalog) {
    storage::Database::Transaction transaction{db};
    if (!storage::AccountStore{db}.remove(username)) return false;
    storage::MapStore{db}.remove_owner(host, username);
    storage::ArchiveStore{db}.remove_owner(host, username);
    for (const ModuleInfo* module : catalog)
        if (module->remove_account) module->remove_account(db, username);
    transaction.commit();
    return true;
}

}  // namespace starling::server
