// Services at a subdomain and entities in them, through the echo example module: the host
// lists the service in disco#items, the service answers its own disco, stanzas to an entity
// reach the module instance on the entity's owner shard, and an iq the service sends comes
// back to the task that waits for it. 1 and 4 shards.
#include <gtest/gtest.h>

#include <set>

#include "server/testing/test_server.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server::testing {
namespace {

const std::string with_echo =
    "[modules]\nenabled = [\"disco\", \"ping\", \"version\", \"time\", \"roster\", \"vcard\", \"private_xml\", "
    "\"offline\", \"last_activity\", \"blocking\", \"echo\"]\n";

class EchoService : public ::testing::TestWithParam<std::size_t> {
protected:
    TestServer server{{.shards = GetParam(), .config = with_echo}};
};

INSTANTIATE_TEST_SUITE_P(Shards, EchoService, ::testing::Values(1, 4),
                         [](const auto& info) { return std::to_string(info.param) + "_shards"; });

std::vector<const xml::Element*> children(const xml::Element& e, std::string_view name) {
    std::vector<const xml::Element*> out;
    for (const auto& n : e.children())
        if (!n.is_text() && n.element->name() == name) out.push_back(n.element.get());
    return out;
}

TEST_P(EchoService, the_host_lists_the_service_in_disco_items) {
    server.add_user("alice");
    auto alice = server.login("alice");
    auto reply = alice->query("get", "localhost", "<query xmlns='http://jabber.org/protocol/disco#items'/>");
    ASSERT_EQ(reply.attribute("type"), "result");
    const auto* query = reply.find_child("query", ns::disco_items);
    ASSERT_NE(query, nullptr);
    auto items = children(*query, "item");
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0]->attribute("jid"), "echo.localhost");
    EXPECT_EQ(items[0]->attribute("name"), "Echo");
}

TEST_P(EchoService, the_service_answers_its_own_disco_info_and_refuses_nodes) {
    server.add_user("alice");
    auto alice = server.login("alice");
    auto reply = alice->query("get", "echo.localhost", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
    ASSERT_EQ(reply.attribute("type"), "result");
    EXPECT_EQ(reply.attribute("from"), "echo.localhost");
    const auto* query = reply.find_child("query", ns::disco_info);
    ASSERT_NE(query, nullptr);
    auto identities = children(*query, "identity");
    ASSERT_EQ(identities.size(), 1u);
    EXPECT_EQ(identities[0]->attribute("category"), "component");
    bool echo_feature = false;
    for (const auto* f : children(*query, "feature")) echo_feature |= f->attribute("var") == "urn:starling:echo";
    EXPECT_TRUE(echo_feature);
    auto node = alice->query("get", "echo.localhost",
                             "<query xmlns='http://jabber.org/protocol/disco#info' node='x'/>");
    EXPECT_EQ(node.attribute("type"), "error");
    // A payload the service does not know: service-unavailable (RFC 6120 §8.4), not a drop.
    auto unknown = alice->query("get", "echo.localhost", "<query xmlns='jabber:iq:version'/>");
    EXPECT_EQ(unknown.attribute("type"), "error");
}

TEST_P(EchoService, messages_to_an_entity_come_back_from_it_counted_per_entity_in_order) {
    // Senders on every shard, two entities: each entity's count runs 1, 2, 3... over all
    // senders, which only holds if one instance (the owner shard's) sees all its messages.
    server.add_user("alice");
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 4; ++i) clients.push_back(server.login("alice", "r" + std::to_string(i)));
    for (const std::string entity : {"one@echo.localhost", "two@echo.localhost"}) {
        int n = 0;
        for (int round = 0; round < 2; ++round)
            for (auto& c : clients) {
                c->send("<message type='chat' to='" + entity + "/x'><body>hi</body></message>");
                auto echo = c->expect(all_of({is("message", "chat"), from(entity)}));
                EXPECT_EQ(echo.child_text("body", ns::client), std::to_string(++n) + ": hi");
                EXPECT_EQ(echo.attribute("to"), c->jid());
            }
    }
}

