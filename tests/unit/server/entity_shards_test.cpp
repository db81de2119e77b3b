// What rooms and nodes need of the core (MUC, PubSub: DESIGN.md "Rooms and nodes"), with a
// service of the test's own: iqs to an entity dispatched through the service's IqTable on
// the entity's owner shard and answered exactly once; a module reaching its own instance on
// the shard that owns an entity (on_owner) and gathering from every shard (on_every_shard);
// the domain's administrators from config. 1 and 4 shards.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "server/module/module.hpp"
#include "server/testing/test_server.hpp"
#include "xml/writer.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server::testing {
namespace {

constexpr std::string_view rooms_ns = "urn:test:rooms";

// Counts requests per entity, on the entity's owner shard only.
class Rooms final : public Module {
public:
    explicit Rooms(ModuleContext& ctx) : ctx_{ctx}, service_{ctx.add_service("rooms", "Rooms")} {
        service_.iq.on_get(rooms_ns, "count", To::entity, [this](IqRequest& r) { count(r); });
        service_.iq.on_get(rooms_ns, "silent", To::entity, [](IqRequest&) {});  // never answers
        service_.iq.on_get(rooms_ns, "list", To::host, [this](IqRequest& r) { return list(r); });
        service_.iq.on_set(rooms_ns, "touch", To::host, [this](IqRequest& r) { return touch(r); });
        service_.iq.on_get(rooms_ns, "admin", To::host, [this](IqRequest& r) {
            xml::Element answer{"admin", std::string(rooms_ns)};
            answer.set_attribute("is", ctx_.is_admin(r.from().bare()) ? "yes" : "no");
            r.reply(std::move(answer));
        });
        // What no handler takes: this module says so its own way.
        service_.on_entity_stanza = [this](xmpp::Stanza s) {
            if (s.is_iq_request())
                ctx_.send(s.error_reply({xmpp::StanzaErrorCondition::feature_not_implemented, "fell through"}));
        };
    }

    // On the owner shard of `room`.
    int bump(const xmpp::BareJid& room) {
        owned_by_another_ |= ctx_.owner_of(room) != ctx_.shard();
        return ++counts_[room.str()];
    }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& [name, n] : counts_) out.push_back(name);
        return out;
    }
    bool owned_by_another_ = false;  // set if a room's state was ever touched off its shard

private:
    void count(IqRequest& r) {
        int n = bump(r.stanza().to()->bare());
        xml::Element answer{"count", std::string(rooms_ns)};
        answer.set_attribute("n", std::to_string(n));
        r.reply(std::move(answer));
    }

    Task<void> list(IqRequest& r) {
        auto names = [](Rooms& m) { return m.names(); };
        Task<std::vector<std::vector<std::string>>> gather = ctx_.on_every_shard<Rooms>(names);
        auto per_shard = co_await std::move(gather);
        std::vector<std::string> all;
        for (auto& names : per_shard) all.insert(all.end(), names.begin(), names.end());
        std::sort(all.begin(), all.end());
        bool bad = false;
        auto misplaced = [](Rooms& m) { return m.owned_by_another_; };
        Task<std::vector<bool>> check = ctx_.on_every_shard<Rooms>(misplaced);
        auto checks = co_await std::move(check);
        for (bool b : checks) bad |= b;
        xml::Element answer{"list", std::string(rooms_ns)};
        answer.set_attribute("wrong-shard", bad ? "yes" : "no");
        for (const auto& name : all) answer.add_child("room", std::string(rooms_ns)).add_text(name);
        r.reply(std::move(answer));
    }

    Task<void> touch(IqRequest& r) {
        auto room = xmpp::BareJid::parse(r.payload().attribute("room"));
        if (!room) co_return r.error(xmpp::StanzaErrorCondition::jid_malformed);
        auto bump = [room = *room](Rooms& m) { return m.bump(room); };
        Task<int> call = ctx_.on_owner<Rooms>(*room, std::move(bump));
        int n = co_await std::move(call);
        xml::Element answer{"count", std::string(rooms_ns)};
        answer.set_attribute("n", std::to_string(n));
        r.reply(std::move(answer));  // back on the shard the request arrived on
    }

    ModuleContext& ctx_;
    Service& service_;
    std::map<std::string, int> counts_;
};

const ModuleInfo rooms_module{.name = "rooms", .create = create_module<Rooms>};

class EntityShards : public ::testing::TestWithParam<std::size_t> {
protected:
    EntityShards() {
        server.add_user("alice");
        server.add_user("root");
    }
    TestServer server{{.shards = GetParam(),
                       .config = "admins = [\"root@localhost\"]\n",  // still in the harness's [server]
                       .extra_modules = {&rooms_module}}};
};

INSTANTIATE_TEST_SUITE_P(Shards, EntityShards, ::testing::Values(1, 4),
                         [](const auto& info) { return std::to_string(info.param) + "_shards"; });

