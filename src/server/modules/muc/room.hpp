#pragma once
// Room: one chat room's state (XEP-0045), kept on the shard that owns the room's bare JID:
// its occupants by nick, the affiliations of real bare JIDs, the subject and whether the room
// is still locked (§10.1.1). No locks: only that shard's module instance touches it.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/modules/muc/room_config.hpp"
#include "xml/element.hpp"
#include "xmpp/jid.hpp"

namespace starling::muc {

inline constexpr std::string_view muc_ns = "http://jabber.org/protocol/muc";
inline constexpr std::string_view user_ns = "http://jabber.org/protocol/muc#user";
inline constexpr std::string_view owner_ns = "http://jabber.org/protocol/muc#owner";
inline constexpr std::string_view admin_ns = "http://jabber.org/protocol/muc#admin";

// §5.2: long-lived, per real bare JID.
enum class Affiliation { owner, admin, member, none, outcast };
// §5.1: per visit.
enum class Role { moderator, participant, visitor, none };
std::string_view to_string(Affiliation affiliation);
std::string_view to_string(Role role);
std::optional<Affiliation> affiliation_named(std::string_view name);
std::optional<Role> role_named(std::string_view name);
// The hierarchy of §5.2.1: outcast < none < member < admin < owner.
int rank(Affiliation affiliation);
int rank(Role role);  // none < visitor < participant < moderator
inline bool is_admin_or_owner(Affiliation a) { return a == Affiliation::admin || a == Affiliation::owner; }

// §17.1: a nick of spaces only is invisible, so not allowed.
inline bool visible_nick(std::string_view nick) { return nick.find_first_not_of(' ') != std::string_view::npos; }

// Whether a data form is a voice request or its approval (muc#request, §7.13, §8.6).
bool is_voice_form(const xml::Element& form);

// Who did it and why, in the <item/> of a presence that reports a change (§8.2, §9.1).
struct Why {
    std::string actor;   // the nick of the occupant who did it; "" for none
    std::string reason;  // "" for none
};

// One occupant: a nick in the room, held by one real bare JID from one or more sessions
// (a user who enters from a second resource with the same nick shares the occupant).
struct Occupant {
    std::string nick;
    xmpp::BareJid real;
    std::vector<xmpp::Jid> sessions;  // real full JIDs, oldest first
    Affiliation affiliation = Affiliation::none;
    Role role = Role::participant;
    // The children of the occupant's last presence (show, status, priority, extensions) but
    // its <x xmlns='muc'/>, repeated in every presence the room sends for it.
    std::vector<xml::ElementPtr> presence;
};

// A groupchat message as the room broadcast it, kept for newcomers (§7.2.14).
struct HistoryEntry {
    std::int64_t when;     // microseconds since the epoch
    std::string nick;      // the sender's nick then
    xml::Element message;  // without 'from' and 'to'
};

struct Room {
    explicit Room(xmpp::BareJid jid) : jid{std::move(jid)} {}
    xmpp::BareJid jid;
    bool locked = true;          // until the owner configures it or accepts the instant room
    RoomConfig config;
    std::string subject;         // §8.1; "" when none was set
    std::string subject_by;      // the nick that set it
    std::int64_t subject_when = 0;  // when, in microseconds since the epoch; 0: never set
    std::map<std::string, Occupant> occupants;  // by nick
    std::map<xmpp::BareJid, Affiliation> affiliations;  // all but none
    // §7.10, §9.5: nicks registered by (or for) members, admins and owners; nobody else
    // enters with one of them.
    std::map<xmpp::BareJid, std::string> reserved_nicks;
    std::deque<HistoryEntry> history;  // oldest first, at most config.history_length

    // An entry for the bare JID itself, else one for its domain (§9.2: a ban of a domain
    // covers its users), else none.
    Affiliation affiliation_of(const xmpp::BareJid& real) const;
    // §5.1.2: the role an occupant with `affiliation` has on entry.
    Role default_role(Affiliation affiliation) const;
    // The occupant a real full JID is in the room as, or null.
    Occupant* occupant_of(const xmpp::Jid& session);
    Occupant* occupant(std::string_view nick);
    // The user a nick is reserved for, or null.
    const xmpp::BareJid* reserved_by(std::string_view nick) const;
    xmpp::Jid occupant_jid(std::string_view nick) const;
    // Semi-anonymous (the default, §4.2): real JIDs only to moderators; non-anonymous: to all.
    // §7.2.2: whether the others get `occupant`'s presence (muc#roomconfig_presencebroadcast).
    bool broadcasts(const Occupant& occupant) const {
        switch (occupant.role) {
            case Role::moderator: return config.broadcast_moderator;
            case Role::participant: return config.broadcast_participant;
            case Role::visitor: return config.broadcast_visitor;
            case Role::none: return false;
        }
        return false;
    }
    bool sees_real_jids(const Occupant& viewer) const {
        return config.non_anonymous || viewer.role == Role::moderator;
    }

    // The presence the room sends `to` (a session of `viewer`) for `subject`: its presence
    // children plus <x xmlns='muc#user'><item .../> and the status codes. `unavailable`: the
    // occupant left (role none). `why`: the actor and reason of a change made by someone else.
    xml::Element presence(const Occupant& subject, const Occupant& viewer, std::vector<int> codes,
                          bool unavailable = false, std::string_view new_nick = {}, const Why* why = nullptr) const;
};

}  // namespace starling::muc
