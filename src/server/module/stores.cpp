#include "server/module/stores.hpp"

#include "server/storage/map/map_store.hpp"
#include "server/storage/storage_thread.hpp"

namespace starling::server::stores {

namespace {

// Lambdas below take their arguments by value: they run later, on the storage thread.
storage::StoreOwner key_of(const std::string& store, const Owner& owner) { return {store, owner.host, owner.name}; }

// The one key of a KeyValue store's entries in MapStore.
constexpr std::string_view single_key = "";

}  // namespace

Task<std::optional<std::string>> KeyValue::get(Owner owner) const {
    auto read = [store = store_, owner = std::move(owner)](storage::Database& db) {
        return storage::MapStore{db}.get(key_of(store, owner), single_key);
    };
    std::optional<std::string> value = co_await storage_.run(std::move(read));
    co_return value;
}

Task<void> KeyValue::set(Owner owner, std::string value) const {
    auto write = [store = store_, owner = std::move(owner), value = std::move(value)](storage::Database& db) {
        storage::MapStore{db}.set(key_of(store, owner), single_key, value);
        return true;
    };
    co_await storage_.run(std::move(write));
}

Task<void> KeyValue::remove(Owner owner) const {
    auto write = [store = store_, owner = std::move(owner)](storage::Database& db) {
        return storage::MapStore{db}.remove(key_of(store, owner), single_key);
    };
    co_await storage_.run(std::move(write));
}

Task<std::vector<std::string>> KeyValue::owners(std::string host) const {
    auto read = [store = store_, host = std::move(host)](storage::Database& db) {
        return storage::MapStore{db}.owners(store, host);
    };
    std::vector<std::string> out = co_await storage_.run(std::move(read));
    co_return out;
}

Task<std::optional<std::string>> Map::get(Owner owner, std::string key) const {
    auto read = [store = store_, owner = std::move(owner), key = std::move(key)](storage::Database& db) {
        return storage::MapStore{db}.get(key_of(store, owner), key);
    };
    std::optional<std::string> value = co_await storage_.run(std::move(read));
    co_return value;
}

Task<void> Map::set(Owner owner, std::string key, std::string value) const {
    auto write = [store = store_, owner = std::move(owner), key = std::move(key),
                  value = std::move(value)](storage::Database& db) {
        storage::MapStore{db}.set(key_of(store, owner), key, value);
        return true;
    };
    co_await storage_.run(std::move(write));
}

Task<bool> Map::remove(Owner owner, std::string key) const {
    auto write = [store = store_, owner = std::move(owner), key = std::move(key)](storage::Database& db) {
        return storage::MapStore{db}.remove(key_of(store, owner), key);
    };
    bool removed = co_await storage_.run(std::move(write));
    co_return removed;
}

Task<std::vector<std::pair<std::string, std::string>>> Map::entries(Owner owner) const {
    auto read = [store = store_, owner = std::move(owner)](storage::Database& db) {
        return storage::MapStore{db}.entries(key_of(store, owner));
    };
    std::vector<std::pair<std::string, std::string>> out = co_await storage_.run(std::move(read));
    co_return out;
}

Task<void> Map::clear(Owner owner) const {
    auto write = [store = store_, owner = std::move(owner)](storage::Database& db) {
        storage::MapStore{db}.clear(key_of(store, owner));
        return true;
    };
    co_await storage_.run(std::move(write));
}

Task<std::string> Archive::append(Owner owner, storage::ArchiveItem item, std::size_t quota) const {
    auto write = [store = store_, owner = std::move(owner), item = std::move(item), quota](storage::Database& db) {
        return storage::ArchiveStore{db}.append(key_of(store, owner), item, quota);
    };
    std::string id = co_await storage_.run(std::move(write));
    co_return id;
}

Task<std::optional<storage::ArchivePage>> Archive::query(Owner owner, storage::ArchiveRange range) const {
    auto read = [store = store_, owner = std::move(owner), range = std::move(range)](storage::Database& db) {
        return storage::ArchiveStore{db}.query(key_of(store, owner), range);
    };
    std::optional<storage::ArchivePage> page = co_await storage_.run(std::move(read));
    co_return page;
}

Task<std::optional<storage::ArchiveItem>> Archive::find(Owner owner, std::string id) const {
    auto read = [store = store_, owner = std::move(owner), id = std::move(id)](storage::Database& db) {
        return storage::ArchiveStore{db}.find(key_of(store, owner), id);
    };
    std::optional<storage::ArchiveItem> item = co_await storage_.run(std::move(read));
    co_return item;
}

Task<std::size_t> Archive::count(Owner owner) const {
    auto read = [store = store_, owner = std::move(owner)](storage::Database& db) {
        return storage::ArchiveStore{db}.count(key_of(store, owner));
    };
    std::size_t n = co_await storage_.run(std::move(read));
    co_return n;
}

Task<void> Archive::remove_before(Owner owner, std::int64_t when) const {
    auto write = [store = store_, owner = std::move(owner), when](storage::Database& db) {
        storage::ArchiveStore{db}.remove_before(key_of(store, owner), when);
        return true;
    };
    co_await storage_.run(std::move(write));
}

Task<void> Archive::clear(Owner owner) const {
    auto write = [store = store_, owner = std::move(owner)](storage::Database& db) {
        storage::ArchiveStore{db}.clear(key_of(store, owner));
        return true;
    };
    co_await storage_.run(std::move(write));
}

}  // namespace starling::server::stores
