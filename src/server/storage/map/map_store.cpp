#include "server/storage/map/map_store.hpp"

namespace starling::storage {

MapStore::MapStore(Database& db) : db_{db} {
    db_.migrate("map", {
        // Keyed owner first: an owner's deletion and listing are one index range.
        "CREATE TABLE map_entries (host TEXT NOT NULL, owner TEXT NOT NULL, store TEXT NOT NULL, key TEXT NOT NULL,"
        " value TEXT NOT NULL, PRIMARY KEY (host, owner, store, key)) WITHOUT ROWID",
    });
}

std::optional<std::string> MapStore::get(StoreOwner owner, std::string_view key) {
    auto q = db_.prepare("SELECT value FROM map_entries WHERE host = ? AND owner = ? AND store = ? AND key = ?");
    q.bind(1, owner.host).bind(2, owner.owner).bind(3, owner.store).bind(4, key);
    if (!q.step()) return std::nullopt;
    return q.text(0);
}

void MapStore::set(StoreOwner owner, std::string_view key, std::string_view value) {
    auto q = db_.prepare(
        "INSERT INTO map_entries (host, owner, store, key, value) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (host, owner, store, key) DO UPDATE SET value = excluded.value");
    q.bind(1, owner.host).bind(2, owner.owner).bind(3, owner.store).bind(4, key).bind(5, value);
    q.run();
}

bool MapStore::remove(StoreOwner owner, std::string_view key) {
    auto q = db_.prepare("DELETE FROM map_entries WHERE host = ? AND owner = ? AND store = ? AND key = ?");
    q.bind(1, owner.host).bind(2, owner.owner).bind(3, owner.store).bind(4, key);
    q.run();
    return db_.changes() > 0;
}

std::vector<std::pair<std::string, std::string>> MapStore::entries(StoreOwner owner) {
    auto q = db_.prepare("SELECT key, value FROM map_entries WHERE host = ? AND owner = ? AND store = ? ORDER BY key");
    q.bind(1, owner.host).bind(2, owner.owner).bind(3, owner.store);
    std::vector<std::pair<std::string, std::string>> out;
    while (q.step()) out.emplace_back(q.text(0), q.text(1));
    return out;
}

void MapStore::clear(StoreOwner owner) {
    auto q = db_.prepare("DELETE FROM map_entries WHERE host = ? AND owner = ? AND store = ?");
    q.bind(1, owner.host).bind(2, owner.owner).bind(3, owner.store);
    q.run();
}

std::vector<std::string> MapStore::owners(std::string_view store, std::string_view host) {
    auto q = db_.prepare("SELECT DISTINCT owner FROM map_entries WHERE host = ? AND store = ? ORDER BY owner");
    q.bind(1, host).bind(2, store);
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
}

void MapStore::remove_owner(std::string_view host, std::string_view owner) {
    auto q = db_.prepare("DELETE FROM map_entries WHERE host = ? AND owner = ?");
    q.bind(1, host).bind(2, owner);
    q.run();
}

}  // namespace starling::storage
