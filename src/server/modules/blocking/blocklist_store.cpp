#include "server/modules/blocking/blocklist_store.hpp"

#include "server/storage/database.hpp"

namespace starling::blocking {

BlocklistStore::BlocklistStore(storage::Database& db) : db_{db} {
    db.migrate("blocklist", {
        "CREATE TABLE blocklist (account TEXT NOT NULL, jid TEXT NOT NULL, PRIMARY KEY (account, jid))"
        " WITHOUT ROWID",
    });
}

std::vector<std::string> BlocklistStore::list(std::string_view account) {
    auto q = db_.prepare("SELECT jid FROM blocklist WHERE account = ? ORDER BY jid");
    q.bind(1, account);
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
}

bool BlocklistStore::add(std::string_view account, const std::vector<std::string>& jids, std::size_t max_items) {
    storage::Database::Transaction t{db_};
    auto insert = db_.prepare("INSERT OR IGNORE INTO blocklist(account, jid) VALUES(?, ?)");
    for (const auto& jid : jids) {
        insert.reset();
        insert.bind(1, account).bind(2, jid);
        insert.run();
    }
    auto count = db_.prepare("SELECT COUNT(*) FROM blocklist WHERE account = ?");
    count.bind(1, account);
    count.step();
    if (static_cast<std::size_t>(count.integer(0)) > max_items) return false;  // rolled back
    t.commit();
    return true;
}

void BlocklistStore::remove(std::string_view account, const std::vector<std::string>& jids) {
    storage::Database::Transaction t{db_};
    auto del = db_.prepare("DELETE FROM blocklist WHERE account = ? AND jid = ?");
    for (const auto& jid : jids) {
        del.reset();
        del.bind(1, account).bind(2, jid);
        del.run();
    }
    t.commit();
}

void BlocklistStore::clear(std::string_view account) {
    auto del = db_.prepare("DELETE FROM blocklist WHERE account = ?");
    del.bind(1, account);
    del.run();
}

void BlocklistStore::remove_account(storage::Database& db, std::string_view account) {
    BlocklistStore{db}.clear(account);
}

}  // namespace starling::blocking
