// RFC 6121 rules of issue 17, part 3, in-process at 1 and 4 shards (the interop suite has
// the same rules over the wire, tests/interop/test_rfc6121_rules.py).
#include <gtest/gtest.h>

#include "server/testing/test_server.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server::testing {
namespace {

class PresenceRules : public ::testing::TestWithParam<std::size_t> {
protected:
    TestServer server{{.shards = GetParam()}};
};

INSTANTIATE_TEST_SUITE_P(Shards, PresenceRules, ::testing::Values(1, 4),
                         [](const auto& info) { return std::to_string(info.param) + "_shards"; });

TEST_P(PresenceRules, unavailable_presence_reaches_the_resource_that_sent_it_and_the_others) {
    // §4.5.2: "... and to the resource that generated the unavailable presence".
    server.add_user("alice");
    auto phone = server.login("alice", "phone");
    auto desk = server.login("alice", "desk");
    phone->send("<presence/>");
    desk->send("<presence/>");
    phone->sync();
    desk->sync();
    phone->drain();
    desk->drain();
    phone->send("<presence type='unavailable'><status>gone</status></presence>");
    auto echoed = phone->expect(is("presence", "unavailable"));
    EXPECT_EQ(echoed.attribute("from"), "alice@localhost/phone");
    EXPECT_EQ(echoed.child_text("status", ns::client), "gone");
    EXPECT_EQ(desk->expect(is("presence", "unavailable")).attribute("from"), "alice@localhost/phone");
}

TEST_P(PresenceRules, a_roster_result_carries_ver_also_when_the_get_had_none) {
    // §2.6.3: versioning is advertised, so every result and push carries 'ver'.
    server.add_user("alice");
    auto alice = server.login("alice");
    auto result = alice->query("get", "", "<query xmlns='jabber:iq:roster'/>");
    const xml::Element* query = result.find_child("query", ns::roster);
    ASSERT_NE(query, nullptr);
    EXPECT_TRUE(query->has_attribute("ver"));
    alice->send("<iq type='set' id='s1'><query xmlns='jabber:iq:roster'><item jid='bob@localhost'/></query></iq>");
    auto push = alice->expect(is("iq", "set"));
    ASSERT_NE(push.find_child("query", ns::roster), nullptr);
    EXPECT_TRUE(push.find_child("query", ns::roster)->has_attribute("ver"));
}

TEST_P(PresenceRules, a_subscription_request_keeps_its_extensions_live_and_when_redelivered_at_login) {
    server.add_user("alice");
    server.add_user("bob");
    auto alice = server.login("alice", "phone");
    const std::string request =
        "<presence type='subscribe' to='bob@localhost'>"
        "<nick xmlns='http://jabber.org/protocol/nick'>Alice</nick>"
        "<preauth xmlns='urn:xmpp:pars:0' token='ELWVFRXE'/></presence>";
    // Bob is offline: the request is stored, then comes again at his login (§3.1.3).
    alice->send(request);
    alice->sync();
    auto bob = server.login("bob", "desk");
    bob->send("<presence/>");
    auto stored = bob->expect(is("presence", "subscribe"));
    EXPECT_EQ(stored.attribute("from"), "alice@localhost");
    ASSERT_NE(stored.find_child("nick", "http://jabber.org/protocol/nick"), nullptr);
    EXPECT_EQ(stored.child_text("nick", "http://jabber.org/protocol/nick"), "Alice");
    ASSERT_NE(stored.find_child("preauth", "urn:xmpp:pars:0"), nullptr);
    EXPECT_EQ(stored.find_child("preauth", "urn:xmpp:pars:0")->attribute("token"), "ELWVFRXE");
    // Bob online now: a new request from carol arrives live with its extensions too.
    server.add_user("carol");
    auto carol = server.login("carol");
    carol->send("<presence type='subscribe' to='bob@localhost'><nick xmlns='http://jabber.org/protocol/nick'>Carol</nick></presence>");
    auto live = bob->expect(all_of({is("presence", "subscribe"), from("carol@localhost")}));
    EXPECT_EQ(live.child_text("nick", "http://jabber.org/protocol/nick"), "Carol");
}


TEST_P(PresenceRules, naming_a_contact_before_answering_keeps_its_request_whole) {
    // "Add contact" dialogs set the roster item first, then answer.
    server.add_user("alice");
    server.add_user("bob");
    auto alice = server.login("alice", "phone");
    alice->send("<presence type='subscribe' to='bob@localhost'><nick xmlns='http://jabber.org/protocol/nick'>Alice</nick></presence>");
    alice->sync();
    {
        auto bob = server.login("bob", "desk");
        auto set = bob->query("set", "", "<query xmlns='jabber:iq:roster'><item jid='alice@localhost' name='A'/></query>");
        EXPECT_EQ(set.attribute("type"), "result");
        bob->hang_up();
    }
    auto bob = server.login("bob", "laptop");
    bob->send("<presence/>");
    auto again = bob->expect(is("presence", "subscribe"));
    EXPECT_EQ(again.child_text("nick", "http://jabber.org/protocol/nick"), "Alice");
}

}  // namespace
}  // namespace starling::server::testing
