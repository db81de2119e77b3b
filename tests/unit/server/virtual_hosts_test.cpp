// Several domains on one server (issue 24): each served domain has its own accounts, its own
// modules and settings; stanzas between two local domains are delivered locally, passing the
// sender's domain's modules on the way out and the recipient's on the way in, exactly as
// within one domain. Each test runs with 1 and with 4 shards.
#include <gtest/gtest.h>

#include "server/server.hpp"
#include "server/testing/test_server.hpp"
#include "xml/writer.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server::testing {
namespace {

// b.test differs from a.test: no jabber:iq:version, and a roster limit of its own.
constexpr const char* two_domains =
    "[hosts.\"b.test\"]\nadmins = [\"boss@b.test\"]\n"
    "[hosts.\"b.test\".modules]\nenabled = [\"disco\", \"ping\", \"roster\", \"offline\", \"register\", \"vcard\"]\n"
    "[hosts.\"b.test\".modules.roster]\nmax_items = 1\n";

class VirtualHosts : public ::testing::TestWithParam<std::size_t> {
protected:
    VirtualHosts() {
        for (const char* user : {"alice@a.test", "bob@a.test", "bob@b.test", "carol@b.test"}) server.add_user(user);
        server.add_user("alice@b.test", "the other alice's password");
    }
    TestServer server{{.shards = GetParam(), .domain = "a.test", .config = two_domains}};
};

INSTANTIATE_TEST_SUITE_P(Shards, VirtualHosts, ::testing::Values(1, 4),
                         [](const auto& info) { return std::to_string(info.param) + "_shards"; });

const xml::Element* error_condition(const xml::Element& reply, std::string_view condition) {
    const auto* error = reply.find_child("error", ns::client);
    return error ? error->find_child(condition, ns::stanza_errors) : nullptr;
}

TEST_P(VirtualHosts, the_same_username_on_two_domains_is_two_accounts_with_their_own_passwords) {
    auto a = server.login("alice@a.test", "phone");
    EXPECT_EQ(a->jid(), "alice@a.test/phone");
    auto b = server.login("alice@b.test", "phone", "the other alice's password");
    EXPECT_EQ(b->jid(), "alice@b.test/phone");
    // SASL authenticates against the stream's domain: a.test's password is not b.test's.
    auto wrong = server.connect("b.test");
    wrong->open();
    EXPECT_FALSE(wrong->auth_plain("alice", test_password));
    auto nobody = server.connect("a.test");
    nobody->open();
    EXPECT_FALSE(nobody->auth_plain("carol", test_password));  // carol is b.test's only
}

TEST_P(VirtualHosts, a_stream_to_a_domain_not_served_gets_host_unknown) {
    auto client = server.connect("c.test");
    client->send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams' to='c.test' version='1.0'>");
    auto error = client->expect([](const xml::Element& e) { return e.is("error", ns::streams); });
    EXPECT_NE(error.find_child("host-unknown", ns::stream_errors), nullptr);
    EXPECT_TRUE(client->closed());
}

TEST_P(VirtualHosts, chat_between_two_local_domains_is_delivered_both_ways) {
    std::vector<std::unique_ptr<TestClient>> alices, bobs;
    for (int i = 0; i < 3; ++i) {
        alices.push_back(server.login("alice@a.test", "a" + std::to_string(i)));
        bobs.push_back(server.login("bob@b.test", "b" + std::to_string(i)));
    }
    for (auto& a : alices)
        for (auto& b : bobs) {
            a->send("<message type='chat' to='" + b->jid() + "'><body>to b</body></message>");
            auto got = b->expect(is("message", "chat"));
            EXPECT_EQ(got.attribute("from"), a->jid());
            b->send("<message type='chat' to='" + a->jid() + "'><body>to a</body></message>");
            auto back = a->expect(is("message", "chat"));
            EXPECT_EQ(back.attribute("from"), b->jid());
        }
    // bob@a.test is someone else: nothing of this reached him.
    auto other_bob = server.login("bob@a.test");
    other_bob->sync();
    for (const auto& e : other_bob->drain()) EXPECT_NE(e.name(), "message");
}

TEST_P(VirtualHosts, a_message_to_an_offline_account_of_the_other_domain_is_kept_for_it) {
    auto alice = server.login("alice@a.test");
    alice->send("<message type='chat' to='carol@b.test'><body>while you were out</body></message>");
    alice->sync();
    // No account carol@a.test: that one bounces, as within one domain.
    auto reply = alice->query("get", "carol@a.test", "<query xmlns='jabber:iq:version'/>");
    EXPECT_NE(error_condition(reply, "service-unavailable"), nullptr);
    auto carol = server.login("carol@b.test");
    carol->send("<presence/>");
    auto kept = carol->expect(is("message", "chat"));
    EXPECT_EQ(kept.child_text("body", ns::client), "while you were out");
    EXPECT_EQ(kept.attribute("from"), alice->jid());
}

TEST_P(VirtualHosts, a_subscription_across_domains_updates_both_rosters_and_carries_presence) {
    auto alice = server.login("alice@a.test");
    auto bob = server.login("bob@b.test");
    alice->query("get", "", "<query xmlns='jabber:iq:roster'/>");
    bob->query("get", "", "<query xmlns='jabber:iq:roster'/>");
    alice->send("<presence/>");
    bob->send("<presence/>");
    alice->sync();
    bob->sync();
    alice->send("<presence type='subscribe' to='bob@b.test'/>");
    auto request = bob->expect(is("presence", "subscribe"));
    EXPECT_EQ(request.attribute("from"), "alice@a.test");
    bob->send("<presence type='subscribed' to='alice@a.test'/>");
    // alice's roster (a.test's module) now has bob with subscription 'to', and bob's
    // presence arrives (b.test's module answered the probe).
    auto push = alice->expect([](const xml::Element& e) {
        const auto* q = e.find_child("query", ns::roster);
        const auto* item = q ? q->find_child("item", ns::roster) : nullptr;
        return item && item->attribute("jid") == "bob@b.test" && item->attribute("subscription") == "to";
    });
    alice->expect(all_of({is("presence", ""), from(bob->jid())}));
    auto bobs_roster = bob->query("get", "", "<query xmlns='jabber:iq:roster'/>");
    const auto* item = bobs_roster.find_child("query", ns::roster)->find_child("item", ns::roster);
    ASSERT_NE(item, nullptr);
    EXPECT_EQ(item->attribute("jid"), "alice@a.test");
    EXPECT_EQ(item->attribute("subscription"), "from");
}

TEST_P(VirtualHosts, each_domain_runs_its_own_modules_with_its_own_options) {
    auto alice = server.login("alice@a.test");
    auto carol = server.login("carol@b.test");
    // a.test loads the version module; b.test does not.
    auto version_a = alice->query("get", "a.test", "<query xmlns='jabber:iq:version'/>");
    EXPECT_EQ(version_a.attribute("type"), "result");
    EXPECT_EQ(version_a.attribute("from"), "a.test");
    auto version_b = alice->query("get", "b.test", "<query xmlns='jabber:iq:version'/>");
    EXPECT_NE(error_condition(version_b, "service-unavailable"), nullptr);
    EXPECT_EQ(version_b.attribute("from"), "b.test");
    // b.test's roster holds one item; a.test's keeps the default.
    auto first = carol->query("set", "", "<query xmlns='jabber:iq:roster'><item jid='x@a.test'/></query>");
    EXPECT_EQ(first.attribute("type"), "result");
    auto second = carol->query("set", "", "<query xmlns='jabber:iq:roster'><item jid='y@a.test'/></query>");
    EXPECT_EQ(second.attribute("type"), "error");
    for (const char* jid : {"x@b.test", "y@b.test"}) {
        auto added = alice->query("set", "", std::string("<query xmlns='jabber:iq:roster'><item jid='") + jid +
                                                 "'/></query>");
        EXPECT_EQ(added.attribute("type"), "result");
    }
}

TEST_P(VirtualHosts, removing_an_account_leaves_the_same_name_on_the_other_domain) {
    auto doomed = server.login("alice@a.test");
    doomed->query("set", "", "<vCard xmlns='vcard-temp'><FN>Alice of A</FN></vCard>");
    auto other = server.login("alice@b.test", "desk", "the other alice's password");
    other->query("set", "", "<vCard xmlns='vcard-temp'><FN>Alice of B</FN></vCard>");
    auto removed = doomed->query("set", "", "<query xmlns='jabber:iq:register'><remove/></query>");
    ASSERT_EQ(removed.attribute("type"), "result");
    EXPECT_TRUE(doomed->closed());
    auto again = server.connect("a.test");
    again->open();
    EXPECT_FALSE(again->auth_plain("alice", test_password));
    auto still = server.login("alice@b.test", "laptop", "the other alice's password");
    auto card = still->query("get", "", "<vCard xmlns='vcard-temp'/>");
    EXPECT_NE(xml::to_string(card).find("Alice of B"), std::string::npos);
}

// A module that serves a subdomain, enabled for both domains: one service per domain.
class ServicesPerDomain : public ::testing::TestWithParam<std::size_t> {
protected:
    ServicesPerDomain() {
        server.add_user("alice@a.test");
        server.add_user("bob@b.test");
    }
    TestServer server{{.shards = GetParam(),
                       .domain = "a.test",
                       .config = "[modules]\nenabled = [\"disco\", \"ping\", \"echo\"]\n"
                                 "[hosts.\"b.test\"]\n"}};
};

INSTANTIATE_TEST_SUITE_P(Shards, ServicesPerDomain, ::testing::Values(1, 4),
                         [](const auto& info) { return std::to_string(info.param) + "_shards"; });

std::vector<std::string> item_jids(const xml::Element& reply) {
    std::vector<std::string> out;
    if (const auto* q = reply.find_child("query", ns::disco_items))
        for (const auto& child : q->children())
            if (!child.is_text()) out.emplace_back(child.element->attribute("jid"));
    return out;
}

TEST_P(ServicesPerDomain, each_domain_lists_its_own_services_and_both_answer) {
    auto alice = server.login("alice@a.test");
    auto bob = server.login("bob@b.test");
    EXPECT_EQ(item_jids(alice->query("get", "a.test", "<query xmlns='http://jabber.org/protocol/disco#items'/>")),
              std::vector<std::string>{"echo.a.test"});
    EXPECT_EQ(item_jids(alice->query("get", "b.test", "<query xmlns='http://jabber.org/protocol/disco#items'/>")),
              std::vector<std::string>{"echo.b.test"});
    // A user of a.test talks to b.test's service, and the other way round.
    alice->send("<message type='chat' to='room@echo.b.test'><body>hi</body></message>");
    auto echoed = alice->expect(is("message", "chat"));
    EXPECT_EQ(echoed.attribute("from"), "room@echo.b.test");
    EXPECT_EQ(echoed.child_text("body", ns::client), "1: hi");
    bob->send("<message type='chat' to='room@echo.a.test'><body>hi</body></message>");
    EXPECT_EQ(bob->expect(is("message", "chat")).attribute("from"), "room@echo.a.test");
}

}  // namespace
}  // namespace starling::server::testing
