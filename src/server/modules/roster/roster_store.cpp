#include "server/modules/roster/roster_store.hpp"

namespace starling::roster {

using storage::Database;
using server::stores::Owner;

namespace {
// Groups in one column, each name followed by a newline; a backslash or newline inside a
// name is escaped with a backslash (group names are arbitrary character data).
std::string join_groups(const std::vector<std::string>& groups) {
    std::string out;
    for (const auto& g : groups) {
        for (char c : g) {
            if (c == '\\') out += "\\\\";
            else if (c == '\n') out += "\\n";
            else out.push_back(c);
        }
        out.push_back('\n');
    }
    return out;
}

std::vector<std::string> split_groups(std::string_view s) {
    std::vector<std::string> out;
    std::string cur;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '\n') {
            out.push_back(std::move(cur));
            cur.clear();
        } else if (c == '\\' && i + 1 < s.size()) {
            cur.push_back(s[++i] == 'n' ? '\n' : s[i]);
        } else {
            cur.push_back(c);
        }
    }
    return out;
}

constexpr const char* columns =
    "jid, name, subscription, ask, pending_in, approved, groups, version, removed, hidden, request";
}  // namespace

RosterStore::RosterStore(Database& db) : db_{db} {
    db_.migrate("roster", {
        "CREATE TABLE roster_items (account TEXT NOT NULL, jid TEXT NOT NULL, name TEXT NOT NULL,"
        " subscription TEXT NOT NULL, ask INTEGER NOT NULL, pending_in INTEGER NOT NULL,"
        " approved INTEGER NOT NULL, groups TEXT NOT NULL, version INTEGER NOT NULL, removed INTEGER NOT NULL,"
        " PRIMARY KEY (account, jid))",
        "CREATE INDEX roster_items_by_version ON roster_items(account, version)",
        "CREATE TABLE roster_versions (account TEXT PRIMARY KEY, version INTEGER NOT NULL)",
        "ALTER TABLE roster_items ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE roster_items ADD COLUMN request TEXT NOT NULL DEFAULT ''",
        // Keyed by (host, owner): the rows of the one domain served before move under it.
        "CREATE TABLE roster_entries (host TEXT NOT NULL, owner TEXT NOT NULL, jid TEXT NOT NULL, name TEXT NOT NULL,"
        " subscription TEXT NOT NULL, ask INTEGER NOT NULL, pending_in INTEGER NOT NULL,"
        " approved INTEGER NOT NULL, groups TEXT NOT NULL, version INTEGER NOT NULL, removed INTEGER NOT NULL,"
        " hidden INTEGER NOT NULL, request TEXT NOT NULL, PRIMARY KEY (host, owner, jid)) WITHOUT ROWID;"
        "CREATE INDEX roster_entries_by_version ON roster_entries(host, owner, version);"
        "CREATE TABLE roster_owner_versions (host TEXT NOT NULL, owner TEXT NOT NULL, version INTEGER NOT NULL,"
        " PRIMARY KEY (host, owner)) WITHOUT ROWID;"
        "INSERT INTO roster_entries SELECT legacy_host(), account, jid, name, subscription, ask, pending_in, approved,"
        " groups, version, removed, hidden, request FROM roster_items;"
        "INSERT INTO roster_owner_versions SELECT legacy_host(), account, version FROM roster_versions;"
        "DROP TABLE roster_items; DROP TABLE roster_versions",
    });
}

RosterItem RosterStore::read_row(storage::Statement& q) {
    return RosterItem{q.text(0), q.text(1), q.text(2), q.integer(3) != 0, q.integer(4) != 0, q.integer(5) != 0,
                      split_groups(q.text(6)), q.integer(7), q.integer(8) != 0, q.integer(9) != 0, q.text(10)};
}

std::int64_t RosterStore::version(const Owner& account) {
    auto q = db_.prepare("SELECT version FROM roster_owner_versions WHERE host = ? AND owner = ?");
    q.bind(1, account.host).bind(2, account.name);
    return q.step() ? q.integer(0) : 0;
}

std::vector<RosterItem> RosterStore::items(const Owner& account) {
    auto q = db_.prepare(std::string("SELECT ") + columns + " FROM roster_entries WHERE host = ? AND owner = ? AND removed = 0 AND hidden = 0");
    q.bind(1, account.host).bind(2, account.name);
    std::vector<RosterItem> out;
    while (q.step()) out.push_back(read_row(q));
    return out;
}

std::vector<RosterItem> RosterStore::changes_since(const Owner& account, std::int64_t since) {
    auto q = db_.prepare(std::string("SELECT ") + columns +
                         " FROM roster_entries WHERE host = ? AND owner = ? AND version > ? ORDER BY version");
    q.bind(1, account.host).bind(2, account.name).bind(3, since);
    std::vector<RosterItem> out;
    while (q.step()) {
        out.push_back(read_row(q));
        // A hidden row may stand where a removed item was: to the client it is a removal.
        if (out.back().hidden) out.back().removed = true;
    }
    return out;
}

