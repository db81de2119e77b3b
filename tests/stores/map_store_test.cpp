// MapStore's contract, on an in-memory SQLite database: what every engine's implementation
// must do.
#include <gtest/gtest.h>

#include "server/storage/map/map_store.hpp"

namespace starling::storage {
namespace {

TEST(MapContract, a_value_is_kept_per_store_host_owner_and_key_and_replaced_on_set) {
    Database db{":memory:"};
    MapStore map{db};
    map.set({"vcard", "a.example", "alice"}, "", "<vCard/>");
    map.set({"vcard", "b.example", "alice"}, "", "<vCard>other host</vCard>");
    map.set({"private", "a.example", "alice"}, "storage:bookmarks", "<storage/>");
    EXPECT_EQ(map.get({"vcard", "a.example", "alice"}, ""), "<vCard/>");
    EXPECT_EQ(map.get({"vcard", "b.example", "alice"}, ""), "<vCard>other host</vCard>");
    EXPECT_FALSE(map.get({"private", "a.example", "alice"}, ""));  // another key
    EXPECT_FALSE(map.get({"vcard", "a.example", "bob"}, ""));
    map.set({"vcard", "a.example", "alice"}, "", "<vCard>new</vCard>");
    EXPECT_EQ(map.get({"vcard", "a.example", "alice"}, ""), "<vCard>new</vCard>");
}

TEST(MapContract, entries_list_one_owners_keys_of_one_store_in_key_order) {
    Database db{":memory:"};
    MapStore map{db};
    map.set({"private", "h", "alice"}, "z:ns", "z");
    map.set({"private", "h", "alice"}, "a:ns", "a");
    map.set({"private", "h", "bob"}, "b:ns", "b");
    map.set({"vcard", "h", "alice"}, "", "v");
    using Entries = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(map.entries({"private", "h", "alice"}), (Entries{{"a:ns", "a"}, {"z:ns", "z"}}));
    EXPECT_TRUE(map.entries({"private", "h", "carol"}).empty());
}

TEST(MapContract, owners_lists_who_has_entries_in_one_store_under_one_host_once_each) {
    Database db{":memory:"};
    MapStore map{db};
    map.set({"muc_rooms", "conference.a", "lobby"}, "", "x");
    map.set({"muc_rooms", "conference.a", "attic"}, "k1", "x");
    map.set({"muc_rooms", "conference.a", "attic"}, "k2", "x");
    map.set({"muc_rooms", "conference.b", "cellar"}, "", "x");  // another service
    map.set({"vcard", "conference.a", "hall"}, "", "x");        // another store
    EXPECT_EQ(map.owners("muc_rooms", "conference.a"), (std::vector<std::string>{"attic", "lobby"}));
    EXPECT_TRUE(map.owners("muc_rooms", "conference.c").empty());
}

TEST(MapContract, remove_clear_and_remove_owner_touch_only_what_they_name) {
    Database db{":memory:"};
    MapStore map{db};
    map.set({"private", "h", "alice"}, "a", "1");
    map.set({"private", "h", "alice"}, "b", "2");
    map.set({"vcard", "h", "alice"}, "", "v");
    map.set({"vcard", "other", "alice"}, "", "v2");
    map.set({"vcard", "h", "bob"}, "", "vb");
    EXPECT_TRUE(map.remove({"private", "h", "alice"}, "a"));
    EXPECT_FALSE(map.remove({"private", "h", "alice"}, "a"));
    map.clear({"private", "h", "alice"});
    EXPECT_FALSE(map.get({"private", "h", "alice"}, "b"));
    EXPECT_EQ(map.get({"vcard", "h", "alice"}, ""), "v");
    map.remove_owner("h", "alice");
    EXPECT_FALSE(map.get({"vcard", "h", "alice"}, ""));
    EXPECT_EQ(map.get({"vcard", "other", "alice"}, ""), "v2");  // same name, another host
    EXPECT_EQ(map.get({"vcard", "h", "bob"}, ""), "vb");
}

TEST(MapContract, values_keep_any_text_exactly) {
    Database db{":memory:"};
    MapStore map{db};
    std::string value = "line one\nline two\t'quoted' \"double\" <x/> \xc3\xa9";
    map.set({"s", "h", "o"}, "k", value);
    EXPECT_EQ(map.get({"s", "h", "o"}, "k"), value);
    map.set({"s", "h", "o"}, "empty", "");
    EXPECT_EQ(map.get({"s", "h", "o"}, "empty"), "");
}

}  // namespace
}  // namespace starling::storage
