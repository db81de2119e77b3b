#pragma once
// BlocklistStore: each account's blocked JIDs (XEP-0191), keyed by (host, owner), one row
// per JID. Every change is a few rows written; the whole list is read back in the same
// transaction, so the caller gets the list exactly as that change left it.
#include <string>
#include <string_view>
#include <vector>

#include "server/module/stores.hpp"

namespace starling::storage { class Database; }

namespace starling::blocking {

class BlocklistStore {
public:
    explicit BlocklistStore(storage::Database& db);

    std::vector<std::string> list(const server::stores::Owner& account);
    // Adds `jids` unless the list would then hold more than `max_items`; false if it would.
    bool add(const server::stores::Owner& account, const std::vector<std::string>& jids, std::size_t max_items);
    void remove(const server::stores::Owner& account, const std::vector<std::string>& jids);
    void clear(const server::stores::Owner& account);

    static void remove_account(storage::Database& db, const server::stores::Owner& account);

private:
    storage::Database& db_;
};

}  // namespace starling::blocking
