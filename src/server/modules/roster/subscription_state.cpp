#include "server/modules/roster/subscription_state.hpp"

namespace starling::roster {

using T = SubscriptionType;

Transition outbound(SubscriptionState s, SubscriptionType type) {
    Transition t{s};
    switch (type) {
        case T::subscribe:  // Table 2: always routed; "pending out" unless already subscribed
            t.forward = true;
            if (!s.to) t.next.pending_out = true;
            break;
        case T::unsubscribe:  // Table 3: always routed; no more "to", nothing pending out
            t.forward = true;
            t.next.to = false;
            t.next.pending_out = false;
            break;
        case T::subscribed:  // Table 4
            if (s.pending_in) {
                t.forward = true;
                t.next.from = true;
                t.next.pending_in = false;
            } else if (!s.from) {
                t.next.approved = true;  // §3.4: pre-approval, not routed
            }
            break;
        case T::unsubscribed:  // Table 5
            if (s.pending_in || s.from) {
                t.forward = true;
                t.next.pending_in = false;
                t.next.from = false;
            }
            t.next.approved = false;  // cancels a pre-approval (§3.4)
            break;
    }
    return t;
}

Transition inbound(SubscriptionState s, SubscriptionType type) {
    Transition t{s};
    switch (type) {
        case T::subscribe:  // Table 6
            if (s.from) {
                t.reply_subscribed = true;  // [2]
            } else if (!s.pending_in) {
                if (s.approved) {  // [1] and §3.4: approved in advance
                    t.next.from = true;
                    t.next.approved = false;
                    t.reply_subscribed = true;
                } else {
                    t.next.pending_in = true;
                    t.forward = true;
                }
            }
            break;
        case T::unsubscribe:  // Table 7
            if (s.pending_in || s.from) {
                t.next.pending_in = false;
                t.next.from = false;
                t.forward = true;
                t.reply_unsubscribed = true;
            }
            break;
        case T::subscribed:  // Table 8: only an answer to our own pending request counts
            if (s.pending_out && !s.to) {
                t.next.to = true;
                t.next.pending_out = false;
                t.forward = true;
            }
            break;
        case T::unsubscribed:  // Table 9
            if (s.pending_out || s.to) {
                t.next.to = false;
                t.next.pending_out = false;
                t.forward = true;
            }
            break;
    }
    return t;
}

}  // namespace starling::roster
