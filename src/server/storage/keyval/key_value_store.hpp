#pragma once
// KeyValueStore: one XML document (or any text) per (store, account, key): the shape of
// vCards, private XML storage and similar per-account settings (Prosody's "keyval").
// Each row is written on its own, so a change never rewrites a user's other data.
// Synchronous: call it on the storage thread (StorageThread::run) or from a CLI command.
#include <optional>
#include <string>
#include <string_view>

#include "server/storage/database.hpp"

namespace starling::storage {

class KeyValueStore {
public:
    explicit KeyValueStore(Database& db);

    std::optional<std::string> get(std::string_view store, std::string_view account, std::string_view key);
    void set(std::string_view store, std::string_view account, std::string_view key, std::string_view value);
    void remove(std::string_view store, std::string_view account, std::string_view key);
    // Every row of an account, in every store (account deletion).
    void remove_account(std::string_view account);

private:
    Database& db_;
};

}  // namespace starling::storage
