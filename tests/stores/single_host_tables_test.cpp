// A database written before stores were keyed by host: its per-account rows must all be
// there afterwards, under the served domain, and the adoption must happen once.
#include <gtest/gtest.h>

#include "server/storage/archive/archive_store.hpp"
#include "server/storage/legacy/single_host_tables.hpp"
#include "server/storage/map/map_store.hpp"

namespace starling::storage {
namespace {

// The two tables exactly as the earlier releases created them (with their schema versions).
void write_old_schema(Database& db) {
    db.migrate("keyval", {
        "CREATE TABLE keyval (store TEXT NOT NULL, account TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
        " PRIMARY KEY (account, store, key))",
    });
    db.migrate("offline", {
        "CREATE TABLE offline_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL,"
        " stanza TEXT NOT NULL, stamp INTEGER NOT NULL)",
        "CREATE INDEX offline_messages_by_account ON offline_messages(account, id)",
    });
    db.exec("INSERT INTO keyval VALUES ('vcard', 'alice', '', '<vCard xmlns=''vcard-temp''/>'),"
            " ('private', 'alice', 'storage:bookmarks', '<query/>'), ('lastactivity', 'bob', '', '1700000000\nbye')");
    db.exec("INSERT INTO offline_messages (account, stanza, stamp) VALUES ('alice', '<message>first</message>', 1700000001),"
            " ('bob', '<message>to bob</message>', 1700000002), ('alice', '<message>second</message>', 1700000003)");
}

TEST(SingleHostTables, every_row_moves_under_the_host_and_the_old_tables_go) {
    Database db{":memory:"};
    write_old_schema(db);
    EXPECT_EQ(adopt_single_host_tables(db, "example.org"), 6u);
    MapStore map{db};
    EXPECT_EQ(map.get({"vcard", "example.org", "alice"}, ""), "<vCard xmlns='vcard-temp'/>");
    EXPECT_EQ(map.get({"private", "example.org", "alice"}, "storage:bookmarks"), "<query/>");
    EXPECT_EQ(map.get({"lastactivity", "example.org", "bob"}, ""), "1700000000\nbye");
    ArchiveStore archive{db};
    auto alice = archive.query({"offline", "example.org", "alice"}, {});
    ASSERT_TRUE(alice);
    ASSERT_EQ(alice->items.size(), 2u);
    EXPECT_EQ(alice->items[0].payload, "<message>first</message>");  // oldest first, as before
    EXPECT_EQ(alice->items[0].when, 1700000001LL * 1'000'000);
    EXPECT_EQ(alice->items[1].payload, "<message>second</message>");
    EXPECT_EQ(archive.count({"offline", "example.org", "bob"}), 1u);
    auto q = db.prepare("SELECT count(*) FROM sqlite_master WHERE name IN ('keyval', 'offline_messages')");
    q.step();
    EXPECT_EQ(q.integer(0), 0);
    // Done once: a second start finds nothing to move and leaves the data alone.
    EXPECT_EQ(adopt_single_host_tables(db, "example.org"), 0u);
    EXPECT_EQ(map.get({"vcard", "example.org", "alice"}, ""), "<vCard xmlns='vcard-temp'/>");
}

TEST(SingleHostTables, a_new_database_has_nothing_to_adopt) {
    Database db{":memory:"};
    EXPECT_EQ(adopt_single_host_tables(db, "example.org"), 0u);
}

}  // namespace
}  // namespace starling::storage
