// PendingIqs: a module's outgoing iq resumes with the addressee's reply, never with someone
// else's, and with remote-server-timeout when nothing comes in time.
#include "server/routing/pending_iqs.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include "xmpp/namespaces.hpp"

namespace starling::server {
namespace {

using xmpp::Jid;
using xmpp::Stanza;
using xmpp::StanzaKind;

Stanza ping_request() {
    xml::Element iq{"iq", std::string(ns::client)};
    iq.set_attribute("type", "get");
    iq.add_child("ping", std::string(ns::ping));
    return Stanza{StanzaKind::iq, std::move(iq), Jid::parse("echo.localhost"), Jid::parse("alice@localhost/r")};
}

Stanza reply(std::string_view id, std::string_view from) {
    xml::Element iq{"iq", std::string(ns::client)};
    iq.set_attribute("type", "result");
    iq.set_attribute("id", id);
    return Stanza{StanzaKind::iq, std::move(iq), Jid::parse(from), Jid::parse("echo.localhost")};
}

struct Waiting {
    boost::asio::io_context context;
    PendingIqs pending{context, 3};
    std::optional<Stanza> answer;

    void wait_for(std::string id) {
        boost::asio::co_spawn(
            context, [this, id]() -> Task<void> { answer = co_await pending.wait(id); }, boost::asio::detached);
    }
};

TEST(PendingIqs, ids_name_the_shard_that_waits) {
    Waiting run;
    Stanza request = ping_request();
    std::string id = run.pending.add(request, std::chrono::seconds{1});
    EXPECT_EQ(request.id(), id);
    EXPECT_EQ(PendingIqs::shard_of(id), 3u);
    EXPECT_EQ(PendingIqs::shard_of("a client's id"), std::nullopt);
    EXPECT_EQ(PendingIqs::shard_of("sq12"), std::nullopt);
}

TEST(PendingIqs, the_addressees_reply_resumes_the_wait_and_anyone_elses_is_ignored) {
    Waiting run;
    Stanza request = ping_request();
    std::string id = run.pending.add(request, std::chrono::seconds{30});
    run.wait_for(id);
    run.context.poll();
    EXPECT_FALSE(run.answer);
    EXPECT_FALSE(run.pending.complete(reply(id, "mallory@localhost/x")));
    EXPECT_FALSE(run.pending.complete(reply("sq3-999-nope", "alice@localhost/r")));
    run.context.poll();
    EXPECT_FALSE(run.answer);
    EXPECT_TRUE(run.pending.complete(reply(id, "alice@localhost/r")));
    run.context.run_for(std::chrono::seconds{1});
    ASSERT_TRUE(run.answer);
    EXPECT_EQ(run.answer->type(), "result");
    EXPECT_EQ(run.pending.size(), 0u);
    EXPECT_FALSE(run.pending.complete(reply(id, "alice@localhost/r")));  // answered once only
}

TEST(PendingIqs, a_reply_given_before_the_wait_begins_is_kept) {
    Waiting run;
    Stanza request = ping_request();
    std::string id = run.pending.add(request, std::chrono::seconds{30});
    EXPECT_TRUE(run.pending.complete(reply(id, "alice@localhost/r")));
    run.wait_for(id);
    run.context.run_for(std::chrono::seconds{1});
    ASSERT_TRUE(run.answer);
    EXPECT_EQ(run.answer->type(), "result");
}

TEST(PendingIqs, no_reply_in_time_is_remote_server_timeout_from_the_addressee) {
    Waiting run;
    Stanza request = ping_request();
    std::string id = run.pending.add(request, std::chrono::milliseconds{10});
    run.wait_for(id);
    run.context.run_for(std::chrono::seconds{2});
    ASSERT_TRUE(run.answer);
    EXPECT_EQ(run.answer->type(), "error");
    EXPECT_EQ(run.answer->from()->str(), "alice@localhost/r");
    EXPECT_EQ(run.answer->to()->str(), "echo.localhost");
    const auto* error = run.answer->element().find_child("error", ns::client);
    ASSERT_NE(error, nullptr);
    EXPECT_NE(error->find_child("remote-server-timeout", ns::stanza_errors), nullptr);
    EXPECT_EQ(run.pending.size(), 0u);
}

TEST(PendingIqs, waits_of_a_departing_sender_end_at_once_and_others_go_on) {
    Waiting run;
    Stanza from_echo = ping_request();
    std::string echo_id = run.pending.add(from_echo, std::chrono::seconds{30});
    Stanza from_room = ping_request();
    from_room.set_from(Jid::parse("room@conference.localhost"));
    std::string room_id = run.pending.add(from_room, std::chrono::seconds{30});
    run.wait_for(echo_id);
    run.context.poll();
    EXPECT_EQ(run.pending.cancel_from(*Jid::parse("echo.localhost")), 1u);
    run.context.run_for(std::chrono::milliseconds{500});
    ASSERT_TRUE(run.answer);
    EXPECT_EQ(run.answer->type(), "error");
    // The other sender's request still takes its reply.
    EXPECT_TRUE(run.pending.complete(reply(room_id, "alice@localhost/r")));
    // A cancelled request takes no late reply.
    EXPECT_FALSE(run.pending.complete(reply(echo_id, "alice@localhost/r")));
}

}  // namespace
}  // namespace starling::server
