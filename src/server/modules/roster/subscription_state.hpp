#pragma once
// The presence subscription state machine of RFC 6121 Appendix A, as pure functions: a
// roster item's state, one subscription stanza (outbound from the user, or inbound from
// the contact), and what follows: the new state, whether the stanza goes on, and which
// automatic replies the server sends. No I/O, so the RFC's tables are tested as tables.
#include <string_view>

namespace starling::roster {

// The nine states of Appendix A.1, plus pre-approval (§3.4).
struct SubscriptionState {
    bool to = false;           // the user receives the contact's presence
    bool from = false;         // the contact receives the user's presence
    bool pending_out = false;  // the user asked; the contact has not answered ('ask')
    bool pending_in = false;   // the contact asked; the user has not answered
    bool approved = false;     // the user pre-approved the contact's request

    friend bool operator==(const SubscriptionState&, const SubscriptionState&) = default;
    std::string_view subscription() const { return to ? (from ? "both" : "to") : (from ? "from" : "none"); }
};

enum class SubscriptionType { subscribe, unsubscribe, subscribed, unsubscribed };

struct Transition {
    SubscriptionState next;
    // Outbound: route the stanza to the contact. Inbound: deliver it to the user.
    bool forward = false;
    // Inbound only: answer the contact on the user's behalf.
    bool reply_subscribed = false;
    bool reply_unsubscribed = false;
    bool changed(const SubscriptionState& before) const { return !(next == before); }
};

// Appendix A.2: the user sends `type` to the contact.
Transition outbound(SubscriptionState state, SubscriptionType type);
// Appendix A.3: the contact sends `type` to the user.
Transition inbound(SubscriptionState state, SubscriptionType type);

}  // namespace starling::roster
