#include "server/modules/blocking/blocklist_store.hpp"

#include "server/storage/database.hpp"

namespace starling::blocking {

using server::stores::Owner;

BlocklistStore::BlocklistStore(storage::Database& db) : db_{db} {
    db.migrate("blocklist", {
        "CREATE TABLE blocklist (account TEXT NOT NULL, jid TEXT NOT NULL, PRIMARY KEY (account, jid))"
        " WITHOUT ROWID",
        // Keyed by (host, owner): the rows of the one domain served before move under it.
        "CREATE TABLE blocked_jids (host TEXT NOT NULL, owner TEXT NOT NULL, jid TEXT NOT NULL,"
        " PRIMARY KEY (host, owner, jid)) WITHOUT ROWID;"
        "INSERT INTO blocked_jids SELECT legacy_host(), account, jid FROM blocklist;"
        "DROP TABLE blocklist",
    });
}

std::vector<std::string> BlocklistStore::list(const Owner& account) {
    auto q = db_.prepare("SELECT jid FROM blocked_jids WHERE host = ? AND owner = ? ORDER BY jid");
    q.bind(1, account.host).bind(2, account.name);
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
}

bool BlocklistStore::add(const Owner& account, const std::vector<std::string>& jids, std::size_t max_items) {
    storage::Database::Transaction t{db_};
    auto insert = db_.prepare("INSERT OR IGNORE INTO blocked_jids(host, owner, jid) VALUES(?, ?, ?)");
    for (const auto& jid : jids) {
        insert.reset();
        insert.bind(1, account.host).bind(2, account.name).bind(3, jid);
        insert.run();
    }
    auto count = db_.prepare("SELECT COUNT(*) FROM blocked_jids WHERE host = ? AND owner = ?");
    count.bind(1, account.host).bind(2, account.name);
    count.step();
    if (static_cast<std::size_t>(count.integer(0)) > max_items) return false;  // rolled back
    t.commit();
    return true;
}

void BlocklistStore::remove(const Owner& account, const std::vector<std::string>& jids) {
    storage::Database::Transaction t{db_};
    auto del = db_.prepare("DELETE FROM blocked_jids WHERE host = ? AND owner = ? AND jid = ?");
    for (const auto& jid : jids) {
        del.reset();
        del.bind(1, account.host).bind(2, account.name).bind(3, jid);
        del.run();
    }
    t.commit();
}

void BlocklistStore::clear(const Owner& account) {
    auto del = db_.prepare("DELETE FROM blocked_jids WHERE host = ? AND owner = ?");
    del.bind(1, account.host).bind(2, account.name);
    del.run();
}

void BlocklistStore::remove_account(storage::Database& db, const Owner& account) {
    BlocklistStore{db}.clear(account);
}

}  // namespace starling::blocking
