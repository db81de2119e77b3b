// PEP in-process (XEP-0163), with 1 and 4 shards: an account publishes to its own bare JID,
// the node comes into being, and the notifications go to the account's resources and to the
// contacts that receive its presence, each only for the nodes its caps ask for (+notify); a
// newly available resource gets the last items. The wire-level behaviour, with slixmpp, is
// tests/interop/test_pep.py.
#include <gtest/gtest.h>

#include "server/testing/test_server.hpp"
#include "xml/parse_element.hpp"
#include "xml/writer.hpp"
#include "xmpp/caps.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server::testing {
namespace {

constexpr std::string_view pubsub_ns = "http://jabber.org/protocol/pubsub";
constexpr std::string_view tune_ns = "http://jabber.org/protocol/tune";

// A client's disco#info, its caps element (hash of exactly those features), and the answer
// to the server's question for them.
struct Client {
    std::string features_xml;
    std::string ver;
    explicit Client(std::vector<std::string> features) {
        features_xml = "<identity category='client' type='pc' name='t'/>";
        for (const auto& f : features) features_xml += "<feature var='" + f + "'/>";
        auto query = xml::parse_element("<query xmlns='http://jabber.org/protocol/disco#info'>" + features_xml + "</query>");
        ver = *xmpp::caps_verification(*query);
    }
    std::string caps() const {
        return "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='urn:test' ver='" + ver + "'/>";
    }
    // Answers the server's disco#info for the caps node (it is asked once per version).
    void answer(TestClient& c) const {
        auto asked = c.expect(is("iq", "get"));
        c.send("<iq type='result' id='" + std::string(asked.attribute("id")) + "' to='" +
               std::string(asked.attribute("from")) + "'><query xmlns='http://jabber.org/protocol/disco#info' node='urn:test#" +
               ver + "'>" + features_xml + "</query></iq>");
    }
};

std::string publish(std::string_view node, std::string_view id, std::string_view payload, std::string_view options = {}) {
    std::string x = "<pubsub xmlns='" + std::string(pubsub_ns) + "'><publish node='" + std::string(node) + "'><item id='" +
                    std::string(id) + "'>" + std::string(payload) + "</item></publish>";
    if (!options.empty())
        x += "<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>"
             "http://jabber.org/protocol/pubsub#publish-options</value></field>" + std::string(options) +
             "</x></publish-options>";
    return x + "</pubsub>";
}

std::string tune(std::string_view title) {
    return "<tune xmlns='" + std::string(tune_ns) + "'><title>" + std::string(title) + "</title></tune>";
}

bool is_event_with(const xml::Element& e, std::string_view text) {
    return e.is("message", ns::client) && xml::to_string(e).find(text) != std::string::npos;
}

std::string error_of(const xml::Element& reply) {
    const auto* error = reply.find_child("error", ns::client);
    if (!error) return "";
    std::string out;
    for (const auto& n : error->children())
        if (!n.is_text() && n.element->name() != "text") out += (out.empty() ? "" : " ") + std::string(n.element->name());
    return out;
}

class Pep : public ::testing::TestWithParam<std::size_t> {
protected:
    Pep() {
        for (auto u : {"alice", "bob", "carol"}) server.add_user(u);
    }
    // bob and alice receive each other's presence.
    // a and b receive each other's presence.
    static void befriend(TestClient& a, TestClient& b) {
        std::string a_bare = a.jid().substr(0, a.jid().find('/')), b_bare = b.jid().substr(0, b.jid().find('/'));
        b.send("<presence type='subscribe' to='" + a_bare + "'/>");
        a.expect(is("presence", "subscribe"));
        a.send("<presence type='subscribed' to='" + b_bare + "'/>");
        a.send("<presence type='subscribe' to='" + b_bare + "'/>");
        b.expect(is("presence", "subscribe"));
        b.send("<presence type='subscribed' to='" + a_bare + "'/>");
        a.sync();
        b.sync();
        a.drain();
        b.drain();
    }
    // Presence reaches the account's shard on its own path; a bounded number of round trips
    // lets it (and the caps question it may start) land before the test goes on.
    static void settle(std::initializer_list<TestClient*> clients) {
        for (int i = 0; i < 10; ++i)
            for (auto* c : clients) c->sync();
    }
    TestServer server{{.shards = GetParam()}};
    Client interested{{"http://jabber.org/protocol/caps", std::string(tune_ns), std::string(tune_ns) + "+notify"}};
    Client uninterested{{"http://jabber.org/protocol/caps", std::string(tune_ns)}};
};

INSTANTIATE_TEST_SUITE_P(Shards, Pep, ::testing::Values(1, 4),
                         [](const auto& info) { return std::to_string(info.param) + "_shards"; });

TEST_P(Pep, a_publish_creates_the_node_and_reaches_own_resources_and_contacts_that_want_it) {
    auto alice = server.login("alice", "desk");
    auto bob = server.login("bob", "phone");
    auto carol = server.login("carol", "pad");
    alice->send("<presence/>");
    bob->send("<presence/>");
    befriend(*alice, *bob);
    // alice's own second resource and bob announce interest; carol is not a contact.
    auto alice2 = server.login("alice", "laptop");
    alice2->send("<presence>" + interested.caps() + "</presence>");
    interested.answer(*alice2);
    bob->send("<presence>" + interested.caps() + "</presence>");  // known version: not asked again
    carol->send("<presence to='alice@localhost'>" + interested.caps() + "</presence>");
    settle({alice.get(), alice2.get(), bob.get(), carol.get()});
    alice->drain();
    alice2->drain();
    bob->drain();

    auto reply = alice->query("set", "", publish(tune_ns, "t1", tune("Finzi")));
    ASSERT_EQ(reply.attribute("type"), "result") << xml::to_string(reply);
    auto own = alice2->expect(is("message", "headline"));
    EXPECT_EQ(own.attribute("from"), "alice@localhost");
    EXPECT_TRUE(is_event_with(own, "Finzi")) << xml::to_string(own);
    auto contact = bob->expect(is("message", "headline"));
    EXPECT_EQ(contact.attribute("to"), "bob@localhost/phone");
    EXPECT_TRUE(is_event_with(contact, "Finzi")) << xml::to_string(contact);
    carol->sync();
    for (const auto& e : carol->drain()) EXPECT_FALSE(e.is("message", ns::client)) << xml::to_string(e);
    alice->sync();  // no caps: wants nothing
    for (const auto& e : alice->drain()) EXPECT_FALSE(e.is("message", ns::client)) << xml::to_string(e);

    // The presence access model: the contact retrieves, the stranger may not.
    auto items = bob->query("get", "alice@localhost",
                            "<pubsub xmlns='" + std::string(pubsub_ns) + "'><items node='" + std::string(tune_ns) + "'/></pubsub>");
    EXPECT_NE(xml::to_string(items).find("Finzi"), std::string::npos) << xml::to_string(items);
    auto refused = carol->query("get", "alice@localhost",
                                "<pubsub xmlns='" + std::string(pubsub_ns) + "'><items node='" + std::string(tune_ns) + "'/></pubsub>");
    EXPECT_EQ(error_of(refused), "not-authorized presence-subscription-required") << xml::to_string(refused);
    // Only alice publishes to alice's nodes.
    auto forbidden = bob->query("set", "alice@localhost", publish(tune_ns, "t2", tune("Bob's")));
    EXPECT_EQ(error_of(forbidden), "forbidden") << xml::to_string(forbidden);
}

TEST_P(Pep, notifications_follow_caps_and_a_newly_available_resource_gets_the_last_item) {
    auto alice = server.login("alice", "desk");
    auto bob = server.login("bob", "phone");
    alice->send("<presence/>");
    bob->send("<presence/>");
    befriend(*alice, *bob);
    ASSERT_EQ(alice->query("set", "", publish(tune_ns, "t1", tune("First"))).attribute("type"), "result");
    ASSERT_EQ(alice->query("set", "", publish(tune_ns, "t2", tune("Second"))).attribute("type"), "result");
    // bob's new resource says it wants tunes: it is asked for its features, then gets the last one.
    auto bob2 = server.login("bob", "tablet");
    bob2->send("<presence>" + interested.caps() + "</presence>");
    interested.answer(*bob2);
    auto last = bob2->expect(is("message", "headline"));
    EXPECT_TRUE(is_event_with(last, "Second")) << xml::to_string(last);
    EXPECT_FALSE(is_event_with(last, "First"));  // max_items is 1 by default
    // A resource whose caps do not say +notify gets nothing.
    auto bob3 = server.login("bob", "watch");
    bob3->send("<presence>" + uninterested.caps() + "</presence>");
    uninterested.answer(*bob3);
    settle({alice.get(), bob2.get(), bob3.get()});
    ASSERT_EQ(alice->query("set", "", publish(tune_ns, "t3", tune("Third"))).attribute("type"), "result");
    EXPECT_TRUE(is_event_with(bob2->expect(is("message", "headline")), "Third"));
    bob3->sync();
    for (const auto& e : bob3->drain()) EXPECT_FALSE(e.is("message", ns::client)) << xml::to_string(e);
    // Gone unavailable: no more notifications.
    bob2->send("<presence type='unavailable'/>");
    settle({alice.get(), bob2.get()});
    ASSERT_EQ(alice->query("set", "", publish(tune_ns, "t4", tune("Fourth"))).attribute("type"), "result");
    alice->sync();
    bob2->sync();
    for (const auto& e : bob2->drain()) EXPECT_FALSE(is_event_with(e, "Fourth")) << xml::to_string(e);
}

TEST_P(Pep, publish_options_configure_a_new_node_and_are_preconditions_after) {
    auto alice = server.login("alice");
    auto carol = server.login("carol");
    const std::string devices = "eu.siacs.conversations.axolotl.devicelist";
    const std::string list = "<list xmlns='eu.siacs.conversations.axolotl'><device id='42'/></list>";
    auto open = "<field var='pubsub#access_model'><value>open</value></field>";
    auto reply = alice->query("set", "", publish(devices, "current", list, open));
    ASSERT_EQ(reply.attribute("type"), "result") << xml::to_string(reply);
    // Open: anyone retrieves, a stranger too (OMEMO keys are fetched before any subscription).
    auto items = carol->query("get", "alice@localhost",
                              "<pubsub xmlns='" + std::string(pubsub_ns) + "'><items node='" + devices + "'/></pubsub>");
    EXPECT_NE(xml::to_string(items).find("device id='42'"), std::string::npos) << xml::to_string(items);
    auto again = alice->query("set", "", publish(devices, "current", list, open));
    EXPECT_EQ(again.attribute("type"), "result") << xml::to_string(again);
    auto differs = alice->query("set", "", publish(devices, "current", list,
                                                   "<field var='pubsub#access_model'><value>whitelist</value></field>"));
    EXPECT_EQ(error_of(differs), "conflict precondition-not-met") << xml::to_string(differs);
    // Bookmarks (XEP-0402): whitelist, many items, kept, never sent unasked.
    auto bookmark = alice->query(
        "set", "",
        publish("urn:xmpp:bookmarks:1", "room@conference.localhost",
                "<conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'/>",
                "<field var='pubsub#persist_items'><value>true</value></field>"
                "<field var='pubsub#max_items'><value>max</value></field>"
                "<field var='pubsub#send_last_published_item'><value>never</value></field>"
                "<field var='pubsub#access_model'><value>whitelist</value></field>"));
    EXPECT_EQ(bookmark.attribute("type"), "result") << xml::to_string(bookmark);
    auto hidden = carol->query("get", "alice@localhost",
                               "<pubsub xmlns='" + std::string(pubsub_ns) + "'><items node='urn:xmpp:bookmarks:1'/></pubsub>");
    EXPECT_EQ(error_of(hidden), "not-allowed closed-node") << xml::to_string(hidden);
}

TEST_P(Pep, nodes_are_kept_while_nobody_is_online_and_disco_lists_them) {
    {
        auto alice = server.login("alice");
        ASSERT_EQ(alice->query("set", "", publish(tune_ns, "t1", tune("Kept"))).attribute("type"), "result");
    }
    auto alice = server.login("alice", "again");
    auto items = alice->query("get", "", "<pubsub xmlns='" + std::string(pubsub_ns) + "'><items node='" +
                                             std::string(tune_ns) + "'/></pubsub>");
    EXPECT_NE(xml::to_string(items).find("Kept"), std::string::npos) << xml::to_string(items);
    auto info = alice->query("get", "alice@localhost", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
    EXPECT_NE(xml::to_string(info).find("category='pubsub' type='pep'"), std::string::npos) << xml::to_string(info);
    EXPECT_NE(xml::to_string(info).find("pubsub#publish-options"), std::string::npos);
    auto listed = alice->query("get", "alice@localhost", "<query xmlns='http://jabber.org/protocol/disco#items'/>");
    EXPECT_NE(xml::to_string(listed).find("node='" + std::string(tune_ns) + "'"), std::string::npos) << xml::to_string(listed);
}

TEST_P(Pep, a_roster_node_is_for_contacts_in_the_allowed_groups) {
    auto alice = server.login("alice");
    auto bob = server.login("bob", "phone");
    auto carol = server.login("carol", "pad");
    for (auto* c : {alice.get(), bob.get(), carol.get()}) c->send("<presence/>");
    befriend(*alice, *bob);
    befriend(*alice, *carol);
    auto group = [&](std::string_view who, std::string_view name) {
        auto set = alice->query("set", "", "<query xmlns='jabber:iq:roster'><item jid='" + std::string(who) +
                                               "'><group>" + std::string(name) + "</group></item></query>");
        ASSERT_EQ(set.attribute("type"), "result") << xml::to_string(set);
    };
    group("bob@localhost", "Friends");
    group("carol@localhost", "Work");
    const std::string geoloc = "http://jabber.org/protocol/geoloc";
    auto reply = alice->query("set", "",
                              publish(geoloc, "here", "<geoloc xmlns='" + geoloc + "'><locality>Verona</locality></geoloc>",
                                      "<field var='pubsub#access_model'><value>roster</value></field>"
                                      "<field var='pubsub#roster_groups_allowed'><value>Friends</value></field>"));
    ASSERT_EQ(reply.attribute("type"), "result") << xml::to_string(reply);
    std::string ask = "<pubsub xmlns='" + std::string(pubsub_ns) + "'><items node='" + geoloc + "'/></pubsub>";
    EXPECT_NE(xml::to_string(bob->query("get", "alice@localhost", ask)).find("Verona"), std::string::npos);
    auto refused = carol->query("get", "alice@localhost", ask);
    EXPECT_EQ(error_of(refused), "not-authorized not-in-roster-group") << xml::to_string(refused);
    // Disco shows the node to those it is for (the fold learns the requester's groups first).
    auto listed = [&](TestClient& c) {
        auto items = c.query("get", "alice@localhost", "<query xmlns='http://jabber.org/protocol/disco#items'/>");
        return xml::to_string(items).find("node='" + geoloc + "'") != std::string::npos;
    };
    EXPECT_TRUE(listed(*bob));
    EXPECT_FALSE(listed(*carol));
    // Notifications too: bob's and carol's new resources both want locations; only bob's gets it.
    Client wants_geoloc{{"http://jabber.org/protocol/caps", geoloc + "+notify"}};
    auto bob2 = server.login("bob", "tablet");
    bob2->send("<presence>" + wants_geoloc.caps() + "</presence>");
    wants_geoloc.answer(*bob2);
    EXPECT_TRUE(is_event_with(bob2->expect(is("message", "headline")), "Verona"));  // the last item
    auto carol2 = server.login("carol", "phone");
    carol2->send("<presence>" + wants_geoloc.caps() + "</presence>");
    settle({alice.get(), bob2.get(), carol2.get()});
    ASSERT_EQ(alice->query("set", "", publish(geoloc, "here", "<geoloc xmlns='" + geoloc + "'><locality>Mantua</locality></geoloc>"))
                  .attribute("type"),
              "result");
    auto mantua = bob2->expect(is("message", "headline"));
    EXPECT_TRUE(is_event_with(mantua, "Mantua"));
    // XEP-0163 §4.3.1 rule 3: a contact learns which resource published.
    EXPECT_NE(xml::to_string(mantua).find("<address type='replyto' jid='alice@localhost/test'/>"), std::string::npos)
        << xml::to_string(mantua);
    settle({alice.get(), bob2.get(), carol2.get()});
    for (const auto& e : carol2->drain()) EXPECT_FALSE(e.is("message", ns::client)) << xml::to_string(e);
}

}  // namespace
}  // namespace starling::server::testing
