#pragma once
#include <string_view>

#include "xmpp/jid.hpp"

namespace starling::server {

// An available resource of a local account (RFC 6121 §4.2) and what its presence shows
// (§4.7.2.1: "chat", "away", "xa", "dnd", or "online" without <show/>).
struct AvailableResource {
    xmpp::Jid jid;
    std::string_view show;
};

}  // namespace starling::server
