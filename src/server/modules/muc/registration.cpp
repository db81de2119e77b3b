// Registering with a room (XEP-0045 §7.10, over XEP-0077's jabber:iq:register): an
// unaffiliated user of an open room becomes a member with a reserved nick; discovering
// one's reserved nick (§7.12, disco#info node x-roomuser-item). A members-only room's
// member list is its admins' to extend (§7.10 allows restricting registration), so there
// registration is not-allowed. On the room's owner shard.
#include "base/log.hpp"
#include "server/modules/muc/muc_module.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::muc {

using namespace server;
using xmpp::StanzaErrorCondition;

namespace {

constexpr std::string_view register_ns = "jabber:iq:register";
constexpr std::string_view register_form = "http://jabber.org/protocol/muc#register";

xml::Element registration_form(std::string_view room) {
    xml::Element form{"x", std::string(data_ns)};
    form.set_attribute("type", "form");
    form.add_child("title", std::string(data_ns)).add_text("Registration with " + std::string(room));
    auto field = [&form](std::string_view var, std::string_view type, std::string_view label) -> xml::Element& {
        auto& f = form.add_child("field", std::string(data_ns));
        f.set_attribute("var", var).set_attribute("type", type);
        if (!label.empty()) f.set_attribute("label", label);
        return f;
    };
    field("FORM_TYPE", "hidden", "").add_child("value", std::string(data_ns)).add_text(register_form);
    field("muc#register_roomnick", "text-single", "Nickname").add_child("required", std::string(data_ns));
    return form;
}

}  // namespace

void MucModule::register_registration_iqs() {
    service_.iq.on_get(register_ns, "query", To::entity, [this](IqRequest& r) { registration_get(r); });
    service_.iq.on_set(register_ns, "query", To::entity, [this](IqRequest& r) { registration_set(r); });
}

std::optional<std::string> MucModule::may_register(const Room& room, const xmpp::BareJid& who) const {
    Affiliation affiliation = room.affiliation_of(who);
    if (affiliation == Affiliation::outcast) return "you are banned from this room";
    if (room.config.members_only && affiliation == Affiliation::none)
        return "the admins of a members-only room decide who is a member";
    return std::nullopt;
}

void MucModule::registration_get(IqRequest& request) {
    Room* room = room_for(request);
    if (!room) return;
    xmpp::BareJid who = request.from().bare();
    xml::Element query{"query", std::string(register_ns)};
    if (auto nick = room->reserved_nicks.find(who); nick != room->reserved_nicks.end()) {
        // §7.10 Example 69: already registered, under this nick.
        query.add_child("registered", std::string(register_ns));
        query.add_child("username", std::string(register_ns)).add_text(nick->second);
        return request.reply(std::move(query));
    }
    if (auto why = may_register(*room, who))
        return request.error(xmpp::StanzaError{StanzaErrorCondition::not_allowed, std::move(*why), "cancel"});
    query.add_child("instructions", std::string(register_ns)).add_text("Choose the nickname kept for you in this room.");
    query.add_child(registration_form(room->jid.str()));
    request.reply(std::move(query));
}

void MucModule::registration_set(IqRequest& request) {
    Room* room = room_for(request);
    if (!room) return;
    xmpp::BareJid who = request.from().bare();
    if (request.payload().find_child("remove", register_ns)) {
        // XEP-0077 §3.2: cancelling the registration; an admin or owner stays one.
        if (room->reserved_nicks.erase(who) == 0 && room->affiliation_of(who) != Affiliation::member)
            return request.error(StanzaErrorCondition::item_not_found, "you are not registered with this room");
        request.reply();
        if (room->affiliation_of(who) == Affiliation::member) set_affiliation(*room, who, Affiliation::none, {});
        if (room->config.persistent) persist(*room);
        return;
    }
    if (auto why = may_register(*room, who))
        return request.error(xmpp::StanzaError{StanzaErrorCondition::not_allowed, std::move(*why), "cancel"});
    const xml::Element* form = request.payload().find_child("x", data_ns);
    std::optional<std::string> asked = form ? form_value(*form, "muc#register_roomnick") : std::nullopt;
    if (!form || form->attribute("type") != "submit" || !asked || asked->empty())
        return request.error(StanzaErrorCondition::bad_request, "a submitted form with muc#register_roomnick");
    auto jid = room->jid.with_resource(*asked);
    if (!jid) return request.error(StanzaErrorCondition::jid_malformed, "that nickname is not valid");
    std::string nick{jid->resource()};
    if (!visible_nick(nick)) return request.error(StanzaErrorCondition::jid_malformed, "a nickname cannot be only spaces");
    const xmpp::BareJid* holder = room->reserved_by(nick);
    const Occupant* occupant = room->occupant(nick);
    if ((holder && *holder != who) || (occupant && occupant->real != who))
        return request.error(StanzaErrorCondition::conflict, "that nickname is someone else's");  // §7.10 Example 72
    room->reserved_nicks[who] = nick;
    request.reply();
    // §7.10: the registrant becomes a member (an admin or owner keeps its affiliation).
    if (room->affiliation_of(who) == Affiliation::none) set_affiliation(*room, who, Affiliation::member, {});
    if (room->config.persistent) persist(*room);
    log::info("muc: {} registered with {} as {}", who.str(), room->jid.str(), nick);
}

}  // namespace starling::muc
