#pragma once
// BlocklistStore: each account's blocked JIDs (XEP-0191), one row per JID. Every change is a
// few rows written; the whole list is read back in the same transaction, so the caller gets
// the list exactly as that change left it.
#include <string>
#include <string_view>
#include <vector>

namespace starling::storage { class Database; }

namespace starling::blocking {

class BlocklistStore {
public:
    explicit BlocklistStore(storage::Database& db);

    std::vector<std::string> list(std::string_view account);
    // Adds `jids` unless the list would then hold more than `max_items`; false if it would.
    bool add(std::string_view account, const std::vector<std::string>& jids, std::size_t max_items);
    void remove(std::string_view account, const std::vector<std::string>& jids);
    void clear(std::string_view account);

    static void remove_account(storage::Database& db, std::string_view account);

private:
    storage::Database& db_;
};

}  // namespace starling::blocking
