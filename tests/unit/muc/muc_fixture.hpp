#pragma once
// A server with the muc module, five users logged in (owner, admin, member, alice, bob) and
// helpers to create hall@conference.localhost, enter it and send muc#admin requests, for the
// in-process MUC tests. 1 or 4 shards (the test's parameter).
#include <gtest/gtest.h>

#include "server/testing/test_server.hpp"
#include "xml/writer.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server::testing {

inline constexpr std::string_view muc_ns = "http://jabber.org/protocol/muc";
inline constexpr std::string_view user_ns = "http://jabber.org/protocol/muc#user";
inline constexpr std::string_view admin_ns = "http://jabber.org/protocol/muc#admin";
inline constexpr std::string_view owner_ns = "http://jabber.org/protocol/muc#owner";
inline constexpr const char* muc_config = "[modules]\nenabled = [\"disco\", \"ping\", \"muc\"]\n";
inline const std::string room = "hall@conference.localhost";

class MucRoomTest : public ::testing::TestWithParam<std::size_t> {
protected:
    MucRoomTest() {
        for (const char* user : {"owner", "admin", "member", "alice", "bob"}) server.add_user(user);
        owner = server.login("owner");
        admin = server.login("admin");
        member = server.login("member");
        alice = server.login("alice");
        bob = server.login("bob");
    }

    // Enters `room` as `nick`; returns the client's own presence (status 110).
    xml::Element join(TestClient& client, std::string_view nick, std::string_view x_children = "") {
        client.send("<presence to='" + room + "/" + std::string(nick) + "'><x xmlns='" + std::string(muc_ns) + "'>" +
                    std::string(x_children) + "</x></presence>");
        return client.expect([&](const xml::Element& e) {
            return e.is("presence", ns::client) &&
                   (e.attribute("type") == "error" || (e.attribute("from") == room + "/" + std::string(nick) &&
                                                       has_status(e, 110)));
        });
    }

    // The owner creates the room with `fields` (muc#roomconfig fields), gives admin@ admin
    // and member@ membership, and enters as "boss".
    void create(std::string_view fields = "") {
        join(*owner, "boss");
        configure(fields);
        set_affiliation(*owner, "admin@localhost", "admin", "result");
        set_affiliation(*owner, "member@localhost", "member", "result");
    }

    void configure(std::string_view fields) {
        auto reply = owner->query("set", room,
                                  "<query xmlns='" + std::string(owner_ns) + "'><x xmlns='jabber:x:data' type='submit'>" +
                                      std::string(fields) + "</x></query>");
        ASSERT_EQ(reply.attribute("type"), "result") << xml::to_string(reply);
    }

    static std::string field(std::string_view var, std::string_view value) {
        return "<field var='" + std::string(var) + "'><value>" + std::string(value) + "</value></field>";
    }

    static bool has_status(const xml::Element& presence, int code) {
        const auto* x = presence.find_child("x", user_ns);
        if (!x) return false;
        for (const auto& node : x->children())
            if (!node.is_text() && node.element->is("status", user_ns) &&
                node.element->attribute("code") == std::to_string(code))
                return true;
        return false;
    }

    static const xml::Element* item(const xml::Element& presence) {
        const auto* x = presence.find_child("x", user_ns);
        return x ? x->find_child("item", user_ns) : nullptr;
    }

    // An admin request of `items`; checks the answer's type (and the error's condition).
    xml::Element admin_set(TestClient& client, std::string_view items, std::string_view expected) {
        auto reply = client.query("set", room, "<query xmlns='" + std::string(admin_ns) + "'>" + std::string(items) + "</query>");
        check(reply, expected);
        return reply;
    }
    void set_role(TestClient& client, std::string_view nick, std::string_view role, std::string_view expected,
                  std::string_view reason = "") {
        std::string r = reason.empty() ? "" : "<reason>" + std::string(reason) + "</reason>";
        admin_set(client, "<item nick='" + std::string(nick) + "' role='" + std::string(role) + "'>" + r + "</item>", expected);
    }
    void set_affiliation(TestClient& client, std::string_view jid, std::string_view affiliation, std::string_view expected) {
        admin_set(client, "<item jid='" + std::string(jid) + "' affiliation='" + std::string(affiliation) + "'/>", expected);
    }

    // `expected`: "result", or the stanza error condition.
    static void check(const xml::Element& reply, std::string_view expected) {
        if (expected == "result") {
            EXPECT_EQ(reply.attribute("type"), "result") << xml::to_string(reply);
            return;
        }
        ASSERT_EQ(reply.attribute("type"), "error") << xml::to_string(reply);
        const auto* error = reply.find_child("error", ns::client);
        ASSERT_NE(error, nullptr);
        EXPECT_NE(error->find_child(expected, ns::stanza_errors), nullptr)
            << "expected " << expected << ", got " << xml::to_string(reply);
    }

    // The jids of an affiliation list.
    std::vector<std::string> list(TestClient& client, std::string_view affiliation) {
        auto reply = client.query("get", room,
                                  "<query xmlns='" + std::string(admin_ns) + "'><item affiliation='" +
                                      std::string(affiliation) + "'/></query>");
        std::vector<std::string> out;
        if (const auto* q = reply.find_child("query", admin_ns))
            for (const auto& node : q->children())
                if (!node.is_text()) out.emplace_back(node.element->attribute("jid"));
        return out;
    }

    TestServer server{{.shards = GetParam(), .config = muc_config}};
    std::unique_ptr<TestClient> owner, admin, member, alice, bob;
};

inline auto unavailable_from(const std::string& jid) {
    return all_of({is("presence", "unavailable"), from(jid)});
}

}  // namespace starling::server::testing
