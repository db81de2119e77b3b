// Mediated invitations and their declines (XEP-0045 §7.8.2): an occupant asks the room to
// invite someone; the room sends the invitation from itself, naming the inviter and adding
// the password; an invitee's decline goes back the same way. (Direct invitations, XEP-0249,
// are messages between users: the router carries them like any other.)
#include "server/modules/muc/muc_module.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::muc {

using xmpp::StanzaErrorCondition;
using xmpp::StanzaKind;

namespace {

// One <invite/> or <decline/> as the room passes it on: from `from`, the reason kept.
xml::Element passed_on(const xmpp::Stanza& original, std::string_view what, const std::string& from) {
    xml::Element message{"message", std::string(ns::client)};
    if (!original.id().empty()) message.set_attribute("id", original.id());
    auto& x = message.add_child("x", std::string(user_ns));
    auto& element = x.add_child(std::string(what), std::string(user_ns));
    element.set_attribute("from", from);
    return message;
}

}  // namespace

void MucModule::invite(Room& room, const Stanza& stanza, const xml::Element& x) {
    Occupant* inviter = room.occupant_of(*stanza.from());
    if (!inviter) return refuse(stanza, StanzaErrorCondition::not_acceptable, "only occupants invite");
    // §9.5: in a members-only room the member list is the admins' to extend, unless the
    // owner lets occupants invite; elsewhere moderators may always invite.
    bool may_invite = room.config.members_only ? room.config.allow_invites || is_admin_or_owner(inviter->affiliation)
                                               : room.config.allow_invites || inviter->role == Role::moderator;
    if (!may_invite) return refuse(stanza, StanzaErrorCondition::forbidden, "you may not invite to this room");
    std::vector<std::pair<xmpp::Jid, xml::Element>> invitations;
    for (const auto& node : x.children()) {
        if (node.is_text() || !node.element->is("invite", user_ns)) continue;
        auto invitee = xmpp::Jid::parse(node.element->attribute("to"));
        if (!invitee) return refuse(stanza, StanzaErrorCondition::jid_malformed, "an invitation names no valid JID");
        xml::Element message = passed_on(stanza, "invite", stanza.from()->bare().str());
        xml::Element& x_out = *message.children().back().element;
        xml::Element& invite_out = *x_out.children().back().element;
        if (const xml::Element* reason = node.element->find_child("reason", user_ns)) invite_out.add_child(*reason);
        if (room.config.password_protected)
            x_out.add_child("password", std::string(user_ns)).add_text(room.config.secret);
        invitations.emplace_back(*invitee, std::move(message));
    }
    bool added = false;
    for (auto& [invitee, message] : invitations) {
        // §9.5: in a members-only room an invitation (from someone allowed to send it) makes
        // the invitee a member, so that it can enter; in an open room it does not.
        if (room.config.members_only && room.affiliation_of(invitee.bare()) == Affiliation::none) {
            room.affiliations[invitee.bare()] = Affiliation::member;
            added = true;
        }
        ctx_.send(Stanza{StanzaKind::message, std::move(message), room.jid.jid(), invitee});
    }
    if (added && room.config.persistent) persist(room);
}

void MucModule::decline(Room& room, const Stanza& stanza, const xml::Element& x) {
    const xml::Element* declined = x.find_child("decline", user_ns);
    auto inviter = xmpp::Jid::parse(declined->attribute("to"));
    if (!inviter) return refuse(stanza, StanzaErrorCondition::jid_malformed, "a decline names no valid JID");
    xml::Element message = passed_on(stanza, "decline", stanza.from()->bare().str());
    xml::Element& decline_out = *message.children().back().element->children().back().element;
    if (const xml::Element* reason = declined->find_child("reason", user_ns)) decline_out.add_child(*reason);
    ctx_.send(Stanza{StanzaKind::message, std::move(message), room.jid.jid(), *inviter});
}

}  // namespace starling::muc
