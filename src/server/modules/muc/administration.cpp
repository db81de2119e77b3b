// The muc#admin requests (XEP-0045 §8.2-8.5, §9, §10.3-10.8): roles changed by nick (kick,
// voice, moderator), affiliations changed by bare JID (ban, member, admin, owner), and the
// lists of both. A request is checked whole before any of it is applied (§9.2: a request
// with one forbidden change changes nothing). On the room's owner shard.
#include "base/log.hpp"
#include "server/modules/muc/muc_module.hpp"

namespace starling::muc {

using namespace server;
using xmpp::StanzaErrorCondition;

namespace {

struct Refusal {
    StanzaErrorCondition condition;
    std::string text;
};

struct RoleChange {
    std::string nick;
    Role role;
    std::string reason;
};

struct AffiliationChange {
    xmpp::BareJid jid;
    Affiliation affiliation;
    std::string reason;
    std::optional<std::string> nick;  // §9.5: the nick reserved with the change ("": none)
};

// Whether `actor` (its occupant, or null when it is not in the room) may give the occupant
// `target` the role `role`.
std::optional<Refusal> check_role(const Room& room, const Occupant* actor, Affiliation actor_affiliation,
                                  const Occupant& target, Role role) {
    // §8: roles are the moderators' business; moderator status itself the admins' (§9.6).
    if (!actor || actor->role != Role::moderator) return Refusal{StanzaErrorCondition::forbidden, "only moderators change roles"};
    bool actor_admin = is_admin_or_owner(actor_affiliation);
    Affiliation target_affiliation = target.affiliation;
    bool above = rank(target_affiliation) > rank(actor_affiliation);
    switch (role) {
        case Role::none:
            // §8.2: a moderator may refuse to kick itself; nobody kicks a higher affiliation.
            if (&target == actor) return Refusal{StanzaErrorCondition::conflict, "you cannot kick yourself"};
            if (above) return Refusal{StanzaErrorCondition::not_allowed, "you cannot kick someone of a higher affiliation"};
            return std::nullopt;
        case Role::visitor:
            // §8.4: never from an admin or owner, nor from a higher affiliation.
            if (is_admin_or_owner(target_affiliation) || above)
                return Refusal{StanzaErrorCondition::not_allowed, "you cannot revoke this occupant's voice"};
            if (target.role == Role::moderator && !actor_admin)
                return Refusal{StanzaErrorCondition::not_allowed, "only admins and owners revoke moderator status"};
            return std::nullopt;
        case Role::participant:
            if (target.role != Role::moderator) return std::nullopt;  // §8.3: granting voice
            // §9.7: revoking moderator status, from members and unaffiliated occupants only.
            if (!actor_admin) return Refusal{StanzaErrorCondition::forbidden, "only admins and owners revoke moderator status"};
            if (is_admin_or_owner(target_affiliation))
                return Refusal{StanzaErrorCondition::not_allowed, "an admin or owner is always a moderator"};
            return std::nullopt;
        case Role::moderator:
            if (!actor_admin) return Refusal{StanzaErrorCondition::forbidden, "only admins and owners grant moderator status"};
            return std::nullopt;
    }
    (void)room;
    return std::nullopt;
}

// Whether someone of `actor_affiliation` may change `target`'s affiliation from `current`
// to `next` (§9.1, §9.3-9.5, §10.3-10.8).
std::optional<Refusal> check_affiliation(Affiliation actor_affiliation, const xmpp::BareJid& actor,
                                         const xmpp::BareJid& target, Affiliation current, Affiliation next) {
    if (!is_admin_or_owner(actor_affiliation))
        return Refusal{StanzaErrorCondition::forbidden, "only admins and owners change affiliations"};
    if (next == Affiliation::outcast && target == actor)
        return Refusal{StanzaErrorCondition::conflict, "you cannot ban yourself"};  // §9.1
    if (actor_affiliation != Affiliation::owner) {
        // An admin neither touches an admin or owner (§9.1: not-allowed) nor makes one (§10.6).
        if (is_admin_or_owner(current))
            return Refusal{StanzaErrorCondition::not_allowed, "you cannot change the affiliation of an admin or owner"};
        if (is_admin_or_owner(next)) return Refusal{StanzaErrorCondition::forbidden, "only owners grant admin or owner status"};
    }
    return std::nullopt;
}

xml::Element list_item(const xmpp::BareJid& jid, Affiliation affiliation) {
    xml::Element item{"item", std::string(admin_ns)};
    item.set_attribute("affiliation", to_string(affiliation)).set_attribute("jid", jid.str());
    return item;
}

}  // namespace

void MucModule::register_admin_iqs() {
    service_.iq.on_set(admin_ns, "query", To::entity, [this](IqRequest& r) { admin_set(r); });
    service_.iq.on_get(admin_ns, "query", To::entity, [this](IqRequest& r) { admin_get(r); });
}

void MucModule::admin_set(IqRequest& request) {
    Room* room = room_for(request);
    if (!room) return;
    const xmpp::Jid& from = request.from();
    Affiliation actor_affiliation = room->affiliation_of(from.bare());
    const Occupant* actor = room->occupant_of(from);
    std::vector<RoleChange> roles;
    std::vector<AffiliationChange> affiliations;
    // The affiliations as the whole request leaves them, to check that an owner remains.
    std::map<xmpp::BareJid, Affiliation> after = room->affiliations;
    for (const auto& node : request.payload().children()) {
        if (node.is_text() || !node.element->is("item", admin_ns)) continue;
        const xml::Element& item = *node.element;
        std::string_view role_attr = item.attribute("role"), affiliation_attr = item.attribute("affiliation");
        std::string reason = item.child_text("reason", admin_ns);
        // §8.5, §9.2: an item changes a role (by nick) or an affiliation (by JID), never both.
        if (role_attr.empty() == affiliation_attr.empty())
            return request.error(StanzaErrorCondition::bad_request, "an item has either a role or an affiliation");
        std::optional<Refusal> refusal;
        if (!role_attr.empty()) {
            auto role = role_named(role_attr);
            if (!role) return request.error(StanzaErrorCondition::bad_request, "no such role");
            std::string nick{item.attribute("nick")};
            if (nick.empty()) return request.error(StanzaErrorCondition::bad_request, "a role change names a nick");
            const Occupant* target = room->occupant(nick);
            if (!target) return request.error(StanzaErrorCondition::item_not_found, "no occupant has that nick");
            refusal = check_role(*room, actor, actor_affiliation, *target, *role);
            roles.push_back({std::move(nick), *role, std::move(reason)});
        } else {
            auto affiliation = affiliation_named(affiliation_attr);
            if (!affiliation) return request.error(StanzaErrorCondition::bad_request, "no such affiliation");
            // §10.3: a full JID stands for its bare JID.
            auto jid = xmpp::Jid::parse(item.attribute("jid"));
            if (!jid) return request.error(StanzaErrorCondition::jid_malformed, "an affiliation change names a valid JID");
            xmpp::BareJid target = jid->bare();
            auto current = room->affiliations.find(target);
            Affiliation was = current == room->affiliations.end() ? Affiliation::none : current->second;
            refusal = check_affiliation(actor_affiliation, from.bare(), target, was, *affiliation);
            std::optional<std::string> nick;
            if (item.has_attribute("nick") && rank(*affiliation) >= rank(Affiliation::member)) {
                std::string_view asked = item.attribute("nick");
                auto occupant_jid = asked.empty() ? std::optional<xmpp::Jid>{} : room->jid.with_resource(asked);
                if (!asked.empty() && (!occupant_jid || !visible_nick(asked)))
                    return request.error(StanzaErrorCondition::jid_malformed, "that nickname is not valid");
                nick = occupant_jid ? std::string(occupant_jid->resource()) : std::string{};
                const xmpp::BareJid* holder = nick->empty() ? nullptr : room->reserved_by(*nick);
                if (holder && *holder != target)
                    return request.error(StanzaErrorCondition::conflict, "that nickname is reserved for someone else");
            }
            if (*affiliation == Affiliation::none) after.erase(target);
            else after[target] = *affiliation;
            affiliations.push_back({std::move(target), *affiliation, std::move(reason), std::move(nick)});
        }
        if (refusal) {
            // §8.2 Example 93, §9.1: XEP-0045 gives not-allowed the type cancel.
            std::string type = refusal->condition == StanzaErrorCondition::not_allowed ? "cancel" : "";
            return request.error(xmpp::StanzaError{refusal->condition, std::move(refusal->text), std::move(type)});
        }
    }
    if (roles.empty() && affiliations.empty()) return request.error(StanzaErrorCondition::bad_request, "no item to change");
    // §10.4: the last owner cannot leave the room without one.
    bool owner_remains = false;
    for (const auto& [jid, affiliation] : after) owner_remains |= affiliation == Affiliation::owner;
    if (!owner_remains) return request.error(StanzaErrorCondition::conflict, "a room keeps at least one owner");

    request.reply();
    Why why{actor ? actor->nick : std::string{}, {}};
    for (auto& change : roles) {
        why.reason = std::move(change.reason);
        if (Occupant* target = room->occupant(change.nick)) set_role(*room, *target, change.role, why);
    }
    for (auto& change : affiliations) {
        why.reason = std::move(change.reason);
        set_affiliation(*room, change.jid, change.affiliation, why);
        if (change.nick && change.nick->empty()) room->reserved_nicks.erase(change.jid);
        else if (change.nick) room->reserved_nicks[change.jid] = *change.nick;
        log::info("muc: {} made {} {} in {}", from.str(), change.jid.str(), to_string(change.affiliation), room->jid.str());
    }
    if (!affiliations.empty() && room->config.persistent) persist(*room);
    xmpp::BareJid room_jid = room->jid;  // not a reference into a room that may end here
    destroy_if_empty(room_jid);
}

void MucModule::set_role(Room& room, Occupant& target, Role role, const Why& why) {
    if (role == Role::none) return remove(room, target, 307, why);  // §8.2: kicked
    if (target.role == role) return;
    bool was_seen = room.broadcasts(target);
    target.role = role;
    broadcast_presence(room, target, &why, was_seen);
}

void MucModule::set_affiliation(Room& room, const xmpp::BareJid& jid, Affiliation affiliation, const Why& why) {
    if (affiliation == Affiliation::none) room.affiliations.erase(jid);
    else room.affiliations[jid] = affiliation;
    // §9.1: a ban frees the user's reserved nick; so does the end of its membership (§7.10:
    // only members and above have one).
    if (rank(affiliation) < rank(Affiliation::member)) room.reserved_nicks.erase(jid);
    // The occupants it concerns: the user's (any nick, any session), or a domain's users.
    std::vector<std::string> nicks;
    for (const auto& [nick, occupant] : room.occupants)
        if (occupant.real == jid || (!jid.has_local() && occupant.real.domain() == jid.domain())) nicks.push_back(nick);
    for (const auto& nick : nicks) {
        Occupant& occupant = room.occupants.at(nick);
        Affiliation now = room.affiliation_of(occupant.real);
        if (now == Affiliation::outcast) {
            remove(room, occupant, 301, why);  // §9.1: banned
        } else if (room.config.members_only && rank(now) < rank(Affiliation::member)) {
            remove(room, occupant, 321, why);  // §9.4: no longer a member of a members-only room
        } else if (now != occupant.affiliation) {
            // §10.6, §10.7: the role follows the affiliation; a member or unaffiliated occupant
            // keeps a role a moderator gave it (voice, moderator) unless it came from being admin.
            bool was_admin = is_admin_or_owner(occupant.affiliation);
            bool was_seen = room.broadcasts(occupant);
            Role fitting = room.default_role(now);
            occupant.affiliation = now;
            if (was_admin || is_admin_or_owner(now) || rank(fitting) > rank(occupant.role))
                occupant.role = fitting;
            broadcast_presence(room, occupant, &why, was_seen);
        }
    }
}

void MucModule::broadcast_presence(Room& room, const Occupant& occupant, const Why* why, bool was_seen) {
    xmpp::Jid occupant_jid = room.occupant_jid(occupant.nick);
    bool seen = room.broadcasts(occupant);
    for (const auto& [nick, other] : room.occupants) {
        bool self = &other == &occupant;
        std::vector<int> codes;
        if (self) codes.push_back(110);
        if (self || seen) {
            send_to(other, occupant_jid, room.presence(occupant, other, std::move(codes), false, {}, why));
        } else if (was_seen) {
            // §7.2.2: its new role is one whose presence the others do not get; to them, it left.
            Occupant hidden = occupant;
            hidden.presence.clear();
            send_to(other, occupant_jid, room.presence(hidden, other, {}, true, {}, why));
        }
    }
}

void MucModule::admin_get(IqRequest& request) {
    Room* room = room_for(request);
    if (!room) return;
    const xml::Element* asked = request.payload().find_child("item", admin_ns);
    if (!asked || asked->attribute("role").empty() == asked->attribute("affiliation").empty())
        return request.error(StanzaErrorCondition::bad_request, "ask for one role or one affiliation");
    const xmpp::Jid& from = request.from();
    Affiliation mine = room->affiliation_of(from.bare());
    const Occupant* me = room->occupant_of(from);
    xml::Element query{"query", std::string(admin_ns)};
    if (!asked->attribute("role").empty()) {
        // §8.5, §9.8: moderators see who has which role.
        auto role = role_named(asked->attribute("role"));
        if (!role || *role == Role::none) return request.error(StanzaErrorCondition::bad_request, "no such role list");
        if (!me || me->role != Role::moderator)
            return request.error(StanzaErrorCondition::forbidden, "only moderators see the role lists");
        for (const auto& [nick, occupant] : room->occupants) {
            if (occupant.role != *role) continue;
            auto& item = query.add_child("item", std::string(admin_ns));
            item.set_attribute("nick", nick).set_attribute("role", to_string(occupant.role));
            item.set_attribute("affiliation", to_string(occupant.affiliation));
            item.set_attribute("jid", occupant.sessions.front().str());
        }
        return request.reply(std::move(query));
    }
    auto affiliation = affiliation_named(asked->attribute("affiliation"));
    if (!affiliation || *affiliation == Affiliation::none)
        return request.error(StanzaErrorCondition::bad_request, "no such affiliation list");
    // §9.2, §9.5: admins see the ban and member lists (members too, the member list of a
    // non-anonymous room); §10.5, §10.8: owners see the owner and admin lists (admins too
    // in a non-anonymous room, where real JIDs are no secret).
    bool allowed = false;
    switch (*affiliation) {
        case Affiliation::outcast: allowed = is_admin_or_owner(mine); break;
        case Affiliation::member:
            allowed = is_admin_or_owner(mine) || (room->config.non_anonymous && mine == Affiliation::member);
            break;
        case Affiliation::admin:
        case Affiliation::owner:
            allowed = mine == Affiliation::owner || (room->config.non_anonymous && mine == Affiliation::admin);
            break;
        case Affiliation::none: break;
    }
    if (!allowed) return request.error(StanzaErrorCondition::forbidden, "you may not see that list");
    for (const auto& [jid, a] : room->affiliations) {
        if (a != *affiliation) continue;
        xml::Element item = list_item(jid, a);
        if (auto nick = room->reserved_nicks.find(jid); nick != room->reserved_nicks.end())
            item.set_attribute("nick", nick->second);
        for (const auto& [nick, occupant] : room->occupants)
            if (occupant.real == jid) {
                item.set_attribute("nick", nick).set_attribute("role", to_string(occupant.role));
                break;
            }
        query.add_child(std::move(item));
    }
    request.reply(std::move(query));
}

}  // namespace starling::muc
