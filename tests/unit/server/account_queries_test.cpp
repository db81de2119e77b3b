// What PEP needs of the core on an account's side (DESIGN.md "Rooms and nodes"): a module
// asks a contact's client something from the account's bare JID and resumes with the answer
// (ctx.query), and nobody else's reply with the same id counts; the caps cache learns a
// contact's features from its presence, asking once per version and keeping only answers
// that hash to it (XEP-0115 §5.4). 1 and 4 shards.
#include <gtest/gtest.h>

#include "server/module/events.hpp"
#include "server/module/module.hpp"
#include "server/testing/test_server.hpp"
#include "xml/writer.hpp"
#include "xmpp/caps.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server::testing {
namespace {

constexpr std::string_view ask_ns = "urn:test:ask";

// <ask xmlns='urn:test:ask' who='full JID'/> to one's own bare JID: the module pings `who`
// from the account's bare JID and answers with what came back.
class Asker final : public Module {
public:
    explicit Asker(ModuleContext& ctx) : ctx_{ctx} {
        ctx.iq().on_get(ask_ns, "ask", To::account, [this](IqRequest& r) -> Task<void> { return ask(r); });
    }

private:
    Task<void> ask(IqRequest& request) {
        auto who = xmpp::Jid::parse(request.payload().attribute("who"));
        xml::Element ping{"iq", std::string(ns::client)};
        ping.set_attribute("type", "get");
        ping.add_child("ping", std::string(ns::ping));
        xmpp::Stanza out{xmpp::StanzaKind::iq, std::move(ping), request.stanza().to()->bare().jid(), who};
        Task<xmpp::Stanza> asking = ctx_.query(std::move(out), std::chrono::seconds{3});
        xmpp::Stanza answer = co_await std::move(asking);
        xml::Element result{"answer", std::string(ask_ns)};
        result.set_attribute("type", answer.type());
        result.set_attribute("from", answer.from() ? answer.from()->str() : "");
        request.reply(std::move(result));
    }

    ModuleContext& ctx_;
};

const ModuleInfo asker_module{.name = "asker", .create = create_module<Asker>};

// Learns the caps of every full JID that sends presence to an account; <features who=''/>
// to one's bare JID lists what is known of `who`.
class CapsWatcher final : public Module {
public:
    explicit CapsWatcher(ModuleContext& ctx) : ctx_{ctx} {
        ctx.on<PresenceToAccount>([this](PresenceToAccount& e) { seen(e.stanza); });
        ctx.iq().on_get(ask_ns, "features", To::account, [this](IqRequest& r) {
            auto who = xmpp::Jid::parse(r.payload().attribute("who"));
            xml::Element answer{"features", std::string(ask_ns)};
            if (CapsFeaturesPtr known = who ? ctx_.caps().features_of(*who) : nullptr)
                for (const auto& f : known->features) answer.add_child("feature", std::string(ask_ns)).add_text(f);
            r.reply(std::move(answer));
        });
    }

private:
    Flow seen(const xmpp::Stanza& presence) {
        const auto& from = presence.from();
        if (!from || !from->has_resource()) return Flow::next;
        if (presence.type() == "unavailable") {
            ctx_.caps().forget(*from);
        } else if (auto caps = xmpp::caps_of(presence.element()); caps && presence.type().empty()) {
            ctx_.spawn(learn(presence.to()->bare().jid(), *from, *caps));
        }
        return Flow::next;
    }
    Task<void> learn(xmpp::Jid asker, xmpp::Jid full, xmpp::Caps caps) {
        Task<CapsFeaturesPtr> learning = ctx_.learn_caps(std::move(asker), std::move(full), std::move(caps));
        co_await std::move(learning);
    }

    ModuleContext& ctx_;
};

const ModuleInfo caps_module{.name = "caps_watcher", .create = create_module<CapsWatcher>};

// What PEP will add to an account's disco: an identity, and one node, "notes".
class AccountNodes final : public Module {
public:
    explicit AccountNodes(ModuleContext& ctx) {
        ctx.on<AccountDiscoInfo>([](AccountDiscoInfo& e) {
            if (e.node.empty()) {
                e.query.add_child("identity", std::string(ns::disco_info))
                    .set_attribute("category", "pubsub")
                    .set_attribute("type", "pep");
            } else if (e.node == "notes") {
                e.node_found = true;
                e.query.add_child("identity", std::string(ns::disco_info))
                    .set_attribute("category", "pubsub")
                    .set_attribute("type", "leaf");
            }
        });
        ctx.on<AccountDiscoItems>([](AccountDiscoItems& e) {
            if (!e.node.empty()) return;
            e.query.add_child("item", std::string(ns::disco_items))
                .set_attribute("jid", e.account.str())
                .set_attribute("node", "notes");
        });
    }
};

const ModuleInfo nodes_module{.name = "account_nodes", .create = create_module<AccountNodes>};

class AccountQueries : public ::testing::TestWithParam<std::size_t> {
protected:
    AccountQueries() {
        server.add_user("alice");
        server.add_user("bob");
        server.add_user("carol");
    }
    TestServer server{{.shards = GetParam(), .extra_modules = {&asker_module, &caps_module, &nodes_module}}};

