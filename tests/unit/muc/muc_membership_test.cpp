// Becoming a member and getting voice in-process (XEP-0045): registering with a room and the
// reserved nick it gives (§7.10, §7.12, §9.5), and voice requests in a moderated room
// (§7.13, §8.6). 1 and 4 shards.
#include "muc_fixture.hpp"

namespace starling::server::testing {
namespace {

using MucMembership = MucRoomTest;

INSTANTIATE_TEST_SUITE_P(Shards, MucMembership, ::testing::Values(1, 4),
                         [](const auto& info) { return std::to_string(info.param) + "_shards"; });

constexpr std::string_view register_ns = "jabber:iq:register";

xml::Element register_as(TestClient& client, std::string_view nick) {
    return client.query("set", room,
                        "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'>"
                        "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#register</value></field>"
                        "<field var='muc#register_roomnick'><value>" +
                            std::string(nick) + "</value></field></x></query>");
}

// The name of the identity the room gives for x-roomuser-item, or "" for none.
std::string reserved_nick(TestClient& client) {
    auto reply = client.query("get", room, "<query xmlns='http://jabber.org/protocol/disco#info' node='x-roomuser-item'/>");
    const auto* q = reply.find_child("query", ns::disco_info);
    const auto* identity = q ? q->find_child("identity", ns::disco_info) : nullptr;
    return identity ? std::string(identity->attribute("name")) : std::string{};
}

TEST_P(MucMembership, registering_makes_a_member_with_a_reserved_nick) {
    create();
    auto form = alice->query("get", room, "<query xmlns='jabber:iq:register'/>");
    check(form, "result");
    ASSERT_NE(form.find_child("query", register_ns), nullptr);
    EXPECT_NE(form.find_child("query", register_ns)->find_child("x", "jabber:x:data"), nullptr);
    EXPECT_EQ(reserved_nick(*alice), "");
    join(*alice, "al");
    check(register_as(*alice, "Alice"), "result");
    // §7.10: in the room, the new membership is broadcast.
    owner->expect([&](const xml::Element& e) {
        return e.is("presence", ns::client) && e.attribute("from") == room + "/al" && item(e) &&
               item(e)->attribute("affiliation") == "member";
    });
    EXPECT_EQ(reserved_nick(*alice), "Alice");
    auto again = alice->query("get", room, "<query xmlns='jabber:iq:register'/>");
    const auto* q = again.find_child("query", register_ns);
    ASSERT_NE(q, nullptr);
    EXPECT_NE(q->find_child("registered", register_ns), nullptr);
    EXPECT_EQ(q->child_text("username", register_ns), "Alice");
    // The nick is hers: bob can neither register it nor enter with it.
    check(register_as(*bob, "Alice"), "conflict");
    check(join(*bob, "Alice"), "conflict");
    // The member list shows it; a ban frees it.
    auto members = owner->query("get", room, "<query xmlns='" + std::string(admin_ns) + "'><item affiliation='member'/></query>");
    EXPECT_NE(xml::to_string(members).find("nick='al'"), std::string::npos) << xml::to_string(members);
    set_affiliation(*owner, "alice@localhost", "outcast", "result");
    EXPECT_TRUE(has_status(join(*bob, "Alice"), 110));
}

TEST_P(MucMembership, registration_refusals) {
    create();
    check(register_as(*alice, ""), "bad-request");
    check(alice->query("set", room, "<query xmlns='jabber:iq:register'/>"), "bad-request");
    set_affiliation(*owner, "bob@localhost", "outcast", "result");
    check(bob->query("get", room, "<query xmlns='jabber:iq:register'/>"), "not-allowed");
    check(register_as(*bob, "bob"), "not-allowed");
    configure(field("muc#roomconfig_membersonly", "1"));
    check(register_as(*alice, "al"), "not-allowed");  // the admins decide who is a member
    check(alice->query("get", "nowhere@conference.localhost", "<query xmlns='jabber:iq:register'/>"), "item-not-found");
}

TEST_P(MucMembership, cancelling_a_registration_ends_the_membership) {
    create();
    check(register_as(*alice, "al"), "result");
    check(alice->query("set", room, "<query xmlns='jabber:iq:register'><remove/></query>"), "result");
    EXPECT_EQ(reserved_nick(*alice), "");
    EXPECT_EQ(list(*owner, "member"), std::vector<std::string>{"member@localhost"});
}

TEST_P(MucMembership, an_admin_reserves_a_nick_with_the_membership) {
    create();
    admin_set(*admin, "<item jid='alice@localhost' affiliation='member' nick='Ally'/>", "result");
    EXPECT_EQ(reserved_nick(*alice), "Ally");
    admin_set(*admin, "<item jid='bob@localhost' affiliation='member' nick='Ally'/>", "conflict");
}

TEST_P(MucMembership, a_visitor_asks_for_voice_and_a_moderator_grants_it) {
    create(field("muc#roomconfig_moderatedroom", "1"));
    join(*alice, "al");
    alice->send("<message to='" + room + "'><x xmlns='jabber:x:data' type='submit'>"
                "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field>"
                "<field var='muc#role'><value>participant</value></field></x></message>");
    auto approval = owner->expect([](const xml::Element& e) { return e.is("message", ns::client) && e.find_child("x", "jabber:x:data"); });
    EXPECT_EQ(approval.attribute("from"), room);
    std::string form = xml::to_string(approval);
    EXPECT_NE(form.find("muc#request_allow"), std::string::npos);
    EXPECT_NE(form.find("<value>al</value>"), std::string::npos) << form;
    // A participant cannot answer it; the owner can.
    std::string answer = "<message to='" + room + "'><x xmlns='jabber:x:data' type='submit'>"
                         "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field>"
                         "<field var='muc#role'><value>participant</value></field>"
                         "<field var='muc#roomnick'><value>al</value></field>"
                         "<field var='muc#request_allow'><value>true</value></field></x></message>";
    join(*member, "me");
    member->send(answer);
    check(member->expect(is("message", "error")), "forbidden");
    owner->send(answer);
    auto voiced = alice->expect([&](const xml::Element& e) {
        return e.is("presence", ns::client) && e.attribute("from") == room + "/al" && item(e) &&
               item(e)->attribute("role") == "participant";
    });
    EXPECT_TRUE(has_status(voiced, 110));
}

}  // namespace
}  // namespace starling::server::testing
