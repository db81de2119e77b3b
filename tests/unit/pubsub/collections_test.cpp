// PubSub collections (XEP-0248), subscription options (XEP-0060 §6.3) and item paging
// (§6.5.4) in-process, with 1 and 4 shards: a collection and its children mostly live on
// different shards, so events climb the graph shard to shard, children are gathered from
// every shard, and the cycle check walks parents across shards. Wire-level behaviour:
// tests/interop/test_pubsub_collections.py and test_pubsub_options.py.
#include <gtest/gtest.h>

#include "server/testing/test_server.hpp"
#include "xml/writer.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server::testing {
namespace {

constexpr std::string_view pubsub_ns = "http://jabber.org/protocol/pubsub";
constexpr std::string_view errors_ns = "http://jabber.org/protocol/pubsub#errors";
constexpr const char* config = "[modules]\nenabled = [\"disco\", \"ping\", \"roster\", \"pubsub\"]\n";

std::string form(std::string_view form_type, std::string_view fields) {
    return "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>" + std::string(form_type) +
           "</value></field>" + std::string(fields) + "</x>";
}

std::string field(std::string_view var, std::string_view value) {
    return "<field var='" + std::string(var) + "'><value>" + std::string(value) + "</value></field>";
}

bool has_app_error(const xml::Element& reply, std::string_view condition) {
    const auto* error = reply.find_child("error", ns::client);
    return error && error->find_child(condition, errors_ns);
}

// The node an event's <items/> names and the Collection header's value ("" without one).
std::pair<std::string, std::string> event_origin(const xml::Element& message) {
    std::string node, collection;
    if (const auto* event = message.find_child("event", "http://jabber.org/protocol/pubsub#event"))
        if (const auto* items = event->find_child("items", "http://jabber.org/protocol/pubsub#event"))
            node = std::string(items->attribute("node"));
    if (const auto* headers = message.find_child("headers", ns::shim))
        if (const auto* header = headers->find_child("header", ns::shim)) collection = header->text();
    return {node, collection};
}

class Collections : public ::testing::TestWithParam<std::size_t> {
protected:
    Collections() {
        server.add_user("alice");
        server.add_user("bob");
    }
    xml::Element request(TestClient& c, std::string_view type, std::string_view inner, bool owner = false) {
        std::string ns{pubsub_ns};
        if (owner) ns += "#owner";
        return c.query(type, "pubsub.localhost", "<pubsub xmlns='" + ns + "'>" + std::string(inner) + "</pubsub>");
    }
    void create(TestClient& c, std::string_view node, std::string_view fields) {
        auto reply = request(c, "set", "<create node='" + std::string(node) + "'/><configure>" +
                                           form("http://jabber.org/protocol/pubsub#node_config", fields) + "</configure>");
        ASSERT_EQ(reply.attribute("type"), "result") << xml::to_string(reply);
    }
    void subscribe(TestClient& c, std::string_view node, std::string_view fields) {
        auto reply = request(c, "set", "<subscribe node='" + std::string(node) + "' jid='" + c.jid() + "'/><options>" +
                                           form("http://jabber.org/protocol/pubsub#subscribe_options", fields) + "</options>");
        ASSERT_EQ(reply.attribute("type"), "result") << xml::to_string(reply);
    }
    void publish(TestClient& c, std::string_view node) {
        auto reply = request(c, "set", "<publish node='" + std::string(node) + "'><item><e xmlns='urn:test'/></item></publish>");
        ASSERT_EQ(reply.attribute("type"), "result") << xml::to_string(reply);
    }
    TestServer server{{.shards = GetParam(), .config = config}};
};

INSTANTIATE_TEST_SUITE_P(Shards, Collections, ::testing::Values(1, 4),
                         [](const auto& info) { return std::to_string(info.param) + "_shards"; });

TEST_P(Collections, an_event_climbs_as_deep_as_each_subscription_asks) {
    auto alice = server.login("alice");
    auto shallow = server.login("bob", "shallow");
    auto deep = server.login("bob", "deep");
    create(*alice, "top", field("pubsub#node_type", "collection"));
    create(*alice, "middle", field("pubsub#node_type", "collection") + field("pubsub#collection", "top"));
    create(*alice, "leaf", field("pubsub#collection", "middle"));
    subscribe(*shallow, "top", field("pubsub#subscription_type", "items"));
    subscribe(*deep, "top", field("pubsub#subscription_type", "items") + field("pubsub#subscription_depth", "all"));
    auto two = server.login("bob", "two");
    subscribe(*two, "top", field("pubsub#subscription_type", "items") + field("pubsub#subscription_depth", "2"));
    auto direct = server.login("bob", "direct");
    subscribe(*direct, "middle", field("pubsub#subscription_type", "items"));
    publish(*alice, "leaf");
    EXPECT_EQ(event_origin(two->expect(is("message"))), std::make_pair(std::string("leaf"), std::string("top")));
    EXPECT_EQ(event_origin(direct->expect(is("message"))), std::make_pair(std::string("leaf"), std::string("middle")));
    EXPECT_EQ(event_origin(deep->expect(is("message"))), std::make_pair(std::string("leaf"), std::string("top")));
    shallow->sync();
    for (const auto& e : shallow->drain()) EXPECT_NE(e.name(), "message") << "depth 1 is one level: " << xml::to_string(e);
}

TEST_P(Collections, cycles_leaves_as_parents_and_missing_parents_are_refused) {
    auto alice = server.login("alice");
    create(*alice, "a", field("pubsub#node_type", "collection"));
    create(*alice, "b", field("pubsub#node_type", "collection") + field("pubsub#collection", "a"));
    create(*alice, "c", field("pubsub#node_type", "collection") + field("pubsub#collection", "b"));
    create(*alice, "plain", "");
    auto associate = [&](std::string_view parent, std::string_view child) {
        return request(*alice, "set", "<collection node='" + std::string(parent) + "'><associate node='" + std::string(child) + "'/></collection>", true);
    };
    auto cycle = associate("c", "a");
    EXPECT_TRUE(has_app_error(cycle, "invalid-options")) << xml::to_string(cycle);
    auto under_leaf = associate("plain", "a");
    EXPECT_TRUE(has_app_error(under_leaf, "invalid-options")) << xml::to_string(under_leaf);
    auto missing = associate("nowhere", "a");
    EXPECT_NE(missing.find_child("error", ns::client)->find_child("item-not-found", ns::stanza_errors), nullptr);
    EXPECT_EQ(associate("c", "plain").attribute("type"), "result");
    auto listed = alice->query("get", "pubsub.localhost", "<query xmlns='http://jabber.org/protocol/disco#items' node='c'/>");
    EXPECT_NE(xml::to_string(listed).find("node='plain'"), std::string::npos) << xml::to_string(listed);
    // Deleting a collection leaves its children without it.
    ASSERT_EQ(request(*alice, "set", "<delete node='c'/>", true).attribute("type"), "result");
    auto form = request(*alice, "get", "<configure node='plain'/>", true);
    EXPECT_EQ(xml::to_string(form).find("<value>c</value>"), std::string::npos) << xml::to_string(form);
}

TEST_P(Collections, show_values_pick_the_resources_by_their_presence) {
    auto alice = server.login("alice");
    auto online = server.login("bob", "online");
    auto busy = server.login("bob", "busy");
    online->send("<presence/>");
    busy->send("<presence><show>dnd</show></presence>");
    online->sync();
    busy->sync();
    create(*alice, "moods", "");
    auto reply = request(*online, "set", "<subscribe node='moods' jid='bob@localhost'/><options>" +
                                            form("http://jabber.org/protocol/pubsub#subscribe_options",
                                                 "<field var='pubsub#show-values'><value>online</value><value>chat</value></field>") +
                                            "</options>");
    ASSERT_EQ(reply.attribute("type"), "result") << xml::to_string(reply);
    publish(*alice, "moods");
    online->expect(is("message"));
    busy->sync();
    for (const auto& e : busy->drain()) EXPECT_NE(e.name(), "message") << "dnd is not asked for: " << xml::to_string(e);
}

TEST_P(Collections, items_are_paged_in_publication_order) {
    auto alice = server.login("alice");
    create(*alice, "log", field("pubsub#max_items", "30"));
    for (int i = 0; i < 12; ++i) {
        auto r = request(*alice, "set", "<publish node='log'><item id='i" + std::to_string(10 + i) + "'><e xmlns='urn:test'/></item></publish>");
        ASSERT_EQ(r.attribute("type"), "result");
    }
    auto page = [&](std::string_view set) {
        auto r = request(*alice, "get", "<items node='log'/><set xmlns='http://jabber.org/protocol/rsm'>" + std::string(set) + "</set>");
        return xml::to_string(r);
    };
    auto first = page("<max>5</max>");
    EXPECT_NE(first.find("<first index='0'>i10</first><last>i14</last><count>12</count>"), std::string::npos) << first;
    auto next = page("<max>5</max><after>i14</after>");
    EXPECT_NE(next.find("<first index='5'>i15</first><last>i19</last>"), std::string::npos) << next;
    auto last = page("<max>5</max><before/>");
    EXPECT_NE(last.find("<first index='7'>i17</first><last>i21</last>"), std::string::npos) << last;
    auto unknown = page("<after>nope</after>");
    EXPECT_NE(unknown.find("item-not-found"), std::string::npos) << unknown;
}

}  // namespace
}  // namespace starling::server::testing
