// Presence to a room: entering (§7.2), leaving (§7.3), changing nick (§7.6) and updating
// one's presence in the room (§7.7). On the room's owner shard.
#include "base/log.hpp"
#include "server/modules/muc/muc_module.hpp"
#include "xmpp/datetime.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::muc {

using xmpp::StanzaErrorCondition;
using xmpp::StanzaKind;

namespace {

// What the room repeats of a presence: everything but the join request's <x xmlns='muc'/>
// and any <x xmlns='muc#user'/> the client wrote itself (§17.3: roles, affiliations, real
// JIDs and status codes are the room's to say; a client's own would be believed).
std::vector<xml::ElementPtr> presence_children(const xmpp::Stanza& stanza) {
    std::vector<xml::ElementPtr> out;
    for (const auto& child : stanza.element().children())
        if (!child.is_text() && !child.element->is("x", muc_ns) && !child.element->is("x", user_ns))
            out.push_back(child.element);
    return out;
}

}  // namespace

void MucModule::on_presence(Stanza stanza) {
    const xmpp::Jid& from = *stanza.from();
    const xmpp::Jid& to = *stanza.to();
    auto it = rooms_.find(to.bare());
    Room* room = it == rooms_.end() ? nullptr : &it->second;
    Occupant* occupant = room ? room->occupant_of(from) : nullptr;

    if (stanza.type() == "unavailable" || stanza.type() == "error") {
        // §7.14; an error from an occupant's client also ends its visit (it cannot receive).
        if (!occupant) return;
        if (stanza.type() == "unavailable") occupant->presence = presence_children(stanza);  // an exit message
        return leave(*room, *occupant, from);
    }
    if (!stanza.type().empty()) return;  // subscriptions and probes mean nothing to a room
    // §7.2.6: a nickname is the resource of the room JID; none is jid-malformed, and so is
    // one nobody could see (§17.1: only spaces).
    if (!to.has_resource()) return refuse(stanza, StanzaErrorCondition::jid_malformed, "a room nickname is required");
    if (!visible_nick(to.resource()))
        return refuse(stanza, StanzaErrorCondition::jid_malformed, "a room nickname cannot be only spaces");
    if (occupant) {
        if (occupant->nick != to.resource()) return change_nick(*room, *occupant, stanza);
        // §7.2.1, §17.3: a join (<x xmlns='muc'/>) from a session already inside is a client
        // that lost track: it gets the room again, as on entry; otherwise a presence update.
        if (stanza.element().find_child("x", muc_ns)) return resync(*room, *occupant, stanza);
        return update_presence(*room, *occupant, stanza);
    }
    if (!stanza.element().find_child("x", muc_ns)) {
        // §7.2.18: presence without <x xmlns='muc'/> from someone not in the room is a client
        // that lost track of it (or a groupchat 1.0 join): it is told it is not in the room.
        xml::Element out{"presence", std::string(ns::client)};
        out.set_attribute("type", "unavailable");
        auto& x = out.add_child("x", std::string(user_ns));
        auto& item = x.add_child("item", std::string(user_ns));
        item.set_attribute("affiliation", room ? to_string(room->affiliation_of(from.bare())) : "none");
        item.set_attribute("role", "none");
        item.add_child("reason", std::string(user_ns)).add_text("You are not in the room.");
        for (int code : {110, 307, 333}) x.add_child("status", std::string(user_ns)).set_attribute("code", std::to_string(code));
        ctx_.send(Stanza{StanzaKind::presence, std::move(out), to, from});
        return;
    }
    bool created = false;
    if (!room) {
        if (!may_create(from)) return refuse(stanza, StanzaErrorCondition::not_allowed, "you may not create rooms here");
        room = &rooms_.emplace(to.bare(), Room{to.bare()}).first->second;
        // §10.1.1: the creator is the owner; the room stays locked until configured.
        room->affiliations[from.bare()] = Affiliation::owner;
        created = true;
        log::info("muc: {} created room {}", from.str(), to.bare().str());
    } else if (room->locked && room->affiliation_of(from.bare()) != Affiliation::owner) {
        // §7.2.10: a locked room does not exist yet for anyone but its owner.
        return refuse(stanza, StanzaErrorCondition::item_not_found, "the room is locked until its owner configures it");
    }
    enter(*room, created, stanza);
}