TEST_P(EchoService, the_service_pings_the_sender_and_reports_the_answer_it_waited_for) {
    server.add_user("alice");
    auto alice = server.login("alice");
    for (const std::string answer : {"result", "error"}) {
        alice->send("<message to='echo.localhost'><body>ping me</body></message>");
        auto ping = alice->expect(is("iq", "get"));
        EXPECT_EQ(ping.attribute("from"), "echo.localhost");
        ASSERT_NE(ping.find_child("ping", ns::ping), nullptr);
        std::string id{ping.attribute("id")};
        if (answer == "result")
            alice->send("<iq type='result' to='echo.localhost' id='" + id + "'/>");
        else
            alice->send("<iq type='error' to='echo.localhost' id='" + id +
                        "'><error type='cancel'><service-unavailable "
                        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
        auto report = alice->expect(all_of({is("message", "chat"), from("echo.localhost")}));
        EXPECT_EQ(report.child_text("body", ns::client),
                  answer == "result" ? "you answered: result" : "you answered: error service-unavailable");
    }
}

TEST_P(EchoService, a_reply_from_someone_else_with_the_same_id_does_not_count) {
    server.add_user("alice");
    server.add_user("mallory");
    auto alice = server.login("alice");
    auto mallory = server.login("mallory");
    alice->send("<message to='echo.localhost'><body>ping me</body></message>");
    auto ping = alice->expect(is("iq", "get"));
    std::string id{ping.attribute("id")};
    mallory->send("<iq type='error' to='echo.localhost' id='" + id +
                  "'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    mallory->sync();
    alice->send("<iq type='result' to='echo.localhost' id='" + id + "'/>");
    auto report = alice->expect(all_of({is("message", "chat"), from("echo.localhost")}));
    EXPECT_EQ(report.child_text("body", ns::client), "you answered: result");
}

TEST(ServiceDefaults, at_the_defaults_the_host_lists_the_conference_and_pubsub_services) {
    TestServer server;
    server.add_user("alice");
    auto alice = server.login("alice");
    auto items = alice->query("get", "localhost", "<query xmlns='http://jabber.org/protocol/disco#items'/>");
    const auto* query = items.find_child("query", ns::disco_items);
    ASSERT_NE(query, nullptr);
    std::set<std::string> jids;
    for (const auto& n : query->children())
        if (!n.is_text()) jids.emplace(n.element->attribute("jid"));
    EXPECT_EQ(jids, (std::set<std::string>{"conference.localhost", "pubsub.localhost"}));
}

TEST(ServiceDefaults, without_modules_serving_a_subdomain_the_host_lists_no_items_and_it_is_a_remote_domain) {
    TestServer server{{.config = "[modules]\nenabled = [\"disco\", \"ping\", \"roster\"]\n"}};
    server.add_user("alice");
    auto alice = server.login("alice");
    auto items = alice->query("get", "localhost", "<query xmlns='http://jabber.org/protocol/disco#items'/>");
    const auto* query = items.find_child("query", ns::disco_items);
    ASSERT_NE(query, nullptr);
    EXPECT_EQ(query->child_element_count(), 0u);
    auto bounced = alice->query("get", "echo.localhost", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
    EXPECT_EQ(bounced.attribute("type"), "error");
    const auto* error = bounced.find_child("error", ns::client);
    ASSERT_NE(error, nullptr);
    EXPECT_NE(error->find_child("remote-server-not-found", ns::stanza_errors), nullptr);
}

}  // namespace
}  // namespace starling::server::testing

namespace starling::server::testing {
namespace {

TEST(EchoArchive, an_entity_answers_history_from_its_archive_store_whichever_shard_asks) {
    TestServer server{{.shards = 4, .config = with_echo}};
    server.add_user("alice");
    auto a = server.login("alice", "one");
    auto b = server.login("alice", "two");
    for (std::string body : {"first", "second", "third", "fourth"}) {
        a->send("<message type='chat' to='keeper@echo.localhost'><body>" + body + "</body></message>");
        a->expect(from("keeper@echo.localhost"));
    }
    // The archive is written after each echo; a round trip through the same entity orders
    // this request behind those writes on the entity's shard and the storage thread.
    b->send("<message type='chat' to='keeper@echo.localhost'><body>history</body></message>");
    auto answer = b->expect(from("keeper@echo.localhost"));
    EXPECT_EQ(answer.child_text("body", ns::client), "history: [second] [third] [fourth]");
}

}  // namespace
}  // namespace starling::server::testing