std::optional<RosterItem> RosterStore::item(const Owner& account, std::string_view jid) {
    auto q = db_.prepare(std::string("SELECT ") + columns +
                         " FROM roster_entries WHERE host = ? AND owner = ? AND jid = ? AND removed = 0");
    q.bind(1, account.host).bind(2, account.name).bind(3, jid);
    if (!q.step()) return std::nullopt;
    return read_row(q);
}

std::vector<RosterItem> RosterStore::pending_in(const Owner& account) {
    auto q = db_.prepare(std::string("SELECT ") + columns +
                         " FROM roster_entries WHERE host = ? AND owner = ? AND removed = 0 AND pending_in = 1");
    q.bind(1, account.host).bind(2, account.name);
    std::vector<RosterItem> out;
    while (q.step()) out.push_back(read_row(q));
    return out;
}

void RosterStore::forget(const Owner& account, std::string_view jid) {
    // A tombstone, not a deletion: the row may carry the version of an earlier removal that
    // a client has yet to hear about (§2.6).
    Database::Transaction t{db_};
    std::int64_t v = next_version(account);
    auto q = db_.prepare(
        "UPDATE roster_entries SET removed = 1, hidden = 0, version = ?, pending_in = 0, approved = 0, request = ''"
        " WHERE host = ? AND owner = ? AND jid = ? AND hidden = 1");
    q.bind(1, v).bind(2, account.host).bind(3, account.name).bind(4, jid);
    q.run();
    t.commit();
}

std::size_t RosterStore::hidden_count(const Owner& account) {
    auto q = db_.prepare("SELECT COUNT(*) FROM roster_entries WHERE host = ? AND owner = ? AND removed = 0 AND hidden = 1");
    q.bind(1, account.host).bind(2, account.name);
    q.step();
    return static_cast<std::size_t>(q.integer(0));
}

std::size_t RosterStore::count(const Owner& account) {
    auto q = db_.prepare("SELECT COUNT(*) FROM roster_entries WHERE host = ? AND owner = ? AND removed = 0 AND hidden = 0");
    q.bind(1, account.host).bind(2, account.name);
    q.step();
    return static_cast<std::size_t>(q.integer(0));
}

std::int64_t RosterStore::next_version(const Owner& account) {
    auto q = db_.prepare(
        "INSERT INTO roster_owner_versions(host, owner, version) VALUES(?, ?, 1) "
        "ON CONFLICT(host, owner) DO UPDATE SET version = version + 1 RETURNING version");
    q.bind(1, account.host).bind(2, account.name);
    q.step();
    return q.integer(0);
}

std::int64_t RosterStore::put(const Owner& account, RosterItem& item) {
    Database::Transaction t{db_};
    item.version = next_version(account);
    item.removed = false;
    const std::string request = item.pending_in ? item.request : "";  // never NULL (the column is NOT NULL)
    auto q = db_.prepare(
        "INSERT INTO roster_entries(host, owner, jid, name, subscription, ask, pending_in, approved, groups, version,"
        " removed, hidden, request) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT(host, owner, jid) DO UPDATE SET"
        " name = excluded.name, subscription = excluded.subscription, ask = excluded.ask,"
        " pending_in = excluded.pending_in, approved = excluded.approved, groups = excluded.groups,"
        " version = excluded.version, removed = 0, hidden = excluded.hidden, request = excluded.request");
    q.bind(1, account.host).bind(2, account.name).bind(3, item.jid).bind(4, item.name).bind(5, item.subscription)
        .bind(6, std::int64_t{item.ask}).bind(7, std::int64_t{item.pending_in}).bind(8, std::int64_t{item.approved})
        .bind(9, join_groups(item.groups)).bind(10, item.version).bind(11, std::int64_t{item.hidden})
        .bind(12, request);
    q.run();
    t.commit();
    return item.version;
}

std::optional<RosterItem> RosterStore::remove(const Owner& account, std::string_view jid) {
    Database::Transaction t{db_};
    auto existing = item(account, jid);
    if (!existing || existing->hidden) return std::nullopt;
    std::int64_t v = next_version(account);
    auto q = db_.prepare(
        "UPDATE roster_entries SET removed = 1, version = ?, name = '', subscription = 'none', ask = 0,"
        " pending_in = 0, approved = 0, groups = '', request = '' WHERE host = ? AND owner = ? AND jid = ?");
    q.bind(1, v).bind(2, account.host).bind(3, account.name).bind(4, jid);
    q.run();
    t.commit();
    existing->version = v;
    return existing;
}

void RosterStore::remove_account(Database& db, const Owner& account) {
    RosterStore store{db};
    auto items = db.prepare("DELETE FROM roster_entries WHERE host = ? AND owner = ?");
    items.bind(1, account.host).bind(2, account.name);
    items.run();
    auto versions = db.prepare("DELETE FROM roster_owner_versions WHERE host = ? AND owner = ?");
    versions.bind(1, account.host).bind(2, account.name);
    versions.run();
}

}  // namespace starling::roster
