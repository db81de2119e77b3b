#include "server/modules/muc/room.hpp"

#include <algorithm>

namespace starling::muc {

std::string_view to_string(Affiliation affiliation) {
    switch (affiliation) {
        case Affiliation::owner: return "owner";
        case Affiliation::admin: return "admin";
        case Affiliation::member: return "member";
        case Affiliation::none: return "none";
        case Affiliation::outcast: return "outcast";
    }
    return "none";
}

std::string_view to_string(Role role) {
    switch (role) {
        case Role::moderator: return "moderator";
        case Role::participant: return "participant";
        case Role::visitor: return "visitor";
        case Role::none: return "none";
    }
    return "none";
}

std::optional<Affiliation> affiliation_named(std::string_view name) {
    for (Affiliation a : {Affiliation::owner, Affiliation::admin, Affiliation::member, Affiliation::none,
                          Affiliation::outcast})
        if (to_string(a) == name) return a;
    return std::nullopt;
}

std::optional<Role> role_named(std::string_view name) {
    for (Role r : {Role::moderator, Role::participant, Role::visitor, Role::none})
        if (to_string(r) == name) return r;
    return std::nullopt;
}

int rank(Affiliation affiliation) {
    switch (affiliation) {
        case Affiliation::outcast: return 0;
        case Affiliation::none: return 1;
        case Affiliation::member: return 2;
        case Affiliation::admin: return 3;
        case Affiliation::owner: return 4;
    }
    return 1;
}

int rank(Role role) {
    switch (role) {
        case Role::none: return 0;
        case Role::visitor: return 1;
        case Role::participant: return 2;
        case Role::moderator: return 3;
    }
    return 0;
}

Affiliation Room::affiliation_of(const xmpp::BareJid& real) const {
    if (auto it = affiliations.find(real); it != affiliations.end()) return it->second;
    if (!real.has_local()) return Affiliation::none;
    auto domain = xmpp::BareJid::parse(real.domain());
    if (!domain) return Affiliation::none;
    auto it = affiliations.find(*domain);
    return it == affiliations.end() ? Affiliation::none : it->second;
}

Role Room::default_role(Affiliation affiliation) const {
    switch (affiliation) {
        case Affiliation::owner:
        case Affiliation::admin: return Role::moderator;
        case Affiliation::member: return Role::participant;
        case Affiliation::none: return config.moderated ? Role::visitor : Role::participant;
        case Affiliation::outcast: return Role::none;
    }
    return Role::none;
}

Occupant* Room::occupant_of(const xmpp::Jid& session) {
    for (auto& [nick, occupant] : occupants)
        if (std::find(occupant.sessions.begin(), occupant.sessions.end(), session) != occupant.sessions.end())
            return &occupant;
    return nullptr;
}

Occupant* Room::occupant(std::string_view nick) {
    auto it = occupants.find(std::string(nick));
    return it == occupants.end() ? nullptr : &it->second;
}

const xmpp::BareJid* Room::reserved_by(std::string_view nick) const {
    for (const auto& [jid, reserved] : reserved_nicks)
        if (reserved == nick) return &jid;
    return nullptr;
}

xmpp::Jid Room::occupant_jid(std::string_view nick) const {
    // The nick came in as a valid resourcepart, so this cannot fail.
    return *jid.with_resource(nick);
}

xml::Element Room::presence(const Occupant& subject, const Occupant& viewer, std::vector<int> codes,
                            bool unavailable, std::string_view new_nick, const Why* why) const {
    xml::Element p{"presence", "jabber:client"};
    if (unavailable) {
        p.set_attribute("type", "unavailable");
        // §7.14: an exit message goes with the exit.
        for (const auto& child : subject.presence)
            if (child->is("status", "jabber:client")) p.add_child(child);
    } else {
        for (const auto& child : subject.presence) p.add_child(child);
    }
    auto& x = p.add_child("x", std::string(user_ns));
    auto& item = x.add_child("item", std::string(user_ns));
    item.set_attribute("affiliation", to_string(subject.affiliation));
    item.set_attribute("role", unavailable && new_nick.empty() ? "none" : to_string(subject.role));
    // §7.2.4 (semi-anonymous): real JIDs go to moderators only.
    if (sees_real_jids(viewer) && !subject.sessions.empty()) item.set_attribute("jid", subject.sessions.front().str());
    if (!new_nick.empty()) item.set_attribute("nick", new_nick);  // §7.6: 303 names the new nick
    if (why && !why->actor.empty()) item.add_child("actor", std::string(user_ns)).set_attribute("nick", why->actor);
    if (why && !why->reason.empty()) item.add_child("reason", std::string(user_ns)).add_text(why->reason);
    std::sort(codes.begin(), codes.end());
    for (int code : codes) x.add_child("status", std::string(user_ns)).set_attribute("code", std::to_string(code));
    return p;
}

}  // namespace starling::muc
