// PreauthTable: caps on unauthenticated connections make room instead of refusing, by
// evicting the least advanced, oldest connection of the address (or of the server).
#include "server/stream/c2s/preauth_table.hpp"

#include <gtest/gtest.h>

namespace starling::server {
namespace {

using P = PreauthProgress;

std::vector<std::uint64_t> ids(const std::vector<PreauthTable::Connection>& cs) {
    std::vector<std::uint64_t> out;
    for (const auto& c : cs) out.push_back(c.id);
    return out;
}

TEST(PreauthTable, a_newcomer_at_the_address_cap_is_admitted_and_the_oldest_idle_connection_goes) {
    PreauthTable table{3, 0};
    for (std::uint64_t id = 1; id <= 3; ++id) EXPECT_TRUE(table.admit({id, 0}, "10.0.0.1").empty());
    auto evicted = table.admit({4, 1}, "10.0.0.1");
    ASSERT_EQ(ids(evicted), (std::vector<std::uint64_t>{1}));
    EXPECT_EQ(evicted[0].shard, 0u);
    EXPECT_EQ(table.size_of("10.0.0.1"), 3u);
}

TEST(PreauthTable, the_least_progress_goes_first_whatever_its_age) {
    PreauthTable table{3, 0};
    table.admit({1, 0}, "a");
    table.admit({2, 0}, "a");
    table.admit({3, 0}, "a");
    table.advance(1, P::authenticating);  // the oldest is a client halfway through SASL
    table.advance(2, P::encrypted);
    table.advance(3, P::stream_opened);
    EXPECT_EQ(ids(table.admit({4, 0}, "a")), (std::vector<std::uint64_t>{3}));
    EXPECT_EQ(ids(table.admit({5, 0}, "a")), (std::vector<std::uint64_t>{4}));  // 4 never sent a header
    table.advance(5, P::encrypted);
    EXPECT_EQ(ids(table.admit({6, 0}, "a")), (std::vector<std::uint64_t>{2}));  // equal progress: the older
}

TEST(PreauthTable, other_addresses_are_not_touched_by_one_address_at_its_cap) {
    PreauthTable table{2, 0};
    table.admit({1, 0}, "attacker");
    table.admit({2, 0}, "other");
    table.admit({3, 0}, "attacker");
    EXPECT_EQ(ids(table.admit({4, 0}, "attacker")), (std::vector<std::uint64_t>{1}));
    EXPECT_EQ(table.size_of("other"), 1u);
}

TEST(PreauthTable, the_server_cap_evicts_across_addresses_and_memory_stays_bounded) {
    PreauthTable table{0, 100};
    std::size_t evicted = 0;
    for (std::uint64_t id = 1; id <= 10'000; ++id)
        evicted += table.admit({id, 0}, "198.51.100." + std::to_string(id % 250)).size();
    EXPECT_EQ(table.size(), 100u);
    EXPECT_EQ(evicted, 9'900u);
}

TEST(PreauthTable, both_caps_at_once_evict_two) {
    PreauthTable table{2, 3};
    table.admit({1, 0}, "a");
    table.admit({2, 0}, "b");
    table.admit({3, 0}, "a");
    // "a" is at 2: its oldest (1) goes; the server is then at 2 of 3, so nothing more.
    EXPECT_EQ(ids(table.admit({4, 0}, "a")), (std::vector<std::uint64_t>{1}));
    // "c" is new; the server is at 3: the oldest least advanced anywhere (2) goes.
    EXPECT_EQ(ids(table.admit({5, 0}, "c")), (std::vector<std::uint64_t>{2}));
    EXPECT_EQ(table.size(), 3u);
}

TEST(PreauthTable, removal_and_late_progress_of_an_evicted_connection_are_harmless) {
    PreauthTable table{1, 0};
    table.admit({1, 0}, "a");
    table.admit({2, 0}, "a");  // evicts 1
    table.advance(1, P::encrypted);
    table.remove(1);
    EXPECT_EQ(table.size(), 1u);
    table.remove(2);
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(table.size_of("a"), 0u);
}

TEST(PreauthTable, progress_never_goes_back) {
    PreauthTable table{2, 0};
    table.admit({1, 0}, "a");
    table.admit({2, 0}, "a");
    table.advance(1, P::encrypted);
    table.advance(1, P::stream_opened);  // ignored
    table.advance(2, P::stream_opened);
    EXPECT_EQ(ids(table.admit({3, 0}, "a")), (std::vector<std::uint64_t>{2}));
}

}  // namespace
}  // namespace starling::server
