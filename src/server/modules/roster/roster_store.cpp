#include "server/modules/roster/roster_store.hpp"

namespace starling::roster {

using storage::Database;

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
    });
}

RosterItem RosterStore::read_row(storage::Statement& q) {
    return RosterItem{q.text(0), q.text(1), q.text(2), q.integer(3) != 0, q.integer(4) != 0, q.integer(5) != 0,
                      split_groups(q.text(6)), q.integer(7), q.integer(8) != 0, q.integer(9) != 0, q.text(10)};
}

std::int64_t RosterStore::version(std::string_view account) {
    auto q = db_.prepare("SELECT version FROM roster_versions WHERE account = ?");
    q.bind(1, account);
    return q.step() ? q.integer(0) : 0;
}

std::vector<RosterItem> RosterStore::items(std::string_view account) {
    auto q = db_.prepare(std::string("SELECT ") + columns + " FROM roster_items WHERE account = ? AND removed = 0 AND hidden = 0");
    q.bind(1, account);
    std::vector<RosterItem> out;
    while (q.step()) out.push_back(read_row(q));
    return out;
}

std::vector<RosterItem> RosterStore::changes_since(std::string_view account, std::int64_t since) {
    auto q = db_.prepare(std::string("SELECT ") + columns +
                         " FROM roster_items WHERE account = ? AND version > ? ORDER BY version");
    q.bind(1, account).bind(2, since);
    std::vector<RosterItem> out;
    while (q.step()) {
        out.push_back(read_row(q));
        // A hidden row may stand where a removed item was: to the client it is a removal.
        if (out.back().hidden) out.back().removed = true;
    }
    return out;
}

std::optional<RosterItem> RosterStore::item(std::string_view account, std::string_view jid) {
    auto q = db_.prepare(std::string("SELECT ") + columns +
                         " FROM roster_items WHERE account = ? AND jid = ? AND removed = 0");
    q.bind(1, account).bind(2, jid);
    if (!q.step()) return std::nullopt;
    return read_row(q);
}

std::vector<RosterItem> RosterStore::pending_in(std::string_view account) {
    auto q = db_.prepare(std::string("SELECT ") + columns +
                         " FROM roster_items WHERE account = ? AND removed = 0 AND pending_in = 1");
    q.bind(1, account);
    std::vector<RosterItem> out;
    while (q.step()) out.push_back(read_row(q));
    return out;
}

void RosterStore::forget(std::string_view account, std::string_view jid) {
    // A tombstone, not a deletion: the row may carry the version of an earlier removal that
    // a client has yet to hear about (§2.6).
    Database::Transaction t{db_};
    std::int64_t v = next_version(account);
    auto q = db_.prepare(
        "UPDATE roster_items SET removed = 1, hidden = 0, version = ?, pending_in = 0, approved = 0, request = ''"
        " WHERE account = ? AND jid = ? AND hidden = 1");
    q.bind(1, v).bind(2, account).bind(3, jid);
    q.run();
    t.commit();
}

std::size_t RosterStore::hidden_count(std::string_view account) {
    auto q = db_.prepare("SELECT COUNT(*) FROM roster_items WHERE account = ? AND removed = 0 AND hidden = 1");
    q.bind(1, account);
    q.step();
    return static_cast<std::size_t>(q.integer(0));
}

std::size_t RosterStore::count(std::string_view account) {
    auto q = db_.prepare("SELECT COUNT(*) FROM roster_items WHERE account = ? AND removed = 0 AND hidden = 0");
    q.bind(1, account);
    q.step();
    return static_cast<std::size_t>(q.integer(0));
}

std::int64_t RosterStore::next_version(std::string_view account) {
    auto q = db_.prepare(
        "INSERT INTO roster_versions(account, version) VALUES(?, 1) "
        "ON CONFLICT(account) DO UPDATE SET version = version + 1 RETURNING version");
    q.bind(1, account);
    q.step();
    return q.integer(0);
}

std::int64_t RosterStore::put(std::string_view account, RosterItem& item) {
    Database::Transaction t{db_};
    item.version = next_version(account);
    item.removed = false;
    const std::string request = item.pending_in ? item.request : "";  // never NULL (the column is NOT NULL)
    auto q = db_.prepare(
        "INSERT INTO roster_items(account, jid, name, subscription, ask, pending_in, approved, groups, version, removed,"
        " hidden, request) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT(account, jid) DO UPDATE SET"
        " name = excluded.name, subscription = excluded.subscription, ask = excluded.ask,"
        " pending_in = excluded.pending_in, approved = excluded.approved, groups = excluded.groups,"
        " version = excluded.version, removed = 0, hidden = excluded.hidden, request = excluded.request");
    q.bind(1, account).bind(2, item.jid).bind(3, item.name).bind(4, item.subscription)
        .bind(5, std::int64_t{item.ask}).bind(6, std::int64_t{item.pending_in}).bind(7, std::int64_t{item.approved})
        .bind(8, join_groups(item.groups)).bind(9, item.version).bind(10, std::int64_t{item.hidden})
        .bind(11, request);
    q.run();
    t.commit();
    return item.version;
}

std::optional<RosterItem> RosterStore::remove(std::string_view account, std::string_view jid) {
    Database::Transaction t{db_};
    auto existing = item(account, jid);
    if (!existing || existing->hidden) return std::nullopt;
    std::int64_t v = next_version(account);
    auto q = db_.prepare(
        "UPDATE roster_items SET removed = 1, version = ?, name = '', subscription = 'none', ask = 0,"
        " pending_in = 0, approved = 0, groups = '', request = '' WHERE account = ? AND jid = ?");
    q.bind(1, v).bind(2, account).bind(3, jid);
    q.run();
    t.commit();
    existing->version = v;
    return existing;
}

void RosterStore::remove_account(Database& db, std::string_view account) {
    RosterStore store{db};
    auto items = db.prepare("DELETE FROM roster_items WHERE account = ?");
    items.bind(1, account);
    items.run();
    auto versions = db.prepare("DELETE FROM roster_versions WHERE account = ?");
    versions.bind(1, account);
    versions.run();
}

}  // namespace starling::roster
