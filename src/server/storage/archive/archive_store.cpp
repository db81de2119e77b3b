#include "server/storage/archive/archive_store.hpp"

#include <algorithm>

#include "base/random.hpp"

namespace starling::storage {

ArchiveStore::ArchiveStore(Database& db) : db_{db} {
    db_.migrate("archive", {
        "CREATE TABLE archive (seq INTEGER PRIMARY KEY AUTOINCREMENT, store TEXT NOT NULL, host TEXT NOT NULL,"
        " owner TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL, with_jid TEXT NOT NULL, payload BLOB NOT NULL,"
        " UNIQUE (store, host, owner, id));"
        "CREATE INDEX archive_by_owner ON archive (store, host, owner, seq);"
        "CREATE INDEX archive_by_with ON archive (store, host, owner, with_jid, seq);"
        "CREATE INDEX archive_by_time ON archive (store, host, owner, at);"
        "CREATE INDEX archive_of_owner ON archive (host, owner)",
    });
}

std::string ArchiveStore::append(StoreOwner owner, ArchiveItem item, std::size_t quota) {
    if (item.id.empty()) item.id = random::id(12);
    Database::Transaction tx{db_};
    auto insert = db_.prepare(
        "INSERT INTO archive (store, host, owner, id, at, with_jid, payload) VALUES (?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, owner.store).bind(2, owner.host).bind(3, owner.owner).bind(4, item.id);
    insert.bind(5, item.when).bind(6, item.with).bind_blob(7, item.payload);
    insert.run();
    if (quota > 0) {
        // The newest `quota` stay; the index on (owner, seq) finds the cut without a scan.
        auto trim = db_.prepare(
            "DELETE FROM archive WHERE store = ? AND host = ? AND owner = ? AND seq <= "
            "(SELECT seq FROM archive WHERE store = ? AND host = ? AND owner = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)");
        trim.bind(1, owner.store).bind(2, owner.host).bind(3, owner.owner);
        trim.bind(4, owner.store).bind(5, owner.host).bind(6, owner.owner).bind(7, static_cast<std::int64_t>(quota));
        trim.run();
    }
    tx.commit();
    return item.id;
}

std::optional<std::string> ArchiveStore::append_below(StoreOwner owner, ArchiveItem item, std::size_t limit) {
    Database::Transaction tx{db_};
    if (count(owner) >= limit) return std::nullopt;
    std::string id = append(owner, std::move(item));
    tx.commit();
    return id;
}

std::optional<std::int64_t> ArchiveStore::sequence_of(StoreOwner owner, std::string_view id) {
    auto q = db_.prepare("SELECT seq FROM archive WHERE store = ? AND host = ? AND owner = ? AND id = ?");
    q.bind(1, owner.store).bind(2, owner.host).bind(3, owner.owner).bind(4, id);
    if (!q.step()) return std::nullopt;
    return q.integer(0);
}

std::optional<ArchivePage> ArchiveStore::query(StoreOwner owner, const ArchiveRange& range) {
    std::optional<std::int64_t> after, before;
    if (range.after_id && !(after = sequence_of(owner, *range.after_id))) return std::nullopt;
    if (range.before_id && !(before = sequence_of(owner, *range.before_id))) return std::nullopt;
    bool backward = range.newest || range.before_id;

    // The SQL text depends only on which conditions are present, so each variant is
    // compiled once and kept (Database::prepare).
    std::string sql = "SELECT id, at, with_jid, payload FROM archive WHERE store = ? AND host = ? AND owner = ?";
    if (range.with) sql += " AND with_jid = ?";
    if (range.start) sql += " AND at >= ?";
    if (range.end) sql += " AND at <= ?";
    if (after) sql += " AND seq > ?";
    if (before) sql += " AND seq < ?";
    sql += backward ? " ORDER BY seq DESC LIMIT ?" : " ORDER BY seq ASC LIMIT ?";
    auto q = db_.prepare(sql);
    q.bind(1, owner.store).bind(2, owner.host).bind(3, owner.owner);
    int i = 4;
    if (range.with) q.bind(i++, *range.with);
    if (range.start) q.bind(i++, *range.start);
    if (range.end) q.bind(i++, *range.end);
    if (after) q.bind(i++, *after);
    if (before) q.bind(i++, *before);
    // One more than asked: whether it exists says if the page is the last in its direction.
    q.bind(i++, static_cast<std::int64_t>(range.max) + 1);

    ArchivePage page;
    while (q.step()) page.items.push_back({q.text(0), q.integer(1), q.text(2), q.blob(3)});
    page.complete = page.items.size() <= range.max;
    if (!page.complete) page.items.pop_back();
    if (backward) std::reverse(page.items.begin(), page.items.end());
    return page;
}

std::optional<ArchiveItem> ArchiveStore::find(StoreOwner owner, std::string_view id) {
    auto q = db_.prepare(
        "SELECT id, at, with_jid, payload FROM archive WHERE store = ? AND host = ? AND owner = ? AND id = ?");
    q.bind(1, owner.store).bind(2, owner.host).bind(3, owner.owner).bind(4, id);
    if (!q.step()) return std::nullopt;
    return ArchiveItem{q.text(0), q.integer(1), q.text(2), q.blob(3)};
}

std::size_t ArchiveStore::count(StoreOwner owner) {
    auto q = db_.prepare("SELECT count(*) FROM archive WHERE store = ? AND host = ? AND owner = ?");
    q.bind(1, owner.store).bind(2, owner.host).bind(3, owner.owner);
    q.step();
    return static_cast<std::size_t>(q.integer(0));
}

void ArchiveStore::remove_before(StoreOwner owner, std::int64_t when) {
    auto q = db_.prepare("DELETE FROM archive WHERE store = ? AND host = ? AND owner = ? AND at < ?");
    q.bind(1, owner.store).bind(2, owner.host).bind(3, owner.owner).bind(4, when);
    q.run();
}

void ArchiveStore::clear(StoreOwner owner) {
    auto q = db_.prepare("DELETE FROM archive WHERE store = ? AND host = ? AND owner = ?");
    q.bind(1, owner.store).bind(2, owner.host).bind(3, owner.owner);
    q.run();
}

void ArchiveStore::remove_owner(std::string_view host, std::string_view owner) {
    auto q = db_.prepare("DELETE FROM archive WHERE host = ? AND owner = ?");
    q.bind(1, host).bind(2, owner);
    q.run();
}

}  // namespace starling::storage
