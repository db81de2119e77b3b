// MUC administration in-process (XEP-0045 §8-10): who may change which role and which
// affiliation, with the exact refusal of each rule; that a request with one refused change
// changes nothing; kicks and bans with their status codes; members-only and moderated rooms;
// destroying a room. The wire-level tests (tests/interop/test_muc_admin.py) cover clients;
// these are the rules, fast, with 1 and 4 shards (rooms live on their owner shard).
#include "muc_fixture.hpp"

namespace starling::server::testing {
namespace {

using MucAdmin = MucRoomTest;

INSTANTIATE_TEST_SUITE_P(Shards, MucAdmin, ::testing::Values(1, 4),
                         [](const auto& info) { return std::to_string(info.param) + "_shards"; });

TEST_P(MucAdmin, a_kick_removes_the_occupant_with_307_actor_and_reason) {
    create();
    join(*alice, "al");
    join(*bob, "bo");
    set_role(*owner, "al", "none", "result", "behave");
    auto kicked = alice->expect(unavailable_from(room + "/al"));
    EXPECT_TRUE(has_status(kicked, 110));
    EXPECT_TRUE(has_status(kicked, 307));
    ASSERT_NE(item(kicked), nullptr);
    EXPECT_EQ(item(kicked)->attribute("role"), "none");
    EXPECT_EQ(item(kicked)->find_child("actor", user_ns)->attribute("nick"), "boss");
    EXPECT_EQ(item(kicked)->child_text("reason", user_ns), "behave");
    auto seen = bob->expect(unavailable_from(room + "/al"));
    EXPECT_TRUE(has_status(seen, 307));
    EXPECT_FALSE(has_status(seen, 110));
    // Out of the room: its groupchat is refused.
    auto refused = alice->query("get", room + "/bo", "<ping xmlns='urn:xmpp:ping'/>");
    check(refused, "not-acceptable");
}

TEST_P(MucAdmin, who_may_kick_whom) {
    create();
    join(*admin, "ad");
    join(*member, "me");
    join(*alice, "al");
    set_role(*alice, "me", "none", "forbidden");     // a participant
    set_role(*member, "al", "none", "forbidden");    // a member is a participant too
    set_role(*owner, "boss", "none", "conflict");    // oneself
    set_role(*admin, "boss", "none", "not-allowed"); // an admin kicks no owner
    set_role(*owner, "nobody", "none", "item-not-found");
    set_role(*owner, "me", "moderator", "result");
    set_role(*member, "ad", "none", "not-allowed");  // a member-moderator kicks no admin
    set_role(*member, "al", "none", "result");       // but an unaffiliated participant
    set_role(*bob, "me", "none", "forbidden");       // not even in the room
}

TEST_P(MucAdmin, voice_in_a_moderated_room) {
    create(field("muc#roomconfig_moderatedroom", "1"));
    auto self = join(*alice, "al");
    EXPECT_EQ(item(self)->attribute("role"), "visitor");
    EXPECT_EQ(item(join(*member, "me"))->attribute("role"), "participant");
    alice->send("<message type='groupchat' to='" + room + "'><body>may I?</body></message>");
    auto refused = alice->expect(is("message", "error"));
    check(refused, "forbidden");
    set_role(*member, "al", "participant", "forbidden");  // not a moderator
    set_role(*owner, "al", "participant", "result");
    auto voiced = member->expect([&](const xml::Element& e) {
        return e.is("presence", ns::client) && e.attribute("from") == room + "/al" && item(e) &&
               item(e)->attribute("role") == "participant";
    });
    (void)voiced;
    alice->send("<message type='groupchat' to='" + room + "'><body>thanks</body></message>");
    member->expect(all_of({is("message", "groupchat"), from(room + "/al")}));
    // Nobody revokes an admin's voice; a moderator revokes a participant's.
    join(*admin, "ad");
    set_role(*owner, "ad", "visitor", "not-allowed");
    set_role(*owner, "al", "visitor", "result");
}

TEST_P(MucAdmin, moderator_status_is_the_admins_to_give_and_take) {
    create();
    join(*admin, "ad");
    join(*alice, "al");
    join(*member, "me");
    set_role(*owner, "me", "moderator", "result");
    set_role(*member, "al", "moderator", "forbidden");    // a moderator without admin affiliation
    set_role(*member, "ad", "participant", "forbidden");
    set_role(*admin, "boss", "participant", "not-allowed");  // an owner is always a moderator
    set_role(*admin, "me", "participant", "result");
}

TEST_P(MucAdmin, who_may_change_affiliations) {
    create();
    set_affiliation(*alice, "bob@localhost", "member", "forbidden");
    set_affiliation(*member, "bob@localhost", "member", "forbidden");
    set_affiliation(*admin, "bob@localhost", "admin", "forbidden");        // owners make admins
    set_affiliation(*admin, "owner@localhost", "outcast", "not-allowed");  // nor touch an owner
    set_affiliation(*admin, "admin@localhost", "outcast", "conflict");     // oneself
    set_affiliation(*owner, "owner@localhost", "admin", "conflict");       // the only owner
    set_affiliation(*admin, "bob@localhost/phone", "member", "result");    // a full JID: its bare JID
    EXPECT_EQ(list(*owner, "member"), (std::vector<std::string>{"bob@localhost", "member@localhost"}));
    set_affiliation(*owner, "alice@localhost", "owner", "result");
    set_affiliation(*owner, "owner@localhost", "admin", "result");  // now there is another owner
    EXPECT_EQ(list(*alice, "owner"), std::vector<std::string>{"alice@localhost"});
}

TEST_P(MucAdmin, a_request_with_one_refused_change_changes_nothing) {
    create();
    admin_set(*admin,
              "<item jid='bob@localhost' affiliation='member'/><item jid='owner@localhost' affiliation='outcast'/>",
              "not-allowed");
    EXPECT_EQ(list(*owner, "member"), std::vector<std::string>{"member@localhost"});
    admin_set(*admin, "<item nick='x' role='none' affiliation='none'/>", "bad-request");
    admin_set(*admin, "<item jid='bob@localhost'/>", "bad-request");
}

TEST_P(MucAdmin, a_ban_removes_the_user_with_301_and_keeps_it_out_until_lifted) {
    create();
    join(*alice, "al");
    join(*bob, "bo");
    set_affiliation(*admin, "alice@localhost", "outcast", "result");
    auto banned = alice->expect(unavailable_from(room + "/al"));
    EXPECT_TRUE(has_status(banned, 301));
    EXPECT_TRUE(has_status(banned, 110));
    EXPECT_EQ(item(banned)->attribute("affiliation"), "outcast");
    EXPECT_TRUE(has_status(bob->expect(unavailable_from(room + "/al")), 301));
    EXPECT_EQ(list(*admin, "outcast"), std::vector<std::string>{"alice@localhost"});
    check(join(*alice, "al"), "forbidden");
    set_affiliation(*admin, "alice@localhost", "none", "result");
    EXPECT_TRUE(list(*admin, "outcast").empty());
    EXPECT_TRUE(has_status(join(*alice, "al"), 110));
}

TEST_P(MucAdmin, a_ban_of_a_domain_covers_its_users_but_not_those_with_an_affiliation_of_their_own) {
    create();
    join(*bob, "bo");
    set_affiliation(*owner, "localhost", "outcast", "result");
    EXPECT_TRUE(has_status(bob->expect(unavailable_from(room + "/bo")), 301));
    check(join(*alice, "al"), "forbidden");
    EXPECT_TRUE(has_status(join(*member, "me"), 110));
}

TEST_P(MucAdmin, affiliation_changes_are_broadcast_with_the_role_that_follows) {
    create();
    join(*alice, "al");
    join(*bob, "bo");
    set_affiliation(*owner, "alice@localhost", "admin", "result");
    auto seen = bob->expect([&](const xml::Element& e) {
        return e.is("presence", ns::client) && e.attribute("from") == room + "/al" && item(e) &&
               item(e)->attribute("affiliation") == "admin";
    });
    EXPECT_EQ(item(seen)->attribute("role"), "moderator");
    set_affiliation(*owner, "alice@localhost", "none", "result");
    seen = bob->expect([&](const xml::Element& e) {
        return e.is("presence", ns::client) && e.attribute("from") == room + "/al" && item(e) &&
               item(e)->attribute("affiliation") == "none";
    });
    EXPECT_EQ(item(seen)->attribute("role"), "participant");
}

TEST_P(MucAdmin, lists_are_for_those_allowed_to_see_them) {
    create();
    join(*member, "me");
    join(*owner, "boss");
    auto get = [&](TestClient& c, std::string_view attr) {
        return c.query("get", room, "<query xmlns='" + std::string(admin_ns) + "'><item " + std::string(attr) + "/></query>");
    };
    check(get(*member, "affiliation='member'"), "forbidden");  // semi-anonymous
    check(get(*admin, "affiliation='owner'"), "forbidden");
    check(get(*admin, "affiliation='member'"), "result");
    check(get(*member, "role='moderator'"), "forbidden");
    auto moderators = get(*owner, "role='moderator'");
    const auto* q = moderators.find_child("query", admin_ns);
    ASSERT_NE(q, nullptr);
    ASSERT_NE(q->find_child("item", admin_ns), nullptr);
    EXPECT_EQ(q->find_child("item", admin_ns)->attribute("nick"), "boss");
    configure(field("muc#roomconfig_whois", "anyone"));
    check(get(*member, "affiliation='member'"), "result");
}

TEST_P(MucAdmin, members_only) {
    create(field("muc#roomconfig_membersonly", "1"));
    auto refused = join(*alice, "al");
    check(refused, "registration-required");
    EXPECT_EQ(refused.find_child("error", ns::client)->attribute("type"), "auth");
    EXPECT_EQ(item(join(*member, "me"))->attribute("role"), "participant");
    set_affiliation(*admin, "member@localhost", "none", "result");
    auto removed = member->expect(unavailable_from(room + "/me"));
    EXPECT_TRUE(has_status(removed, 321));
    // An invitation from an admin makes the invitee a member.
    join(*admin, "ad");
    admin->send("<message to='" + room + "'><x xmlns='" + std::string(user_ns) + "'><invite to='" + alice->jid() + "'/></x></message>");
    admin->sync();
    for (const auto& e : admin->drain()) EXPECT_NE(e.attribute("type"), "error") << xml::to_string(e);
    alice->expect(all_of({is("message"), from(room)}));
    EXPECT_TRUE(has_status(join(*alice, "al"), 110));
}

TEST_P(MucAdmin, a_room_turned_members_only_removes_non_members_with_322) {
    create();
    join(*alice, "al");
    join(*member, "me");
    configure(field("muc#roomconfig_membersonly", "1"));
    EXPECT_TRUE(has_status(alice->expect(unavailable_from(room + "/al")), 322));
    member->sync();
    for (const auto& e : member->drain())
        EXPECT_FALSE(e.is("presence", ns::client) && e.attribute("from") == room + "/me" && e.attribute("type") == "unavailable");
}

TEST_P(MucAdmin, destroying_a_room_tells_each_occupant_once_and_the_room_is_gone) {
    create();
    join(*alice, "al");
    alice->sync();
    alice->drain();  // the room's state on entry
    auto refused = alice->query("set", room, "<query xmlns='" + std::string(owner_ns) + "'><destroy/></query>");
    check(refused, "forbidden");
    auto done = owner->query("set", room,
                             "<query xmlns='" + std::string(owner_ns) + "'><destroy jid='next@conference.localhost'>"
                             "<reason>moved</reason><password>pw</password></destroy></query>");
    check(done, "result");
    auto gone = alice->expect(unavailable_from(room + "/al"));
    const auto* destroy = gone.find_child("x", user_ns)->find_child("destroy", user_ns);
    ASSERT_NE(destroy, nullptr);
    EXPECT_EQ(destroy->attribute("jid"), "next@conference.localhost");
    EXPECT_EQ(destroy->child_text("reason", user_ns), "moved");
    EXPECT_EQ(destroy->child_text("password", user_ns), "pw");
    alice->sync();
    for (const auto& e : alice->drain()) EXPECT_NE(e.attribute("from"), room + "/boss") << xml::to_string(e);
    check(alice->query("get", room, "<query xmlns='http://jabber.org/protocol/disco#info'/>"), "item-not-found");
    EXPECT_TRUE(has_status(join(*bob, "bo"), 201));  // a new room
}

}  // namespace
}  // namespace starling::server::testing