void MucModule::enter(Room& room, bool created, const Stanza& stanza) {
    const xmpp::Jid& from = *stanza.from();
    std::string nick{stanza.to()->resource()};
    Occupant* same = room.occupant(nick);
    if (same && same->real != from.bare()) {
        // §7.2.9: the nick is someone else's.
        return refuse(stanza, StanzaErrorCondition::conflict, "that nickname is in use");
    }
    // §7.2.9, §7.12: a nick registered by someone else is theirs.
    if (const xmpp::BareJid* holder = room.reserved_by(nick); holder && *holder != from.bare())
        return refuse(stanza, StanzaErrorCondition::conflict, "that nickname is reserved for someone else");
    Affiliation affiliation = room.affiliation_of(from.bare());
    if (affiliation == Affiliation::outcast)
        return refuse(stanza, StanzaErrorCondition::forbidden, "you are banned from this room");  // §7.2.7
    if (room.config.members_only && rank(affiliation) < rank(Affiliation::member))  // §7.2.6
        return refuse(stanza, StanzaErrorCondition::registration_required, "only members may enter this room");
    if (room.config.password_protected) {
        // §7.2.5: the password in the join's <x xmlns='muc'/>; missing or wrong alike.
        const xml::Element* x = stanza.element().find_child("x", muc_ns);
        if (!x || x->child_text("password", muc_ns) != room.config.secret)
            return refuse(stanza, StanzaErrorCondition::not_authorized, "a password is required");
    }
    if (!same && !is_admin_or_owner(affiliation) && room.config.max_users > 0 && room.occupants.size() >= room.config.max_users)
        return refuse(stanza, StanzaErrorCondition::service_unavailable, "the room is full", "wait");  // §7.2.9

    bool joined_occupant = same != nullptr;  // a second session of an occupant (same nick)
    Occupant* me = same;
    if (!me) {
        Occupant occupant{nick, from.bare(), {}, affiliation, room.default_role(affiliation), presence_children(stanza)};
        me = &room.occupants.emplace(nick, std::move(occupant)).first->second;
    }
    me->sessions.push_back(from);
    xmpp::Jid my_jid = room.occupant_jid(nick);

    // §7.2.3: first every other occupant's presence, then the newcomer's own (110) last;
    // the others hear of the newcomer (not of a second session of an occupant).
    if (!joined_occupant && room.broadcasts(*me))
        for (const auto& [other_nick, other] : room.occupants)
            if (&other != me) send_to(other, my_jid, room.presence(*me, other, {}));
    std::vector<int> codes{110};
    if (created) codes.push_back(201);  // §10.1.1: a new room, locked
    if (room.config.non_anonymous) codes.push_back(100);  // §7.2.3: everyone sees real JIDs
    send_room_state(room, *me, stanza, std::move(codes));
}

void MucModule::send_room_state(const Room& room, const Occupant& me, const Stanza& join, std::vector<int> codes) {
    const xmpp::Jid& to = *join.from();
    for (const auto& [other_nick, other] : room.occupants) {
        if (&other == &me || !room.broadcasts(other)) continue;
        ctx_.send(Stanza{StanzaKind::presence, room.presence(other, me, {}), room.occupant_jid(other_nick), to});
    }
    xml::Element self = room.presence(me, me, std::move(codes));
    if (!join.id().empty()) self.set_attribute("id", join.id());  // §7.2.3: may reflect the id
    ctx_.send(Stanza{StanzaKind::presence, std::move(self), room.occupant_jid(me.nick), to});
    send_history(room, join);
    // §7.2.15: the subject last, also when there is none (an empty <subject/>).
    xml::Element subject{"message", std::string(ns::client)};
    subject.set_attribute("type", "groupchat");
    subject.add_child("subject", std::string(ns::client)).add_text(room.subject);
    if (room.subject_when) {
        // §7.2.15: stamped with when it was set, from the room itself.
        auto& delay = subject.add_child("delay", "urn:xmpp:delay");
        delay.set_attribute("from", room.jid.str()).set_attribute("stamp", xmpp::datetime(room.subject_when));
    }
    auto subject_from = room.subject_by.empty() ? room.jid.jid() : room.occupant_jid(room.subject_by);
    ctx_.send(Stanza{StanzaKind::message, std::move(subject), subject_from, to});
}

void MucModule::resync(Room& room, Occupant& occupant, const Stanza& stanza) {
    occupant.presence = presence_children(stanza);
    std::vector<int> codes{110};
    if (room.config.non_anonymous) codes.push_back(100);
    send_room_state(room, occupant, stanza, std::move(codes));
}

