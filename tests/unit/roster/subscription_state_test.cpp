// RFC 6121 Appendix A, tables 2 to 9, row by row: each existing state × each subscription
// stanza, outbound and inbound, gives the RFC's new state and routing/delivery decision.
#include "server/modules/roster/subscription_state.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace starling::roster {
namespace {

SubscriptionState state(const std::string& name) {
    static const std::map<std::string, SubscriptionState> states = {
        {"None", {}},
        {"None + Pending Out", {.pending_out = true}},
        {"None + Pending In", {.pending_in = true}},
        {"None + Pending Out+In", {.pending_out = true, .pending_in = true}},
        {"To", {.to = true}},
        {"To + Pending In", {.to = true, .pending_in = true}},
        {"From", {.from = true}},
        {"From + Pending Out", {.from = true, .pending_out = true}},
        {"Both", {.to = true, .from = true}},
    };
    return states.at(name);
}

struct Row {
    const char* existing;
    bool forward;          // outbound: route; inbound: deliver (MUST = true; S.N./M.N. = false)
    const char* next;      // "" = no state change
};

void check(SubscriptionType type, bool is_inbound, const std::vector<Row>& table) {
    for (const auto& row : table) {
        SubscriptionState before = state(row.existing);
        Transition t = is_inbound ? inbound(before, type) : outbound(before, type);
        SubscriptionState expected = *row.next ? state(row.next) : before;
        EXPECT_EQ(t.forward, row.forward) << row.existing;
        EXPECT_TRUE(t.next.to == expected.to && t.next.from == expected.from &&
                    t.next.pending_out == expected.pending_out && t.next.pending_in == expected.pending_in)
            << row.existing << " → expected " << (*row.next ? row.next : "no change") << ", got "
            << t.next.subscription() << (t.next.pending_out ? " +out" : "") << (t.next.pending_in ? " +in" : "");
    }
}

TEST(SubscriptionState, table_2_outbound_subscribe) {
    check(SubscriptionType::subscribe, false,
          {{"None", true, "None + Pending Out"}, {"None + Pending Out", true, ""},
           {"None + Pending In", true, "None + Pending Out+In"}, {"None + Pending Out+In", true, ""},
           {"To", true, ""}, {"To + Pending In", true, ""}, {"From", true, "From + Pending Out"},
           {"From + Pending Out", true, ""}, {"Both", true, ""}});
}

TEST(SubscriptionState, table_3_outbound_unsubscribe) {
    check(SubscriptionType::unsubscribe, false,
          {{"None", true, ""}, {"None + Pending Out", true, "None"}, {"None + Pending In", true, ""},
           {"None + Pending Out+In", true, "None + Pending In"}, {"To", true, "None"},
           {"To + Pending In", true, "None + Pending In"}, {"From", true, ""},
           {"From + Pending Out", true, "From"}, {"Both", true, "From"}});
}

TEST(SubscriptionState, table_4_outbound_subscribed) {
    check(SubscriptionType::subscribed, false,
          {{"None", false, ""}, {"None + Pending Out", false, ""}, {"None + Pending In", true, "From"},
           {"None + Pending Out+In", true, "From + Pending Out"}, {"To", false, ""},
           {"To + Pending In", true, "Both"}, {"From", false, ""}, {"From + Pending Out", false, ""},
           {"Both", false, ""}});
}

TEST(SubscriptionState, table_4_note_1_outbound_subscribed_without_a_request_is_a_pre_approval) {
    for (const char* s : {"None", "None + Pending Out", "To"})
        EXPECT_TRUE(outbound(state(s), SubscriptionType::subscribed).next.approved) << s;
    for (const char* s : {"From", "Both", "None + Pending In"})
        EXPECT_FALSE(outbound(state(s), SubscriptionType::subscribed).next.approved) << s;
}

TEST(SubscriptionState, table_5_outbound_unsubscribed) {
    check(SubscriptionType::unsubscribed, false,
          {{"None", false, ""}, {"None + Pending Out", false, ""}, {"None + Pending In", true, "None"},
           {"None + Pending Out+In", true, "None + Pending Out"}, {"To", false, ""},
           {"To + Pending In", true, "To"}, {"From", true, "None"}, {"From + Pending Out", true, "None + Pending Out"},
           {"Both", true, "To"}});
}

TEST(SubscriptionState, table_5_note_1_outbound_unsubscribed_cancels_a_pre_approval) {
    SubscriptionState s = state("None");
    s.approved = true;
    EXPECT_FALSE(outbound(s, SubscriptionType::unsubscribed).next.approved);
}

TEST(SubscriptionState, table_6_inbound_subscribe) {
    check(SubscriptionType::subscribe, true,
          {{"None", true, "None + Pending In"}, {"None + Pending Out", true, "None + Pending Out+In"},
           {"None + Pending In", false, ""}, {"None + Pending Out+In", false, ""}, {"To", true, "To + Pending In"},
           {"To + Pending In", false, ""}, {"From", false, ""}, {"From + Pending Out", false, ""},
           {"Both", false, ""}});
}

TEST(SubscriptionState, table_6_note_2_inbound_subscribe_from_a_subscriber_is_answered_subscribed) {
    for (const char* s : {"From", "From + Pending Out", "Both"})
        EXPECT_TRUE(inbound(state(s), SubscriptionType::subscribe).reply_subscribed) << s;
    EXPECT_FALSE(inbound(state("None"), SubscriptionType::subscribe).reply_subscribed);
}

TEST(SubscriptionState, table_6_note_1_pre_approved_subscribe_is_granted_without_asking_the_user) {
    SubscriptionState s = state("None");
    s.approved = true;
    Transition t = inbound(s, SubscriptionType::subscribe);
    EXPECT_TRUE(t.reply_subscribed);
    EXPECT_FALSE(t.forward);
    EXPECT_TRUE(t.next.from);
    EXPECT_FALSE(t.next.approved);
    EXPECT_FALSE(t.next.pending_in);
}

TEST(SubscriptionState, table_7_inbound_unsubscribe) {
    check(SubscriptionType::unsubscribe, true,
          {{"None", false, ""}, {"None + Pending Out", false, ""}, {"None + Pending In", true, "None"},
           {"None + Pending Out+In", true, "None + Pending Out"}, {"To", false, ""},
           {"To + Pending In", true, "To"}, {"From", true, "None"}, {"From + Pending Out", true, "None + Pending Out"},
           {"Both", true, "To"}});
    EXPECT_TRUE(inbound(state("Both"), SubscriptionType::unsubscribe).reply_unsubscribed);
    EXPECT_FALSE(inbound(state("None"), SubscriptionType::unsubscribe).reply_unsubscribed);
}

TEST(SubscriptionState, table_8_inbound_subscribed) {
    check(SubscriptionType::subscribed, true,
          {{"None", false, ""}, {"None + Pending Out", true, "To"}, {"None + Pending In", false, ""},
           {"None + Pending Out+In", true, "To + Pending In"}, {"To", false, ""}, {"To + Pending In", false, ""},
           {"From", false, ""}, {"From + Pending Out", true, "Both"}, {"Both", false, ""}});
}

TEST(SubscriptionState, table_9_inbound_unsubscribed) {
    check(SubscriptionType::unsubscribed, true,
          {{"None", false, ""}, {"None + Pending Out", true, "None"}, {"None + Pending In", false, ""},
           {"None + Pending Out+In", true, "None + Pending In"}, {"To", true, "None"},
           {"To + Pending In", true, "None + Pending In"}, {"From", false, ""}, {"From + Pending Out", true, "From"},
           {"Both", true, "From"}});
}

}  // namespace
}  // namespace starling::roster
