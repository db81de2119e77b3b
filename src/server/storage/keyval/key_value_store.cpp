#include "server/storage/keyval/key_value_store.hpp"

namespace starling::storage {

KeyValueStore::KeyValueStore(Database& db) : db_{db} {
    db_.migrate("keyval", {
        "CREATE TABLE keyval (store TEXT NOT NULL, account TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
        " PRIMARY KEY (account, store, key))",
    });
}

std::optional<std::string> KeyValueStore::get(std::string_view store, std::string_view account, std::string_view key) {
    auto q = db_.prepare("SELECT value FROM keyval WHERE account = ? AND store = ? AND key = ?");
    q.bind(1, account).bind(2, store).bind(3, key);
    if (!q.step()) return std::nullopt;
    return q.text(0);
}

void KeyValueStore::set(std::string_view store, std::string_view account, std::string_view key, std::string_view value) {
    auto q = db_.prepare(
        "INSERT INTO keyval(store, account, key, value) VALUES(?, ?, ?, ?) "
        "ON CONFLICT(account, store, key) DO UPDATE SET value = excluded.value");
    q.bind(1, store).bind(2, account).bind(3, key).bind(4, value);
    q.run();
}

void KeyValueStore::remove(std::string_view store, std::string_view account, std::string_view key) {
    auto q = db_.prepare("DELETE FROM keyval WHERE account = ? AND store = ? AND key = ?");
    q.bind(1, account).bind(2, store).bind(3, key);
    q.run();
}

void KeyValueStore::remove_account(std::string_view account) {
    auto q = db_.prepare("DELETE FROM keyval WHERE account = ?");
    q.bind(1, account);
    q.run();
}

}  // namespace starling::storage