const xml::Element* error_of(const xml::Element& reply, std::string_view condition) {
    const auto* error = reply.find_child("error", ns::client);
    return error ? error->find_child(condition, ns::stanza_errors) : nullptr;
}

TEST_P(EntityShards, an_iq_to_an_entity_is_handled_on_its_owner_shard_whoever_asks_from_wherever) {
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 4; ++i) clients.push_back(server.login("alice", "r" + std::to_string(i)));
    int expected = 0;
    for (auto& c : clients)
        for (const char* room : {"one@rooms.localhost", "two@rooms.localhost"}) {
            auto reply = c->query("get", room, "<count xmlns='urn:test:rooms'/>");
            ASSERT_EQ(reply.attribute("type"), "result") << xml::to_string(reply);
            EXPECT_EQ(reply.attribute("from"), room);
            if (std::string_view(room).starts_with("one"))
                EXPECT_EQ(reply.find_child("count", rooms_ns)->attribute("n"), std::to_string(++expected));
        }
    // A request to one of the entity's resources is not the entity's own: the entity handler
    // gets it (to forward it, as a room does for its occupants).
    auto to_resource = clients[0]->query("get", "one@rooms.localhost/nick", "<count xmlns='urn:test:rooms'/>");
    EXPECT_NE(error_of(to_resource, "feature-not-implemented"), nullptr) << xml::to_string(to_resource);
    auto list = clients[0]->query("get", "rooms.localhost", "<list xmlns='urn:test:rooms'/>");
    const auto* answer = list.find_child("list", rooms_ns);
    ASSERT_NE(answer, nullptr);
    EXPECT_EQ(answer->attribute("wrong-shard"), "no");
}

TEST_P(EntityShards, a_handler_that_never_answers_still_gets_its_requester_one_error) {
    auto alice = server.login("alice");
    auto reply = alice->query("get", "one@rooms.localhost", "<silent xmlns='urn:test:rooms'/>");
    EXPECT_NE(error_of(reply, "internal-server-error"), nullptr) << xml::to_string(reply);
    alice->sync();
    for (const auto& e : alice->drain()) EXPECT_NE(e.attribute("id"), reply.attribute("id")) << "answered twice";
}

TEST_P(EntityShards, an_entity_iq_no_handler_takes_goes_to_the_entity_handler) {
    auto alice = server.login("alice");
    auto reply = alice->query("get", "one@rooms.localhost", "<other xmlns='urn:test:rooms'/>");
    EXPECT_NE(error_of(reply, "feature-not-implemented"), nullptr) << xml::to_string(reply);
    // A request for the entity's handler table at the service's own domain is not one.
    auto to_service = alice->query("get", "rooms.localhost", "<count xmlns='urn:test:rooms'/>");
    EXPECT_NE(error_of(to_service, "service-unavailable"), nullptr) << xml::to_string(to_service);
}

TEST_P(EntityShards, a_module_reaches_an_entitys_owner_shard_and_gathers_from_every_shard) {
    auto alice = server.login("alice");
    std::vector<std::string> rooms;
    for (int i = 0; i < 12; ++i) rooms.push_back("room" + std::to_string(i) + "@rooms.localhost");
    for (const auto& room : rooms) {
        auto first = alice->query("set", "rooms.localhost", "<touch xmlns='urn:test:rooms' room='" + room + "'/>");
        ASSERT_EQ(first.attribute("type"), "result") << xml::to_string(first);
        EXPECT_EQ(first.find_child("count", rooms_ns)->attribute("n"), "1");
    }
    // The state is the owner's: an iq straight to the entity sees the touches.
    auto second = alice->query("get", rooms[5], "<count xmlns='urn:test:rooms'/>");
    EXPECT_EQ(second.find_child("count", rooms_ns)->attribute("n"), "2");
    auto list = alice->query("get", "rooms.localhost", "<list xmlns='urn:test:rooms'/>");
    const auto* answer = list.find_child("list", rooms_ns);
    ASSERT_NE(answer, nullptr);
    std::vector<std::string> listed;
    for (const auto& n : answer->children())
        if (!n.is_text()) listed.push_back(n.element->text());
    std::sort(rooms.begin(), rooms.end());
    EXPECT_EQ(listed, rooms);
    EXPECT_EQ(answer->attribute("wrong-shard"), "no");
}

TEST_P(EntityShards, the_domains_administrators_come_from_config) {
    auto root = server.login("root");
    auto alice = server.login("alice");
    auto yes = root->query("get", "rooms.localhost", "<admin xmlns='urn:test:rooms'/>");
    EXPECT_EQ(yes.find_child("admin", rooms_ns)->attribute("is"), "yes");
    auto no = alice->query("get", "rooms.localhost", "<admin xmlns='urn:test:rooms'/>");
    EXPECT_EQ(no.find_child("admin", rooms_ns)->attribute("is"), "no");
}

}  // namespace
}  // namespace starling::server::testing
