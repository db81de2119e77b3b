// A database as release 0.1 left it, where accounts, rosters and blocklists were keyed by
// username alone, is brought to the (host, owner) keying at start-up with nothing lost; an
// upgrade that fails changes nothing. (tests/interop/test_upgrade.py does the same over the
// wire, on a file written by the release binary itself.)
#include <gtest/gtest.h>

#include "server/module/database_schema.hpp"
#include "server/modules/blocking/blocklist_store.hpp"
#include "server/modules/catalog.hpp"
#include "server/modules/roster/roster_store.hpp"
#include "server/storage/accounts/account_store.hpp"

namespace starling::storage {
namespace {

using server::stores::Owner;
using xmpp::sasl::ScramHash;

// The three tables exactly as release 0.1 created them, through its migration steps (so
// schema_versions says what that release recorded), with rows in them.
void write_release_0_1(Database& db) {
    db.migrate("accounts", {
        "CREATE TABLE accounts (username TEXT PRIMARY KEY, created INTEGER NOT NULL)",
        "CREATE TABLE scram_credentials (username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,"
        " hash TEXT NOT NULL, salt BLOB NOT NULL, iterations INTEGER NOT NULL, stored_key BLOB NOT NULL,"
        " server_key BLOB NOT NULL, PRIMARY KEY (username, hash))",
    });
    db.migrate("roster", {
        "CREATE TABLE roster_items (account TEXT NOT NULL, jid TEXT NOT NULL, name TEXT NOT NULL,"
        " subscription TEXT NOT NULL, ask INTEGER NOT NULL, pending_in INTEGER NOT NULL,"
        " approved INTEGER NOT NULL, groups TEXT NOT NULL, version INTEGER NOT NULL, removed INTEGER NOT NULL,"
        " PRIMARY KEY (account, jid))",
        "CREATE INDEX roster_items_by_version ON roster_items(account, version)",
        "CREATE TABLE roster_versions (account TEXT PRIMARY KEY, version INTEGER NOT NULL)",
        "ALTER TABLE roster_items ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE roster_items ADD COLUMN request TEXT NOT NULL DEFAULT ''",
    });
    db.migrate("blocklist", {
        "CREATE TABLE blocklist (account TEXT NOT NULL, jid TEXT NOT NULL, PRIMARY KEY (account, jid))"
        " WITHOUT ROWID",
    });
    db.exec("INSERT INTO accounts VALUES ('alice', 1700000000), ('bob', 1700000001)");
    db.exec("INSERT INTO scram_credentials VALUES"
            " ('alice', 'SHA-1', x'0102', 4096, x'a1a1', x'b1b1'), ('alice', 'SHA-256', x'0304', 4096, x'a2a2', x'b2b2'),"
            " ('bob', 'SHA-512', x'0506', 8192, x'a3a3', x'b3b3')");
    db.exec("INSERT INTO roster_items VALUES"
            " ('alice', 'bob@example.org', 'Bobby', 'both', 0, 0, 0, 'Friends\nWork\n', 3, 0, 0, ''),"
            " ('alice', 'old@example.org', '', 'none', 0, 0, 0, '', 2, 1, 0, ''),"
            " ('bob', 'carol@example.org', '', 'none', 0, 1, 0, '', 1, 0, 1,"
            "  '<presence xmlns=''jabber:client'' type=''subscribe''><nick xmlns=''http://jabber.org/protocol/nick''>C</nick></presence>')");
    db.exec("INSERT INTO roster_versions VALUES ('alice', 3), ('bob', 1)");
    db.exec("INSERT INTO blocklist VALUES ('alice', 'eve@example.org'), ('alice', 'spam.example')");
    db.forget_migrations();  // as the next process finds the file: versions read from it
}

std::int64_t count(Database& db, std::string_view sql) {
    auto q = db.prepare(sql);
    q.step();
    return q.integer(0);
}

TEST(ReleaseUpgrade, accounts_rosters_and_blocklists_move_under_the_served_domain) {
    Database db{":memory:"};
    write_release_0_1(db);
    server::prepare_database(db, "example.org", server::catalog());

    AccountStore accounts{db};
    ASSERT_EQ(accounts.list().size(), 2u);
    for (const auto& account : accounts.list()) EXPECT_EQ(account.host, "example.org");
    // The keys themselves, byte for byte: old passwords keep working.
    auto sha1 = accounts.credentials("example.org", "alice", ScramHash::sha1);
    ASSERT_TRUE(sha1);
    EXPECT_EQ(sha1->salt, std::string("\x01\x02", 2));
    EXPECT_EQ(sha1->stored_key, "\xa1\xa1");
    EXPECT_EQ(sha1->server_key, "\xb1\xb1");
    EXPECT_EQ(accounts.credentials("example.org", "bob", ScramHash::sha512)->iterations, 8192u);
    EXPECT_FALSE(accounts.credentials("example.org", "bob", ScramHash::sha1));

    roster::RosterStore rosters{db};
    const Owner alice{"example.org", "alice"}, bob{"example.org", "bob"};
    EXPECT_EQ(rosters.version(alice), 3);
    auto item = rosters.item(alice, "bob@example.org");
    ASSERT_TRUE(item);
    EXPECT_EQ(item->name, "Bobby");
    EXPECT_EQ(item->subscription, "both");
    EXPECT_EQ(item->groups, (std::vector<std::string>{"Friends", "Work"}));
    // The tombstone still tells a client at version 1 about the removal.
    auto changes = rosters.changes_since(alice, 1);
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_TRUE(changes[0].removed);
    auto pending = rosters.pending_in(bob);
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_TRUE(pending[0].hidden);
    EXPECT_NE(pending[0].request.find("<nick"), std::string::npos);
    // New writes carry on from the old versions.
    roster::RosterItem dave{.jid = "dave@example.org"};
    EXPECT_EQ(rosters.put(alice, dave), 4);

    blocking::BlocklistStore blocks{db};
    EXPECT_EQ(blocks.list(alice), (std::vector<std::string>{"eve@example.org", "spam.example"}));

    EXPECT_EQ(count(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('accounts', 'scram_credentials',"
                        " 'roster_items', 'roster_versions', 'blocklist')"),
              0);
    // Done once: the next start finds the current schema and changes nothing.
    server::prepare_database(db, "example.org", server::catalog());
    EXPECT_EQ(accounts.list().size(), 2u);
    EXPECT_EQ(rosters.count(alice), 2u);
}

TEST(ReleaseUpgrade, a_failed_upgrade_changes_nothing_and_says_why) {
    Database db{":memory:"};
    write_release_0_1(db);
    // No domain to put the old rows under: the upgrade must fail as a whole.
    try {
        server::prepare_database(db, "", server::catalog());
        FAIL() << "upgraded without a domain";
    } catch (const server::SchemaUpgradeError& e) {
        EXPECT_NE(std::string(e.what()).find("legacy host"), std::string::npos) << e.what();
    }
    EXPECT_EQ(count(db, "SELECT count(*) FROM accounts"), 2);
    EXPECT_EQ(count(db, "SELECT count(*) FROM scram_credentials"), 3);
    EXPECT_EQ(count(db, "SELECT count(*) FROM roster_items"), 3);
    EXPECT_EQ(count(db, "SELECT count(*) FROM blocklist"), 2);
    EXPECT_EQ(count(db, "SELECT version FROM schema_versions WHERE component = 'accounts'"), 2);
    EXPECT_EQ(count(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('account_rows', 'map_entries')"), 0);

    // The same file upgrades once the domain is known.
    server::prepare_database(db, "example.org", server::catalog());
    EXPECT_TRUE(AccountStore{db}.exists("example.org", "bob"));
}

TEST(ReleaseUpgrade, a_new_database_needs_no_domain_to_be_made) {
    Database db{":memory:"};
    EXPECT_EQ(server::prepare_database(db, "", server::catalog()), 0u);
    EXPECT_TRUE(AccountStore{db}.list().empty());
}

}  // namespace
}  // namespace starling::storage