void MucModule::leave(Room& room, Occupant& occupant, const xmpp::Jid& session) {
    std::erase(occupant.sessions, session);
    xmpp::Jid occupant_jid = room.occupant_jid(occupant.nick);
    // The leaving session hears its own exit (110); the others only when the last of the
    // occupant's sessions goes.
    ctx_.send(Stanza{StanzaKind::presence, room.presence(occupant, occupant, {110}, true), occupant_jid, session});
    if (!occupant.sessions.empty()) return;
    bool seen = room.broadcasts(occupant);
    for (const auto& [nick, other] : room.occupants)
        if (&other != &occupant && seen) send_to(other, occupant_jid, room.presence(occupant, other, {}, true));
    xmpp::BareJid room_jid = room.jid;
    std::string nick = occupant.nick;  // not a reference into the node being erased
    room.occupants.erase(nick);
    destroy_if_empty(room_jid);
}

void MucModule::remove(Room& room, Occupant& occupant, int code, const Why& why) {
    // Each of its sessions hears that it is out (110) and why; the others once.
    xmpp::Jid occupant_jid = room.occupant_jid(occupant.nick);
    Occupant gone = occupant;
    gone.presence.clear();
    gone.role = Role::none;
    gone.affiliation = room.affiliation_of(occupant.real);
    send_to(occupant, occupant_jid, room.presence(gone, gone, {110, code}, true, {}, &why));
    std::string nick = occupant.nick;  // not a reference into the node being erased
    bool seen = room.broadcasts(occupant);
    room.occupants.erase(nick);
    for (const auto& [other_nick, other] : room.occupants)
        if (seen) send_to(other, occupant_jid, room.presence(gone, other, {code}, true, {}, &why));
    log::info("muc: {} ({}) removed from {} (status {})", nick, gone.real.str(), room.jid.str(), code);
}

void MucModule::change_nick(Room& room, Occupant& occupant, const Stanza& stanza) {
    std::string new_nick{stanza.to()->resource()};
    if (room.occupant(new_nick)) return refuse(stanza, StanzaErrorCondition::conflict, "that nickname is in use");
    if (const xmpp::BareJid* holder = room.reserved_by(new_nick); holder && *holder != occupant.real)
        return refuse(stanza, StanzaErrorCondition::conflict, "that nickname is reserved for someone else");  // §7.6.3
    // §7.6.3: unavailable from the old nick with 303 and the new nick, then available from
    // the new one; the changer's copies carry 110.
    xmpp::Jid old_jid = room.occupant_jid(occupant.nick), new_jid = room.occupant_jid(new_nick);
    Occupant moved = occupant;
    moved.nick = new_nick;
    moved.presence = presence_children(stanza);
    Occupant as_was = occupant;
    as_was.presence.clear();  // the unavailable half of a nick change carries no exit message
    bool seen = room.broadcasts(occupant);
    for (const auto& [nick, other] : room.occupants) {
        bool self = &other == &occupant;
        if (!self && !seen) continue;
        std::vector<int> gone{303};
        if (self) gone.push_back(110);
        send_to(other, old_jid, room.presence(as_was, self ? occupant : other, gone, true, new_nick));
    }
    std::string old_nick = occupant.nick;
    room.occupants.erase(old_nick);
    Occupant& renamed = room.occupants.emplace(new_nick, std::move(moved)).first->second;
    for (const auto& [nick, other] : room.occupants) {
        bool self = &other == &renamed;
        if (!self && !seen) continue;
        send_to(other, new_jid, room.presence(renamed, other, self ? std::vector<int>{110} : std::vector<int>{}));
    }
}

void MucModule::update_presence(Room& room, Occupant& occupant, const Stanza& stanza) {
    // §7.7: a new show or status is broadcast to every occupant.
    occupant.presence = presence_children(stanza);
    xmpp::Jid occupant_jid = room.occupant_jid(occupant.nick);
    bool seen = room.broadcasts(occupant);
    for (const auto& [nick, other] : room.occupants) {
        bool self = &other == &occupant;
        if (!self && !seen) continue;
        send_to(other, occupant_jid, room.presence(occupant, other, self ? std::vector<int>{110} : std::vector<int>{}));
    }
}

}  // namespace starling::muc
