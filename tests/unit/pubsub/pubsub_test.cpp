// The PubSub service in-process (XEP-0060), with 1 and 4 shards: nodes live on the shard
// their names hash to, so a request that arrives anywhere is answered once from the node's
// state, and what spans nodes (disco#items, one's subscriptions and affiliations) is
// gathered from every shard. The wire-level behaviour is tests/interop/test_pubsub.py.
#include <gtest/gtest.h>

#include <set>

#include "server/testing/test_server.hpp"
#include "xml/writer.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server::testing {
namespace {

constexpr std::string_view pubsub_ns = "http://jabber.org/protocol/pubsub";
constexpr const char* config = "[modules]\nenabled = [\"disco\", \"ping\", \"roster\", \"pubsub\"]\n";

class Pubsub : public ::testing::TestWithParam<std::size_t> {
protected:
    Pubsub() {
        server.add_user("alice");
        server.add_user("bob");
    }
    xml::Element request(TestClient& c, std::string_view type, std::string_view inner) {
        return c.query(type, "pubsub.localhost", "<pubsub xmlns='" + std::string(pubsub_ns) + "'>" + std::string(inner) + "</pubsub>");
    }
    // The 'node' attributes of a reply's <pubsub><list/></pubsub> children.
    static std::set<std::string> nodes_in(const xml::Element& reply, std::string_view list) {
        std::set<std::string> out;
        const auto* p = reply.find_child("pubsub", pubsub_ns);
        const auto* l = p ? p->find_child(list, pubsub_ns) : nullptr;
        if (l)
            for (const auto& n : l->children())
                if (!n.is_text()) out.emplace(n.element->attribute("node"));
        return out;
    }
    TestServer server{{.shards = GetParam(), .config = config}};
};

INSTANTIATE_TEST_SUITE_P(Shards, Pubsub, ::testing::Values(1, 4),
                         [](const auto& info) { return std::to_string(info.param) + "_shards"; });

TEST_P(Pubsub, requests_about_many_nodes_are_gathered_from_every_shard) {
    auto alice = server.login("alice");
    auto bob = server.login("bob");
    std::set<std::string> names;
    for (int i = 0; i < 12; ++i) {
        std::string node = "node" + std::to_string(i);
        names.insert(node);
        ASSERT_EQ(request(*alice, "set", "<create node='" + node + "'/>").attribute("type"), "result");
        ASSERT_EQ(request(*bob, "set", "<subscribe node='" + node + "' jid='bob@localhost'/>").attribute("type"), "result");
    }
    EXPECT_EQ(nodes_in(request(*bob, "get", "<subscriptions/>"), "subscriptions"), names);
    EXPECT_EQ(nodes_in(request(*alice, "get", "<affiliations/>"), "affiliations"), names);
    EXPECT_TRUE(nodes_in(request(*alice, "get", "<subscriptions/>"), "subscriptions").empty());
    auto items = alice->query("get", "pubsub.localhost", "<query xmlns='http://jabber.org/protocol/disco#items'/>");
    std::set<std::string> listed;
    for (const auto& n : items.find_child("query", ns::disco_items)->children())
        if (!n.is_text()) listed.emplace(n.element->attribute("node"));
    EXPECT_EQ(listed, names);
}

TEST_P(Pubsub, a_publish_reaches_each_subscriber_once_whichever_shard_it_arrives_on) {
    auto alice = server.login("alice");
    std::vector<std::unique_ptr<TestClient>> bobs;
    for (int i = 0; i < 4; ++i) bobs.push_back(server.login("bob", "r" + std::to_string(i)));
    ASSERT_EQ(request(*alice, "set", "<create node='news'/>").attribute("type"), "result");
    for (auto& bob : bobs)
        ASSERT_EQ(request(*bob, "set", "<subscribe node='news' jid='" + bob->jid() + "'/>").attribute("type"), "result");
    auto published = request(*alice, "set", "<publish node='news'><item id='n1'><entry xmlns='urn:test'>hi</entry></item></publish>");
    ASSERT_EQ(published.attribute("type"), "result") << xml::to_string(published);
    for (auto& bob : bobs) {
        auto event = bob->expect(is("message"));
        EXPECT_NE(xml::to_string(event).find("<entry xmlns='urn:test'>hi</entry>"), std::string::npos) << xml::to_string(event);
        bob->sync();
        for (const auto& e : bob->drain()) EXPECT_NE(e.name(), "message") << xml::to_string(e);
    }
}

}  // namespace
}  // namespace starling::server::testing
