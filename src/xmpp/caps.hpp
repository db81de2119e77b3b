#pragma once
// XEP-0115 entity capabilities: the verification string of a disco#info result (§5.1), used
// both to advertise the server's own caps and to check a contact's 'ver' before caching it
// (§5.4: a ver is trusted only if the features the entity gives hash to it).
#include <optional>
#include <string>
#include <string_view>

namespace starling::xml { class Element; }

namespace starling::xmpp {

inline constexpr std::string_view caps_ns = "http://jabber.org/protocol/caps";

// The Base64 of the digest of §5.1's string S for `query` (a disco#info <query/>), with
// `hash` one of XEP-0115's names from the IANA registry ("sha-1", "sha-256", "sha-512", ...);
// nullopt for a hash this build does not know.
std::optional<std::string> caps_verification(const xml::Element& query, std::string_view hash = "sha-1");

}  // namespace starling::xmpp
