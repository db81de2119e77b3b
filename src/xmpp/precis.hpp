#pragma once
// PRECIS profiles (RFC 8264 framework, RFC 8265, RFC 8266) implemented with ICU.
// Each function enforces the profile: it applies the profile's rules in order
// (width mapping, additional mapping, case mapping, normalization, directionality) and then
// checks the string class. nullopt means the input is not allowed by the profile.
#include <optional>
#include <string>
#include <string_view>

namespace starling::xmpp::precis {

// RFC 8265 §3.3: UsernameCaseMapped (JID localparts, RFC 7622 §3.3).
std::optional<std::string> username_case_mapped(std::string_view utf8);
// RFC 8265 §4.2: OpaqueString (JID resourceparts, RFC 7622 §3.4; passwords).
std::optional<std::string> opaque_string(std::string_view utf8);
// RFC 8266 §2: Nickname (MUC nicknames). Enforcement keeps case (RFC 8266 §2.3).
std::optional<std::string> nickname(std::string_view utf8);
// RFC 8266 §2.4: the form two nicknames are compared in (also case-mapped); equal forms
// mean the nicknames conflict.
std::optional<std::string> nickname_for_comparison(std::string_view utf8);

// The full rules without the printable-ASCII shortcut, for the tests that hold both equal.
namespace detail {
std::optional<std::string> username_case_mapped_full(std::string_view utf8);
std::optional<std::string> opaque_string_full(std::string_view utf8);
}  // namespace detail

}  // namespace starling::xmpp::precis
