#include "server/storage/legacy/single_host_tables.hpp"

#include "server/storage/archive/archive_store.hpp"
#include "server/storage/map/map_store.hpp"

namespace starling::storage {

namespace {

bool table_exists(Database& db, std::string_view name) {
    auto q = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    q.bind(1, name);
    return q.step();
}

std::size_t moved_by(Database& db, std::string_view sql, std::string_view host) {
    auto q = db.prepare(sql);
    q.bind(1, host);
    q.run();
    return static_cast<std::size_t>(db.changes());
}

}  // namespace

std::size_t adopt_single_host_tables(Database& db, std::string_view host) {
    bool keyval = table_exists(db, "keyval"), offline = table_exists(db, "offline_messages");
    if (!keyval && !offline) return 0;
    MapStore map{db};          // their tables exist from here on
    ArchiveStore archive{db};
    std::size_t moved = 0;
    Database::Transaction tx{db};
    if (keyval) {
        moved += moved_by(db,
                          "INSERT INTO map_entries (host, owner, store, key, value) "
                          "SELECT ?, account, store, key, value FROM keyval",
                          host);
        db.exec("DROP TABLE keyval; DELETE FROM schema_versions WHERE component = 'keyval'");
    }
    if (offline) {
        // In arrival order, so the archive's sequence delivers them oldest first as before;
        // the old row id makes each item id unique.
        moved += moved_by(db,
                          "INSERT INTO archive (store, host, owner, id, at, with_jid, payload) "
                          "SELECT 'offline', ?, account, 'v1-' || id, stamp * 1000000, '', stanza "
                          "FROM offline_messages ORDER BY id",
                          host);
        db.exec("DROP TABLE offline_messages; DELETE FROM schema_versions WHERE component = 'offline'");
    }
    tx.commit();
    return moved;
}

}  // namespace starling::storage
