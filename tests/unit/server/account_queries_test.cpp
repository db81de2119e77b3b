// What PEP needs of the core on an account's side (DESIGN.md "Rooms and nodes"): a module
// asks a contact's client something from the account's bare JID and resumes with the answer
// (ctx.query), and nobody else's reply with the same id counts. 1 and 4 shards.
#include <gtest/gtest.h>

#include "server/module/module.hpp"
#include "server/testing/test_server.hpp"
#include "xml/writer.hpp"
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

class AccountQueries : public ::testing::TestWithParam<std::size_t> {
protected:
    AccountQueries() {
        server.add_user("alice");
        server.add_user("bob");
    }
    TestServer server{{.shards = GetParam(), .extra_modules = {&asker_module}}};
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

}  // namespace
}  // namespace starling::server::testing
