// The ArchiveStore contract, on an in-memory SQLite database: what every engine's archive
// must do (the PostgreSQL one will run these same tests).
#include "server/storage/archive/archive_store.hpp"

#include <gtest/gtest.h>

namespace starling::storage {
namespace {

class ArchiveContract : public ::testing::Test {
protected:
    Database db{":memory:"};
    ArchiveStore archive{db};
    StoreOwner alice{"mam", "localhost", "alice"};

    // Items "m1".."mN" at times 1000, 2000, ..., alternating 'with' bob and carol.
    void fill(StoreOwner owner, int n) {
        for (int i = 1; i <= n; ++i)
            archive.append(owner, {"m" + std::to_string(i), i * 1000, i % 2 ? "bob@localhost" : "carol@localhost",
                                   "<message>" + std::to_string(i) + "</message>"});
    }
    static std::vector<std::string> ids(const ArchivePage& page) {
        std::vector<std::string> out;
        for (const auto& item : page.items) out.push_back(item.id);
        return out;
    }
};

using Ids = std::vector<std::string>;

TEST_F(ArchiveContract, items_come_back_oldest_first_with_everything_stored) {
    fill(alice, 3);
    auto page = archive.query(alice, {});
    ASSERT_TRUE(page);
    EXPECT_EQ(ids(*page), (Ids{"m1", "m2", "m3"}));
    EXPECT_TRUE(page->complete);
    EXPECT_EQ(page->items[1].when, 2000);
    EXPECT_EQ(page->items[1].with, "carol@localhost");
    EXPECT_EQ(page->items[1].payload, "<message>2</message>");
}

TEST_F(ArchiveContract, append_makes_distinct_ids_when_none_is_given) {
    auto a = archive.append(alice, {"", 1, "", "x"});
    auto b = archive.append(alice, {"", 2, "", "y"});
    EXPECT_FALSE(a.empty());
    EXPECT_NE(a, b);
    EXPECT_EQ(archive.find(alice, b)->payload, "y");
}

TEST_F(ArchiveContract, pages_forward_after_an_id_until_complete) {
    fill(alice, 5);
    auto first = archive.query(alice, {.max = 2});
    EXPECT_EQ(ids(*first), (Ids{"m1", "m2"}));
    EXPECT_FALSE(first->complete);
    auto second = archive.query(alice, {.after_id = "m2", .max = 2});
    EXPECT_EQ(ids(*second), (Ids{"m3", "m4"}));
    EXPECT_FALSE(second->complete);
    auto last = archive.query(alice, {.after_id = "m4", .max = 2});
    EXPECT_EQ(ids(*last), (Ids{"m5"}));
    EXPECT_TRUE(last->complete);
}

TEST_F(ArchiveContract, pages_backward_from_the_newest_and_before_an_id_still_oldest_first) {
    fill(alice, 5);
    auto newest = archive.query(alice, {.newest = true, .max = 2});
    EXPECT_EQ(ids(*newest), (Ids{"m4", "m5"}));
    EXPECT_FALSE(newest->complete);
    auto earlier = archive.query(alice, {.before_id = "m4", .max = 2});
    EXPECT_EQ(ids(*earlier), (Ids{"m2", "m3"}));
    auto first = archive.query(alice, {.before_id = "m2", .max = 2});
    EXPECT_EQ(ids(*first), (Ids{"m1"}));
    EXPECT_TRUE(first->complete);
}

TEST_F(ArchiveContract, selects_by_with_and_by_inclusive_time_range) {
    fill(alice, 6);
    EXPECT_EQ(ids(*archive.query(alice, {.with = "carol@localhost"})), (Ids{"m2", "m4", "m6"}));
    EXPECT_EQ(ids(*archive.query(alice, {.start = 2000, .end = 4000})), (Ids{"m2", "m3", "m4"}));
    EXPECT_EQ(ids(*archive.query(alice, {.with = "bob@localhost", .start = 2000, .newest = true, .max = 1})),
              (Ids{"m5"}));
}

TEST_F(ArchiveContract, an_unknown_paging_id_is_not_a_page) {
    fill(alice, 2);
    EXPECT_FALSE(archive.query(alice, {.after_id = "nope"}));
    EXPECT_FALSE(archive.query(alice, {.before_id = "nope"}));
    // Another owner's id is unknown here too.
    StoreOwner bob{"mam", "localhost", "bob"};
    archive.append(bob, {"b1", 1, "", "x"});
    EXPECT_FALSE(archive.query(alice, {.after_id = "b1"}));
}

TEST_F(ArchiveContract, a_quota_drops_the_oldest_items_of_that_owner_only) {
    StoreOwner bob{"mam", "localhost", "bob"};
    fill(bob, 3);
    for (int i = 1; i <= 5; ++i) archive.append(alice, {"a" + std::to_string(i), i, "", "x"}, 3);
    EXPECT_EQ(ids(*archive.query(alice, {})), (Ids{"a3", "a4", "a5"}));
    EXPECT_EQ(archive.count(bob), 3u);
}

TEST_F(ArchiveContract, stores_and_owners_are_apart_and_removal_takes_only_the_owner) {
    StoreOwner room{"muc", "conference.localhost", "room"};
    StoreOwner alice_echo{"echo", "localhost", "alice"};
    fill(alice, 2);
    fill(alice_echo, 1);
    fill(room, 4);
    EXPECT_EQ(archive.count(alice), 2u);
    EXPECT_EQ(archive.count(alice_echo), 1u);
    archive.remove_owner("localhost", "alice");
    EXPECT_EQ(archive.count(alice), 0u);
    EXPECT_EQ(archive.count(alice_echo), 0u);
    EXPECT_EQ(archive.count(room), 4u);
}

TEST_F(ArchiveContract, retention_drops_items_older_than_a_time) {
    fill(alice, 4);
    archive.remove_before(alice, 3000);
    EXPECT_EQ(ids(*archive.query(alice, {})), (Ids{"m3", "m4"}));
}

TEST_F(ArchiveContract, the_newest_page_of_a_large_archive_uses_the_owner_index) {
    // The plan, not a timing: the newest page is a walk down the (owner, seq) index.
    fill(alice, 10);
    auto plan = db.prepare(
        "EXPLAIN QUERY PLAN SELECT id FROM archive WHERE store = 'mam' AND host = 'localhost' AND owner = 'alice' "
        "ORDER BY seq DESC LIMIT 51");
    std::string steps;
    while (plan.step()) steps += plan.text(3) + "\n";
    EXPECT_NE(steps.find("archive_by_owner"), std::string::npos) << steps;
    EXPECT_EQ(steps.find("TEMP B-TREE"), std::string::npos) << steps;
}

}  // namespace
}  // namespace starling::storage
