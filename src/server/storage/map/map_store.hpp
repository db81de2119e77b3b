#pragma once
// MapStore: text values by key, per (store, host, owner): a vCard (one value, key ""), private
// XML (one document per namespace), last logout, per-room or per-node settings. Each entry
// is written on its own, so a change never rewrites an owner's other data. Engine-neutral
// interface, SQLite implementation. Synchronous: call it on the storage thread
// (StorageThread::run) or from a CLI command.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/storage/database.hpp"
#include "server/storage/store_owner.hpp"

namespace starling::storage {

class MapStore {
public:
    explicit MapStore(Database& db);

    std::optional<std::string> get(StoreOwner owner, std::string_view key);
    void set(StoreOwner owner, std::string_view key, std::string_view value);
    // False if there was no such entry.
    bool remove(StoreOwner owner, std::string_view key);
    // Every entry of the owner in this store, by key.
    std::vector<std::pair<std::string, std::string>> entries(StoreOwner owner);
    // Every entry of the owner in this store.
    void clear(StoreOwner owner);
    // Everything an owner has in any store (an account or room deleted).
    void remove_owner(std::string_view host, std::string_view owner);
    // The owners under `host` with entries in `store`, by name: what a service keeps (its
    // persistent rooms, its nodes) found again at start-up.
    std::vector<std::string> owners(std::string_view store, std::string_view host);

private:
    Database& db_;
};

}  // namespace starling::storage
