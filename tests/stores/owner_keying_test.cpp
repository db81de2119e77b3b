// One keying for every store: (host, owner). The same name on two served domains is two
// owners, and an entity a module keeps under its service's domain (a room, a node) is never
// an account's: deleting alice@a.test removes exactly her rows on a.test.
#include <gtest/gtest.h>

#include "server/module/account_deletion.hpp"
#include "server/modules/blocking/blocklist_store.hpp"
#include "server/modules/catalog.hpp"
#include "server/modules/roster/roster_store.hpp"
#include "server/storage/accounts/account_store.hpp"
#include "server/storage/archive/archive_store.hpp"
#include "server/storage/map/map_store.hpp"

namespace starling::storage {
namespace {

using server::stores::Owner;
using xmpp::sasl::ScramHash;

const Owner alice_a{"a.test", "alice"}, alice_b{"b.test", "alice"};

TEST(OwnerKeying, the_same_username_on_two_domains_is_two_accounts) {
    Database db{":memory:"};
    AccountStore accounts{db};
    ASSERT_TRUE(accounts.create("a.test", "alice", AccountStore::derive_all("password of a", 4096)));
    ASSERT_TRUE(accounts.create("b.test", "alice", AccountStore::derive_all("password of b", 4096)));
    EXPECT_FALSE(accounts.exists("c.test", "alice"));
    EXPECT_NE(accounts.credentials("a.test", "alice", ScramHash::sha256)->stored_key,
              accounts.credentials("b.test", "alice", ScramHash::sha256)->stored_key);
    ASSERT_EQ(accounts.list("b.test").size(), 1u);
    EXPECT_EQ(accounts.list("b.test")[0].host, "b.test");
    EXPECT_EQ(accounts.list().size(), 2u);

    // A password change on one domain leaves the other's keys alone.
    auto before_b = accounts.credentials("b.test", "alice", ScramHash::sha512)->stored_key;
    ASSERT_TRUE(accounts.set_credentials("a.test", "alice", AccountStore::derive_all("new password", 4096)));
    EXPECT_EQ(accounts.credentials("b.test", "alice", ScramHash::sha512)->stored_key, before_b);
    EXPECT_FALSE(accounts.set_credentials("c.test", "alice", AccountStore::derive_all("x", 4096)));

    roster::RosterStore rosters{db};
    roster::RosterItem bob{.jid = "bob@a.test", .subscription = "both"};
    rosters.put(alice_a, bob);
    EXPECT_EQ(rosters.count(alice_a), 1u);
    EXPECT_EQ(rosters.count(alice_b), 0u);
    EXPECT_EQ(rosters.version(alice_b), 0);

    blocking::BlocklistStore blocks{db};
    ASSERT_TRUE(blocks.add(alice_b, {"eve@b.test"}, 10));
    EXPECT_TRUE(blocks.list(alice_a).empty());
}

TEST(OwnerKeying, deleting_an_account_removes_its_rows_on_its_host_and_nothing_else) {
    Database db{":memory:"};
    AccountStore accounts{db};
    MapStore map{db};
    ArchiveStore archive{db};
    roster::RosterStore rosters{db};
    blocking::BlocklistStore blocks{db};
    for (const Owner* who : {&alice_a, &alice_b}) {
        ASSERT_TRUE(accounts.create(who->host, who->name, AccountStore::derive_all("pw", 4096)));
        map.set({"vcard", who->host, who->name}, "", "<vCard xmlns='vcard-temp'/>");
        archive.append({"offline", who->host, who->name}, {.when = 1, .with = "bob@a.test", .payload = "<message/>"});
        roster::RosterItem bob{.jid = "bob@a.test", .subscription = "to"};
        rosters.put(*who, bob);
        ASSERT_TRUE(blocks.add(*who, {"eve@a.test"}, 10));
    }
    // What a MUC and a PubSub service keep under their own domains, for entities that happen
    // to be called alice.
    map.set({"muc", "conference.a.test", "alice"}, "config", "<x/>");
    archive.append({"muc", "conference.a.test", "alice"}, {.when = 2, .with = "", .payload = "<message/>"});
    map.set({"pubsub", "pubsub.a.test", "alice"}, "config", "<x/>");

    ASSERT_TRUE(server::delete_account(db, alice_a, server::catalog()));
    EXPECT_FALSE(server::delete_account(db, alice_a, server::catalog()));  // gone: nothing to delete

    EXPECT_FALSE(accounts.exists("a.test", "alice"));
    EXPECT_FALSE(map.get({"vcard", "a.test", "alice"}, ""));
    EXPECT_EQ(archive.count({"offline", "a.test", "alice"}), 0u);
    EXPECT_EQ(rosters.count(alice_a), 0u);
    EXPECT_EQ(rosters.version(alice_a), 0);
    EXPECT_TRUE(blocks.list(alice_a).empty());

    EXPECT_TRUE(accounts.exists("b.test", "alice"));
    EXPECT_TRUE(accounts.credentials("b.test", "alice", ScramHash::sha1));
    EXPECT_TRUE(map.get({"vcard", "b.test", "alice"}, ""));
    EXPECT_EQ(archive.count({"offline", "b.test", "alice"}), 1u);
    EXPECT_EQ(rosters.count(alice_b), 1u);
    EXPECT_EQ(blocks.list(alice_b), std::vector<std::string>{"eve@a.test"});

    EXPECT_EQ(map.get({"muc", "conference.a.test", "alice"}, "config"), "<x/>");
    EXPECT_EQ(archive.count({"muc", "conference.a.test", "alice"}), 1u);
    EXPECT_EQ(map.get({"pubsub", "pubsub.a.test", "alice"}, "config"), "<x/>");
}

}  // namespace
}  // namespace starling::storage
