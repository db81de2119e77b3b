// Contracts of the stores that came before the generic ones (MapStore, ArchiveStore), on an
// in-memory SQLite database: what each must keep doing when its engine changes (PostgreSQL)
// or it moves onto the generic stores.
#include <gtest/gtest.h>

#include "server/modules/blocking/blocklist_store.hpp"
#include "server/modules/roster/roster_store.hpp"
#include "server/storage/accounts/account_store.hpp"

namespace starling::storage {
namespace {

const server::stores::Owner alice{"localhost", "alice"}, bob{"localhost", "bob"};

TEST(AccountContract, credentials_are_kept_per_hash_and_replaced_and_removed_with_the_account) {
    Database db{":memory:"};
    AccountStore accounts{db};
    auto first = AccountStore::derive_all("first password", 4096);
    EXPECT_TRUE(accounts.create("localhost", "alice", first));
    EXPECT_FALSE(accounts.create("localhost", "alice", first));  // exists
    EXPECT_TRUE(accounts.exists("localhost", "alice"));
    auto sha256 = accounts.credentials("localhost", "alice", xmpp::sasl::ScramHash::sha256);
    ASSERT_TRUE(sha256);
    auto second = AccountStore::derive_all("second password", 4096);
    EXPECT_TRUE(accounts.set_credentials("localhost", "alice", second));
    EXPECT_NE(accounts.credentials("localhost", "alice", xmpp::sasl::ScramHash::sha256)->stored_key, sha256->stored_key);
    EXPECT_FALSE(accounts.set_credentials("localhost", "nobody", second));
    ASSERT_EQ(accounts.list().size(), 1u);
    EXPECT_EQ(accounts.list()[0].host, "localhost");
    EXPECT_EQ(accounts.list()[0].username, "alice");
    EXPECT_TRUE(accounts.remove("localhost", "alice"));
    EXPECT_FALSE(accounts.exists("localhost", "alice"));
    EXPECT_FALSE(accounts.credentials("localhost", "alice", xmpp::sasl::ScramHash::sha1));
}

TEST(BlocklistContract, adds_within_the_limit_removes_and_clears_per_account) {
    Database db{":memory:"};
    blocking::BlocklistStore blocks{db};
    EXPECT_TRUE(blocks.add(alice, {"eve@localhost", "spam.example"}, 3));
    EXPECT_FALSE(blocks.add(alice, {"a@x", "b@x"}, 3));  // would be 4
    EXPECT_EQ(blocks.list(alice).size(), 2u);
    EXPECT_TRUE(blocks.add(bob, {"eve@localhost"}, 3));
    blocks.remove(alice, {"spam.example"});
    EXPECT_EQ(blocks.list(alice), std::vector<std::string>{"eve@localhost"});
    blocks.clear(alice);
    EXPECT_TRUE(blocks.list(alice).empty());
    EXPECT_EQ(blocks.list(bob).size(), 1u);
}

TEST(RosterContract, every_change_gets_a_new_version_and_removals_stay_as_tombstones) {
    Database db{":memory:"};
    roster::RosterStore rosters{db};
    roster::RosterItem bob{.jid = "bob@localhost", .name = "Bob", .subscription = "both", .groups = {"Friends"}};
    auto v1 = rosters.put(alice, bob);
    roster::RosterItem carol{.jid = "carol@localhost"};
    auto v2 = rosters.put(alice, carol);
    EXPECT_LT(v1, v2);
    EXPECT_EQ(rosters.version(alice), v2);
    EXPECT_EQ(rosters.count(alice), 2u);
    auto stored = rosters.item(alice, "bob@localhost");
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->name, "Bob");
    EXPECT_EQ(stored->subscription, "both");
    EXPECT_EQ(stored->groups, std::vector<std::string>{"Friends"});

    auto removed = rosters.remove(alice, "bob@localhost");
    ASSERT_TRUE(removed);
    EXPECT_GT(removed->version, v2);
    EXPECT_FALSE(rosters.item(alice, "bob@localhost"));
    auto changes = rosters.changes_since(alice, v1);
    ASSERT_EQ(changes.size(), 2u);  // carol's put, then bob's removal, oldest first
    EXPECT_EQ(changes[0].jid, "carol@localhost");
    EXPECT_EQ(changes[1].jid, "bob@localhost");
    EXPECT_TRUE(changes[1].removed);
    EXPECT_TRUE(rosters.changes_since(alice, rosters.version(alice)).empty());
    EXPECT_EQ(rosters.count({"localhost", "bob"}), 0u);  // the account bob, not the item
}

TEST(RosterContract, a_hidden_pending_request_is_not_a_roster_item_until_kept) {
    Database db{":memory:"};
    roster::RosterStore rosters{db};
    roster::RosterItem stranger{.jid = "eve@localhost", .pending_in = true, .hidden = true};
    rosters.put(alice, stranger);
    EXPECT_EQ(rosters.hidden_count(alice), 1u);
    EXPECT_EQ(rosters.pending_in(alice).size(), 1u);
    for (const auto& item : rosters.items(alice)) EXPECT_NE(item.jid, "eve@localhost");
    rosters.forget(alice, "eve@localhost");
    EXPECT_EQ(rosters.hidden_count(alice), 0u);
    EXPECT_TRUE(rosters.pending_in(alice).empty());
}

}  // namespace
}  // namespace starling::storage
