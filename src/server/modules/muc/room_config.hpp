#pragma once
// A room's configuration (XEP-0045 §10.1.3, §10.2, §15.5.3 muc#roomconfig): the form an owner
// gets and submits, and the values the room's policies read. Only fields whose effect the
// room implements are in the form; a submitted field this room does not know is ignored
// (XEP-0004 §3.4 lets a form carry more than its receiver uses).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "xml/element.hpp"
#include "xmpp/data_form.hpp"

namespace starling::muc {

using xmpp::data_ns;
inline constexpr std::string_view roomconfig_form = "http://jabber.org/protocol/muc#roomconfig";

struct RoomConfig {
    std::string name;         // muc#roomconfig_roomname; "" shows the room's localpart
    std::string description;  // muc#roomconfig_roomdesc
    bool persistent = false;  // muc#roomconfig_persistentroom: kept when the last occupant leaves
    bool public_room = true;  // muc#roomconfig_publicroom: listed in the service's disco#items
    bool password_protected = false;  // muc#roomconfig_passwordprotectedroom
    std::string secret;               // muc#roomconfig_roomsecret
    bool non_anonymous = false;       // muc#roomconfig_whois: "anyone" (else "moderators")
    std::uint32_t max_users = 0;      // muc#roomconfig_maxusers; 0: no limit
    bool change_subject = false;      // muc#roomconfig_changesubject: participants may too
    std::uint32_t history_length = 20;  // muc#roomconfig_historylength: messages sent on entry
    bool allow_invites = true;          // muc#roomconfig_allowinvites: participants may invite
    bool members_only = false;  // muc#roomconfig_membersonly: only members, admins, owners enter
    bool moderated = false;     // muc#roomconfig_moderatedroom: newcomers without affiliation are visitors
    // muc#roomconfig_presencebroadcast (§7.2.2): the roles whose presence the others get.
    bool broadcast_moderator = true, broadcast_participant = true, broadcast_visitor = true;

    bool operator==(const RoomConfig&) const = default;
};

// <x xmlns='jabber:x:data' type='form'> with the current values.
xml::Element config_form(const RoomConfig& config, std::string_view room);
// The configuration a submitted form makes of `current`; the error text says which field is
// wrong (the room answers not-acceptable).
Result<RoomConfig, std::string> apply_form(const RoomConfig& current, const xml::Element& submitted);

using xmpp::form_value;

// A compact text form of the configuration for the store, and back (nullopt: unreadable).
std::string serialize(const RoomConfig& config);
std::optional<RoomConfig> deserialize(std::string_view text);

}  // namespace starling::muc