    // What alice's server knows `who` can do, once it knows anything (the answer to its
    // question resumes the asking task on alice's shard a moment after it arrives): bounded.
    std::vector<std::string> learnt(TestClient& alice, std::string_view who) {
        for (int i = 0; i < 100; ++i) {
            auto known = features(alice, who);
            if (!known.empty()) return known;
            alice.sync();
        }
        return {};
    }

    // What alice's server knows `who` can do.
    std::vector<std::string> features(TestClient& alice, std::string_view who) {
        auto reply = alice.query("get", "alice@localhost", "<features xmlns='urn:test:ask' who='" + std::string(who) + "'/>");
        std::vector<std::string> out;
        if (const auto* f = reply.find_child("features", ask_ns))
            for (const auto& n : f->children())
                if (!n.is_text()) out.push_back(n.element->text());
        return out;
    }
};

INSTANTIATE_TEST_SUITE_P(Shards, AccountQueries, ::testing::Values(1, 4),
                         [](const auto& info) { return std::to_string(info.param) + "_shards"; });

TEST_P(AccountQueries, a_query_from_an_accounts_bare_jid_resumes_with_the_answer) {
    auto alice = server.login("alice");
    auto bob = server.login("bob", "phone");
    alice->send("<iq type='get' id='a1' to='alice@localhost'><ask xmlns='urn:test:ask' who='bob@localhost/phone'/></iq>");
    auto ping = bob->expect(is("iq", "get"));
    EXPECT_EQ(ping.attribute("from"), "alice@localhost");
    // Someone else answering with the same id (to alice's bare JID) is not the answer.
    alice->send("<iq type='error' id='" + std::string(ping.attribute("id")) + "' to='alice@localhost'>"
                "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    bob->send("<iq type='result' id='" + std::string(ping.attribute("id")) + "' to='alice@localhost'/>");
    auto answer = alice->expect(has_id("a1"));
    ASSERT_EQ(answer.attribute("type"), "result") << xml::to_string(answer);
    const auto* got = answer.find_child("answer", ask_ns);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(got->attribute("type"), "result");
    EXPECT_EQ(got->attribute("from"), "bob@localhost/phone");
}

// XEP-0115 §5.2's example: Exodus 0.9.1.
constexpr const char* exodus_info =
    "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
    "<feature var='http://jabber.org/protocol/caps'/><feature var='http://jabber.org/protocol/disco#items'/>"
    "<feature var='http://jabber.org/protocol/disco#info'/><feature var='http://jabber.org/protocol/muc'/>";
constexpr const char* exodus_caps =
    "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://code.google.com/p/exodus' "
    "ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>";

TEST_P(AccountQueries, a_contacts_features_are_asked_once_per_version_and_kept_only_if_they_hash_to_it) {
    auto alice = server.login("alice");
    auto bob = server.login("bob", "phone");
    auto bob2 = server.login("bob", "laptop");
    bob->send(std::string("<presence to='alice@localhost'>") + exodus_caps + "</presence>");
    auto asked = bob->expect(is("iq", "get"));
    EXPECT_EQ(asked.attribute("from"), "alice@localhost");
    const auto* q = asked.find_child("query", ns::disco_info);
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->attribute("node"), "http://code.google.com/p/exodus#QgayPKawpkPSDYmwT/WM94uAlu0=");
    bob->send("<iq type='result' id='" + std::string(asked.attribute("id")) + "' to='alice@localhost'>"
              "<query xmlns='http://jabber.org/protocol/disco#info' node='" + std::string(q->attribute("node")) + "'>" +
              exodus_info + "</query></iq>");
    bob->sync();
    std::vector<std::string> exodus{"http://jabber.org/protocol/caps", "http://jabber.org/protocol/disco#info",
                                    "http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc"};
    EXPECT_EQ(learnt(*alice, "bob@localhost/phone"), exodus);
    // The same version from another resource: known, nobody asked.
    bob2->send(std::string("<presence to='alice@localhost'>") + exodus_caps + "</presence>");
    bob2->sync();
    for (const auto& e : bob2->drain()) EXPECT_FALSE(e.is("iq", ns::client)) << xml::to_string(e);
    EXPECT_EQ(features(*alice, "bob@localhost/laptop"), exodus);
    // Gone: forgotten.
    bob2->send("<presence type='unavailable' to='alice@localhost'/>");
    bob2->sync();
    EXPECT_TRUE(features(*alice, "bob@localhost/laptop").empty());
}

TEST_P(AccountQueries, features_that_do_not_hash_to_the_version_are_not_kept_nor_asked_again) {
    auto alice = server.login("alice");
    auto bob = server.login("bob", "phone");
    const std::string caps = "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='urn:liar' ver='AAAAAAAAAAAAAAAAAAAAAAAAAAA='/>";
    bob->send("<presence to='alice@localhost'>" + caps + "</presence>");
    auto asked = bob->expect(is("iq", "get"));
    bob->send("<iq type='result' id='" + std::string(asked.attribute("id")) + "' to='alice@localhost'>"
              "<query xmlns='http://jabber.org/protocol/disco#info'>" + std::string(exodus_info) + "</query></iq>");
    bob->sync();
    for (int i = 0; i < 20; ++i) alice->sync();  // time for the answer to reach the asking task
    EXPECT_TRUE(features(*alice, "bob@localhost/phone").empty());
    bob->send("<presence to='alice@localhost'>" + caps + "</presence>");
    bob->sync();
    for (const auto& e : bob->drain()) EXPECT_FALSE(e.is("iq", ns::client)) << xml::to_string(e);
}

bool has_identity(const xml::Element& reply, std::string_view category, std::string_view type) {
    const auto* q = reply.find_child("query", ns::disco_info);
    if (!q) return false;
    for (const auto& n : q->children())
        if (!n.is_text() && n.element->is("identity", ns::disco_info) && n.element->attribute("category") == category &&
            n.element->attribute("type") == type)
            return true;
    return false;
}

TEST_P(AccountQueries, modules_add_to_an_accounts_disco_for_the_account_and_those_who_see_its_presence) {
    auto alice = server.login("alice");
    auto bob = server.login("bob");
    auto carol = server.login("carol");
    auto own = alice->query("get", "alice@localhost", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
    EXPECT_TRUE(has_identity(own, "account", "registered")) << xml::to_string(own);
    EXPECT_TRUE(has_identity(own, "pubsub", "pep")) << xml::to_string(own);
    // carol does not receive alice's presence: nothing, not even that alice exists.
    auto stranger = carol->query("get", "alice@localhost", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
    ASSERT_EQ(stranger.attribute("type"), "error");
    EXPECT_NE(stranger.find_child("error", ns::client)->find_child("service-unavailable", ns::stanza_errors), nullptr);
    // bob does, once alice approved his subscription.
    alice->send("<presence/>");
    alice->sync();
    bob->send("<presence type='subscribe' to='alice@localhost'/>");
    alice->expect(is("presence", "subscribe"));
    alice->send("<presence type='subscribed' to='bob@localhost'/>");
    alice->sync();
    bob->sync();
    auto contact = bob->query("get", "alice@localhost", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
    EXPECT_TRUE(has_identity(contact, "pubsub", "pep")) << xml::to_string(contact);
    auto node = bob->query("get", "alice@localhost", "<query xmlns='http://jabber.org/protocol/disco#info' node='notes'/>");
    EXPECT_TRUE(has_identity(node, "pubsub", "leaf")) << xml::to_string(node);
    EXPECT_EQ(node.find_child("query", ns::disco_info)->attribute("node"), "notes");
    auto unknown = bob->query("get", "alice@localhost", "<query xmlns='http://jabber.org/protocol/disco#info' node='nope'/>");
    EXPECT_NE(unknown.find_child("error", ns::client)->find_child("item-not-found", ns::stanza_errors), nullptr);
    auto items = bob->query("get", "alice@localhost", "<query xmlns='http://jabber.org/protocol/disco#items'/>");
    const auto* item = items.find_child("query", ns::disco_items)->find_child("item", ns::disco_items);
    ASSERT_NE(item, nullptr) << xml::to_string(items);
    EXPECT_EQ(item->attribute("node"), "notes");
    auto no_items = carol->query("get", "alice@localhost", "<query xmlns='http://jabber.org/protocol/disco#items'/>");
    EXPECT_EQ(no_items.attribute("type"), "error");
}

}  // namespace
}  // namespace starling::server::testing
