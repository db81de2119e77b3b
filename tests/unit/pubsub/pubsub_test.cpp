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
constexpr const char* config =
    "[modules]\nenabled = [\"disco\", \"ping\", \"roster\", \"pubsub\"]\n"
    "[modules.pubsub]\nmax_payload_bytes = 200\nmax_nodes_per_user = 14\nmax_items_per_node = 50\n";

class Pubsub : public ::testing::TestWithParam<std::size_t> {
protected:
    Pubsub() {
        server.add_user("alice");
        server.add_user("bob");
        server.add_user("carol");
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

const xml::Element* app_error(const xml::Element& reply, std::string_view condition) {
    const auto* error = reply.find_child("error", ns::client);
    return error ? error->find_child(condition, "http://jabber.org/protocol/pubsub#errors") : nullptr;
}

std::string publish_options(std::string_view fields) {
    return "<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
           "<value>http://jabber.org/protocol/pubsub#publish-options</value></field>" +
           std::string(fields) + "</x></publish-options>";
}

TEST_P(Pubsub, publish_options_are_preconditions_on_the_nodes_configuration) {
    auto alice = server.login("alice");
    ASSERT_EQ(request(*alice, "set", "<create node='keys'/>").attribute("type"), "result");
    const std::string item = "<publish node='keys'><item id='current'><k xmlns='urn:test'/></item></publish>";
    auto met = request(*alice, "set", item + publish_options("<field var='pubsub#access_model'><value>open</value></field>"));
    EXPECT_EQ(met.attribute("type"), "result") << xml::to_string(met);
    auto unmet = request(*alice, "set", item + publish_options("<field var='pubsub#access_model'><value>whitelist</value></field>"));
    ASSERT_EQ(unmet.attribute("type"), "error");
    EXPECT_NE(app_error(unmet, "precondition-not-met"), nullptr) << xml::to_string(unmet);
    EXPECT_NE(unmet.find_child("error", ns::client)->find_child("conflict", ns::stanza_errors), nullptr);
    auto unknown = request(*alice, "set", item + publish_options("<field var='pubsub#no_such_option'><value>1</value></field>"));
    EXPECT_NE(app_error(unknown, "precondition-not-met"), nullptr) << xml::to_string(unknown);
    // "max" is the service's limit: met once the node is configured so.
    auto maxed = request(*alice, "set", item + publish_options("<field var='pubsub#max_items'><value>max</value></field>"));
    EXPECT_NE(app_error(maxed, "precondition-not-met"), nullptr);
    auto configured = alice->query("set", "pubsub.localhost",
                                   "<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='keys'>"
                                   "<x xmlns='jabber:x:data' type='submit'><field var='pubsub#max_items'><value>max</value>"
                                   "</field></x></configure></pubsub>");
    ASSERT_EQ(configured.attribute("type"), "result") << xml::to_string(configured);
    maxed = request(*alice, "set", item + publish_options("<field var='pubsub#max_items'><value>50</value></field>"));
    EXPECT_EQ(maxed.attribute("type"), "result") << xml::to_string(maxed);
}

TEST_P(Pubsub, the_services_limits_give_their_errors) {
    auto alice = server.login("alice");
    ASSERT_EQ(request(*alice, "set", "<create node='big'/>").attribute("type"), "result");
    auto big = request(*alice, "set", "<publish node='big'><item><p xmlns='urn:test'>" + std::string(300, 'x') + "</p></item></publish>");
    ASSERT_EQ(big.attribute("type"), "error");
    EXPECT_NE(app_error(big, "payload-too-big"), nullptr) << xml::to_string(big);
    auto too_many = alice->query("set", "pubsub.localhost",
                                 "<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='big'>"
                                 "<x xmlns='jabber:x:data' type='submit'><field var='pubsub#max_items'><value>51</value>"
                                 "</field></x></configure></pubsub>");
    EXPECT_NE(too_many.find_child("error", ns::client)->find_child("not-acceptable", ns::stanza_errors), nullptr);
    for (int i = 1; i < 14; ++i)
        ASSERT_EQ(request(*alice, "set", "<create node='more" + std::to_string(i) + "'/>").attribute("type"), "result");
    auto over = request(*alice, "set", "<create node='one-too-many'/>");
    ASSERT_EQ(over.attribute("type"), "error");
    EXPECT_NE(app_error(over, "max-nodes-exceeded"), nullptr) << xml::to_string(over);
}

// §8.8.4, §8.9.4, §8.4.1: an entity hears when an owner changes its subscription or its
// affiliation, and subscribers hear where a deleted node's requests should go.
TEST_P(Pubsub, owners_changes_are_told_to_the_entities_they_touch) {
    auto alice = server.login("alice");
    auto bob = server.login("bob");
    bob->send("<presence/>");  // a headline to a bare JID goes to available resources
    bob->sync();
    auto owner = [&](std::string_view inner) {
        return alice->query("set", "pubsub.localhost",
                            "<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>" + std::string(inner) + "</pubsub>");
    };
    ASSERT_EQ(request(*alice, "set", "<create node='told'/>").attribute("type"), "result");
    ASSERT_EQ(owner("<subscriptions node='told'><subscription jid='bob@localhost' subscription='subscribed'/></subscriptions>")
                  .attribute("type"),
              "result");
    auto subscribed = bob->expect(is("message"));
    EXPECT_NE(xml::to_string(subscribed).find("<subscription node='told' jid='bob@localhost' subscription='subscribed'/>"),
              std::string::npos)
        << xml::to_string(subscribed);
    ASSERT_EQ(owner("<affiliations node='told'><affiliation jid='bob@localhost' affiliation='publisher'/></affiliations>")
                  .attribute("type"),
              "result");
    auto affiliated = bob->expect(is("message"));
    EXPECT_NE(xml::to_string(affiliated).find("affiliation='publisher'"), std::string::npos) << xml::to_string(affiliated);
    ASSERT_EQ(owner("<delete node='told'><redirect uri='xmpp:pubsub.localhost?;node=elsewhere'/></delete>").attribute("type"),
              "result");
    auto deleted = bob->expect(is("message"));
    EXPECT_NE(xml::to_string(deleted).find("<redirect uri='xmpp:pubsub.localhost?;node=elsewhere'/>"), std::string::npos)
        << xml::to_string(deleted);
}

// §6.1.4, §8.6: under the authorize model a subscription waits for an owner's answer.
TEST_P(Pubsub, the_authorize_model_asks_the_owner) {
    auto alice = server.login("alice");
    auto bob = server.login("bob");
    auto carol = server.login("carol");
    for (auto* c : {alice.get(), bob.get(), carol.get()}) {
        c->send("<presence/>");
        c->sync();
    }
    auto created = request(*alice, "set",
                           "<create node='club'/><configure><x xmlns='jabber:x:data' type='submit'>"
                           "<field var='pubsub#access_model'><value>authorize</value></field></x></configure>");
    ASSERT_EQ(created.attribute("type"), "result") << xml::to_string(created);
    auto pending = request(*bob, "set", "<subscribe node='club' jid='bob@localhost'/>");
    EXPECT_NE(xml::to_string(pending).find("subscription='pending'"), std::string::npos) << xml::to_string(pending);
    auto asked = alice->expect(is("message"));
    const auto* form = asked.find_child("x", "jabber:x:data");
    ASSERT_NE(form, nullptr) << xml::to_string(asked);
    EXPECT_NE(xml::to_string(*form).find("bob@localhost"), std::string::npos);
    // Waiting is neither subscribed nor allowed to read.
    auto again = request(*bob, "set", "<subscribe node='club' jid='bob@localhost'/>");
    EXPECT_NE(app_error(again, "pending-subscription"), nullptr) << xml::to_string(again);
    auto read = request(*bob, "get", "<items node='club'/>");
    EXPECT_NE(app_error(read, "not-subscribed"), nullptr) << xml::to_string(read);
    auto answer = [](std::string_view who, bool allow) {
        return "<message to='pubsub.localhost'><x xmlns='jabber:x:data' type='submit'>"
               "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#subscribe_authorization</value></field>"
               "<field var='pubsub#node'><value>club</value></field>"
               "<field var='pubsub#subscriber_jid'><value>" + std::string(who) + "</value></field>"
               "<field var='pubsub#allow'><value>" + (allow ? "true" : "false") + "</value></field></x></message>";
    };
    // Only an owner decides.
    carol->send(answer("bob@localhost", true));
    auto refused = carol->expect(is("message", "error"));
    EXPECT_NE(xml::to_string(refused).find("forbidden"), std::string::npos) << xml::to_string(refused);
    alice->send(answer("bob@localhost", true));
    auto approved = bob->expect(is("message"));
    EXPECT_NE(xml::to_string(approved).find("subscription='subscribed'"), std::string::npos) << xml::to_string(approved);
    ASSERT_EQ(request(*alice, "set", "<publish node='club'><item id='i1'><p xmlns='urn:test'>news</p></item></publish>")
                  .attribute("type"),
              "result");
    EXPECT_NE(xml::to_string(bob->expect(is("message", "headline"))).find("news"), std::string::npos);
    EXPECT_EQ(request(*bob, "get", "<items node='club'/>").attribute("type"), "result");
    // Denied: carol hears 'none' and stays out.
    request(*carol, "set", "<subscribe node='club' jid='carol@localhost'/>");
    alice->expect(is("message"));
    alice->send(answer("carol@localhost", false));
    auto denied = carol->expect(is("message"));
    EXPECT_NE(xml::to_string(denied).find("subscription='none'"), std::string::npos) << xml::to_string(denied);
    EXPECT_NE(app_error(request(*carol, "get", "<items node='club'/>"), "not-subscribed"), nullptr);
}

}  // namespace
}  // namespace starling::server::testing
