#pragma once
// PresenceSubscriptions: who receives whose presence (RFC 6121 §3), as the roster knows it.
// Modules that must not leak presence ask it: last activity (XEP-0012 §8), later PEP
// (XEP-0163 §4) and the presence access model of PubSub. Provided by the roster module
// (Exports); absent when it is off, in which case only the account itself is trusted.
#include <optional>
#include <string>
#include <vector>

#include "net/task.hpp"
#include "xmpp/jid.hpp"

namespace starling::server {

class PresenceSubscriptions {
public:
    virtual ~PresenceSubscriptions() = default;
    // On the owner shard of `account`: whether `contact` is subscribed to the account's
    // presence (subscription 'from' or 'both'). Served from memory while the account is
    // available, else from the store.
    virtual Task<bool> receives_presence(xmpp::BareJid account, xmpp::BareJid contact) = 0;
    // On the owner shard of `account`: the roster groups of `contact` if it receives the
    // account's presence, else nullopt (the roster access model of PubSub and PEP, XEP-0060
    // §4.5: subscribed to the owner's presence and in an allowed group). From the store.
    virtual Task<std::optional<std::vector<std::string>>> groups_of_subscriber(xmpp::BareJid account,
                                                                               xmpp::BareJid contact) = 0;
};

}  // namespace starling::server
