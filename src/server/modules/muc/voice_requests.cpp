// Voice requests in a moderated room (XEP-0045 §7.13, §8.6): a visitor sends the room a
// muc#request form; the room passes it to each moderator as an approval form; a moderator
// who submits it with muc#request_allow true gives the visitor voice. On the room's owner
// shard.
#include "server/modules/muc/muc_module.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::muc {

using xmpp::StanzaErrorCondition;
using xmpp::StanzaKind;

namespace {

constexpr std::string_view request_form = "http://jabber.org/protocol/muc#request";

// §8.6 Example 108: the form a moderator gets for `visitor`'s request.
xml::Element approval_form(const Occupant& visitor) {
    xml::Element message{"message", std::string(ns::client)};
    auto& form = message.add_child("x", std::string(data_ns));
    form.set_attribute("type", "form");
    form.add_child("title", std::string(data_ns)).add_text("Voice request");
    form.add_child("instructions", std::string(data_ns))
        .add_text("To give " + visitor.nick + " voice, set \"Grant voice to this person?\" and submit the form.");
    xmpp::add_form_field(form, "FORM_TYPE", "hidden", "", request_form);
    xmpp::add_form_field(form, "muc#role", "list-single", "Requested role", "participant");
    xmpp::add_form_field(form, "muc#jid", "jid-single", "User ID", visitor.sessions.front().str());
    xmpp::add_form_field(form, "muc#roomnick", "text-single", "Room Nickname", visitor.nick);
    xmpp::add_form_field(form, "muc#request_allow", "boolean", "Grant voice to this person?", "false");
    return message;
}

}  // namespace

bool is_voice_form(const xml::Element& form) { return form_value(form, "FORM_TYPE") == request_form; }

void MucModule::voice_form(Room& room, const Stanza& stanza, const xml::Element& form) {
    Occupant* sender = room.occupant_of(*stanza.from());
    if (!sender) return refuse(stanza, StanzaErrorCondition::not_acceptable, "you are not in the room");
    if (form.attribute("type") != "submit") return refuse(stanza, StanzaErrorCondition::bad_request, "a submitted form");
    std::optional<std::string> allow = form_value(form, "muc#request_allow");
    if (!allow) {
        // §7.13: a request. Only a visitor lacks voice; the others already have it.
        if (form_value(form, "muc#role") != "participant")
            return refuse(stanza, StanzaErrorCondition::bad_request, "voice is a request for the role participant");
        if (sender->role != Role::visitor) return;
        xml::Element message = approval_form(*sender);
        for (const auto& [nick, occupant] : room.occupants)
            if (occupant.role == Role::moderator) send_to(occupant, room.jid.jid(), message);
        return;
    }
    // §8.6: a moderator's answer.
    if (sender->role != Role::moderator)
        return refuse(stanza, StanzaErrorCondition::forbidden, "only moderators answer voice requests");
    if (*allow != "true" && *allow != "1") return;
    Occupant* visitor = room.occupant(form_value(form, "muc#roomnick").value_or(""));
    if (!visitor) return refuse(stanza, StanzaErrorCondition::item_not_found, "no occupant has that nick");
    if (visitor->role == Role::visitor) set_role(room, *visitor, Role::participant, Why{sender->nick, {}});
}

}  // namespace starling::muc
