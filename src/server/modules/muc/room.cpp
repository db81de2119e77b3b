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

Affiliation Room::affiliation_of(const xmpp::BareJid& real) const {
    auto it = affiliations.find(real);
    return it == affiliations.end() ? Affiliation::none : it->second;
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

xmpp::Jid Room::occupant_jid(std::string_view nick) const {
    // The nick came in as a valid resourcepart, so this cannot fail.
    return *jid.with_resource(nick);
}

xml::Element Room::presence(const Occupant& subject, const Occupant& viewer, std::vector<int> codes,
                            bool unavailable, std::string_view new_nick) const {
    xml::Element p{"presence", "jabber:client"};
    if (unavailable) {
        p.set_attribute("type", "unavailable");
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
    std::sort(codes.begin(), codes.end());
    for (int code : codes) x.add_child("status", std::string(user_ns)).set_attribute("code", std::to_string(code));
    return p;
}

}  // namespace starling::muc
