#include "server/module/database_schema.hpp"

#include <string>

#include "server/storage/accounts/account_store.hpp"
#include "server/storage/archive/archive_store.hpp"
#include "server/storage/legacy/single_host_tables.hpp"
#include "server/storage/map/map_store.hpp"

namespace starling::server {

std::size_t prepare_database(storage::Database& db, std::string_view legacy_host,
                             const std::vector<const ModuleInfo*>& catalog) {
    try {
        db.set_legacy_host(std::string(legacy_host));
        storage::Database::Transaction transaction{db};
        storage::AccountStore accounts{db};
        storage::MapStore map{db};
        storage::ArchiveStore archive{db};
        std::size_t moved = storage::adopt_single_host_tables(db, legacy_host);
        // Every module, enabled or not: a module enabled by an earlier configuration may have
        // left rows that account deletion must still find under the new keys.
        for (const ModuleInfo* module : catalog)
            if (module->prepare_tables) module->prepare_tables(db);
        transaction.commit();
        return moved;
    } catch (const storage::DatabaseError& e) {
        db.forget_migrations();  // rolled back: the next attempt starts from the file again
        // The reason, without the migration's SQL that Database::exec appends.
        std::string why = e.what();
        if (auto sql = why.find(" in: "); sql != std::string::npos) why.erase(sql);
        throw SchemaUpgradeError(why);
    }
}

}  // namespace starling::server
