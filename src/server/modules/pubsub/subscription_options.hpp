#pragma once
// A subscription's options (XEP-0060 §6.3, §16.4.2 pubsub#subscribe_options): whether the
// subscriber gets notifications at all, in which presence states (show-values), and, on a
// collection node (XEP-0248 §6.1), which events of the nodes below and from how deep.
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "xml/element.hpp"

namespace starling::pubsub {

inline constexpr std::string_view subscribe_options_form = "http://jabber.org/protocol/pubsub#subscribe_options";

struct SubscriptionOptions {
    bool deliver = true;                   // pubsub#deliver
    std::vector<std::string> show_values;  // pubsub#show-values; empty: every state
    // XEP-0248 §6.1: pubsub#subscription_type "nodes" (true: creations, deletions,
    // associations below) or "items"; pubsub#subscription_depth, how many levels down
    // (0: the collection's own events only), or "all".
    bool nodes = false;
    unsigned depth = 1;
    bool all_depths = false;

    bool operator==(const SubscriptionOptions&) const = default;
    // Whether a resource whose presence shows `show` ("online" without <show/>) gets events.
    bool shows(std::string_view show) const;
};

// What a new subscription to a node of that kind gets (§6.4; XEP-0248 §6.1 Example 12: a
// collection's subscriber hears of new nodes, one level down).
SubscriptionOptions default_options(bool collection);
// <x xmlns='jabber:x:data' type=`type`> with `options` (the collection fields only for one).
xml::Element options_form(const SubscriptionOptions& options, bool collection, std::string_view type = "form");
// The options a submitted form makes of `current`; the error names the wrong field (§6.3.6.2).
Result<SubscriptionOptions, std::string> apply_options(const SubscriptionOptions& current, const xml::Element& submitted);

}  // namespace starling::pubsub
