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

// The <c/> of a presence (§4): which hash, the software's node and the verification string.
struct Caps {
    std::string hash, node, ver;
};
// The caps a presence carries; nullopt without a <c/>, or with a legacy one (no 'hash', §8.4:
// its ver is not a hash and cannot be checked, so it is not trusted).
std::optional<Caps> caps_of(const xml::Element& presence);

// The Base64 of the digest of §5.1's string S for `query` (a disco#info <query/>), with
// `hash` one of XEP-0115's names from the IANA registry ("sha-1", "sha-256", "sha-512", ...);
// nullopt for a hash this build does not know.
std::optional<std::string> caps_verification(const xml::Element& query, std::string_view hash = "sha-1");

}  // namespace starling::xmpp
