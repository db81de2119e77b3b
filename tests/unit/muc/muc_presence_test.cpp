// What occupants see of each other in-process (XEP-0045): presence broadcast by role
// (§7.2.2, muc#roomconfig_presencebroadcast), the subject's delay on entry (§7.2.15), exit
// messages (§7.14), presence from someone not in the room (§7.2.18), disco of the room and
// its occupants (§6.5, §6.6) and ghosts removed on delivery errors (§18.1.2). 1 and 4 shards.
#include "muc_fixture.hpp"

namespace starling::server::testing {
namespace {

using MucPresence = MucRoomTest;

INSTANTIATE_TEST_SUITE_P(Shards, MucPresence, ::testing::Values(1, 4),
                         [](const auto& info) { return std::to_string(info.param) + "_shards"; });

auto presence_from(const std::string& jid) { return all_of({is("presence"), from(jid)}); }

// Everything `client` got from `jid` once the server has answered a ping sent after it.
std::vector<xml::Element> got_from(TestClient& client, const std::string& jid) {
    client.sync();
    std::vector<xml::Element> out;
    for (auto& e : client.drain())
        if (e.attribute("from") == jid) out.push_back(std::move(e));
    return out;
}

TEST_P(MucPresence, visitors_presence_is_not_broadcast_when_the_room_says_so) {
    create(field("muc#roomconfig_moderatedroom", "1") +
           "<field var='muc#roomconfig_presencebroadcast'><value>moderator</value><value>participant</value></field>");
    join(*member, "me");
    got_from(*member, room + "/me");
    auto self = join(*alice, "al");  // a visitor: only she sees herself
    EXPECT_EQ(item(self)->attribute("role"), "visitor");
    EXPECT_TRUE(got_from(*member, room + "/al").empty());
    EXPECT_TRUE(got_from(*owner, room + "/al").empty());
    // She still sees the others.
    join(*bob, "bo");
    // Given voice, she appears; back to visitor, she leaves their view.
    set_role(*owner, "al", "participant", "result");
    member->expect(all_of({is("presence", "*"), from(room + "/al")}));
    set_role(*owner, "al", "visitor", "result");
    auto gone = member->expect(unavailable_from(room + "/al"));
    EXPECT_EQ(item(gone)->attribute("role"), "none");
    EXPECT_TRUE(has_status(alice->expect(presence_from(room + "/al")), 110));
}

TEST_P(MucPresence, the_subject_on_entry_says_when_it_was_set) {
    create();
    owner->send("<message type='groupchat' to='" + room + "'><subject>Topic</subject></message>");
    owner->expect(all_of({is("message", "groupchat"), from(room + "/boss")}));
    join(*alice, "al");
    auto subject = alice->expect([](const xml::Element& e) { return e.is("message", ns::client) && e.find_child("subject", ns::client); });
    const auto* delay = subject.find_child("delay", "urn:xmpp:delay");
    ASSERT_NE(delay, nullptr) << xml::to_string(subject);
    EXPECT_EQ(delay->attribute("from"), room);
    EXPECT_FALSE(delay->attribute("stamp").empty());
}

TEST_P(MucPresence, an_exit_message_goes_with_the_exit_and_not_with_a_kick) {
    create();
    join(*alice, "al");
    join(*bob, "bo");
    alice->send("<presence type='unavailable' to='" + room + "/al'><status>bye all</status></presence>");
    auto exit = bob->expect(unavailable_from(room + "/al"));
    EXPECT_EQ(exit.child_text("status", ns::client), "bye all");
    alice->send("<presence to='" + room + "/al'><x xmlns='" + std::string(muc_ns) + "'/><status>back</status></presence>");
    bob->expect([&](const xml::Element& e) {  // her return (not her first entry, which bob also got)
        return e.is("presence", ns::client) && e.attribute("from") == room + "/al" && e.child_text("status", ns::client) == "back";
    });
    set_role(*owner, "al", "none", "result");
    auto kicked = bob->expect(unavailable_from(room + "/al"));
    EXPECT_EQ(kicked.find_child("status", ns::client), nullptr) << xml::to_string(kicked);
}

TEST_P(MucPresence, presence_without_the_muc_element_from_a_non_occupant_is_told_it_is_not_in) {
    create();
    alice->send("<presence to='" + room + "/al'/>");
    auto told = alice->expect(unavailable_from(room + "/al"));
    for (int code : {110, 307, 333}) EXPECT_TRUE(has_status(told, code)) << code;
    EXPECT_TRUE(got_from(*owner, room + "/al").empty());  // she did not enter
}

TEST_P(MucPresence, disco_of_the_room_and_of_its_occupants) {
    create();
    join(*alice, "al");
    auto items = alice->query("get", room, "<query xmlns='http://jabber.org/protocol/disco#items'/>");
    std::string listed = xml::to_string(items);
    EXPECT_NE(listed.find(room + "/al"), std::string::npos) << listed;
    EXPECT_NE(listed.find(room + "/boss"), std::string::npos) << listed;
    auto outside = bob->query("get", room, "<query xmlns='http://jabber.org/protocol/disco#items'/>");
    EXPECT_EQ(outside.find_child("query", ns::disco_items)->find_child("item", ns::disco_items), nullptr);
    // §6.6: a non-occupant's disco of an occupant is bad-request (a ping: not-acceptable).
    check(bob->query("get", room + "/al", "<query xmlns='http://jabber.org/protocol/disco#info'/>"), "bad-request");
    check(bob->query("get", room + "/al", "<ping xmlns='urn:xmpp:ping'/>"), "not-acceptable");
}

TEST_P(MucPresence, a_delivery_error_from_an_occupant_removes_the_ghost) {
    create();
    join(*alice, "al");
    join(*bob, "bo");
    // bob's client (or its server) says a groupchat message could not be delivered.
    bob->send("<message type='error' to='" + room + "/boss'><error type='cancel'>"
              "<recipient-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
    alice->expect(unavailable_from(room + "/bo"));
    // Another error (a client refusing a payload) is no reason to remove anyone.
    got_from(*owner, room + "/al");  // her entry
    alice->send("<message type='error' to='" + room + "/boss'><error type='cancel'>"
                "<feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
    EXPECT_TRUE(got_from(*owner, room + "/al").empty());
}

TEST_P(MucPresence, a_nick_of_spaces_only_is_refused) {
    create();
    alice->send("<presence to='" + room + "/  '><x xmlns='" + std::string(muc_ns) + "'/></presence>");
    check(alice->expect(is("presence", "error")), "jid-malformed");
}

TEST_P(MucPresence, an_error_an_occupant_returns_to_a_forwarded_iq_does_not_name_it) {
    create();
    join(*alice, "al");
    join(*bob, "bo");
    alice->send("<iq type='get' id='v1' to='" + room + "/bo'><query xmlns='jabber:iq:version'/></iq>");
    auto forwarded = bob->expect(is("iq", "get"));
    EXPECT_EQ(forwarded.attribute("from"), room + "/al");
    bob->send("<iq type='error' id='" + std::string(forwarded.attribute("id")) + "' to='" + room + "/al'>"
              "<error type='cancel' by='" + bob->jid() + "'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    auto answer = alice->expect(has_id("v1"));
    EXPECT_EQ(answer.attribute("from"), room + "/bo");
    EXPECT_EQ(xml::to_string(answer).find("bob@localhost"), std::string::npos) << xml::to_string(answer);
    check(answer, "service-unavailable");
}

}  // namespace
}  // namespace starling::server::testing
