// Messages in a room: groupchat to everyone (§7.4), the subject (§8.1) and private messages
// between occupants (§7.5). On the room's owner shard.
#include <chrono>

#include "server/modules/muc/muc_module.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::muc {

using xmpp::StanzaErrorCondition;

void MucModule::on_message(Room& room, Stanza stanza) {
    Occupant* sender = room.occupant_of(*stanza.from());
    if (!stanza.to()->has_resource()) {
        if (stanza.type() != "groupchat") {
            // §7.8.2: an invitation or a decline (type normal), for the room to pass on.
            const xml::Element* x = stanza.element().find_child("x", user_ns);
            if (x && x->find_child("invite", user_ns)) return invite(room, stanza, *x);
            if (x && x->find_child("decline", user_ns)) return decline(room, stanza, *x);
            const xml::Element* form = stanza.element().find_child("x", data_ns);
            if (form && is_voice_form(*form)) return voice_form(room, stanza, *form);
            return refuse(stanza, StanzaErrorCondition::bad_request,
                          "a message to the room is a groupchat message, an invitation, a decline or a voice request");
        }
        // §7.4: only occupants speak in the room.
        if (!sender) return refuse(stanza, StanzaErrorCondition::not_acceptable, "you are not in the room");
        const xml::Element& m = stanza.element();
        if (m.find_child("subject", ns::client) && !m.find_child("body", ns::client))
            return change_subject(room, *sender, stanza);
        return groupchat(room, *sender, stanza);
    }
    // §7.5: to one occupant.
    if (stanza.type() == "groupchat")
        return refuse(stanza, StanzaErrorCondition::bad_request, "a groupchat message goes to the room");
    if (!sender) return refuse(stanza, StanzaErrorCondition::not_acceptable, "you are not in the room");
    private_message(room, *sender, stanza);
}

void MucModule::groupchat(Room& room, Occupant& sender, const Stanza& stanza) {
    if (sender.role == Role::visitor)
        return refuse(stanza, StanzaErrorCondition::forbidden, "visitors may not speak here");  // §7.4
    // Everyone, the sender included (§7.4: the echo tells it the message went out), from the
    // sender's occupant JID; the rest of the message as sent.
    xml::Element message = stanza.element();
    message.remove_attribute("from");
    message.remove_attribute("to");
    message.remove_children("x", user_ns);  // status codes are the room's to send (§17.3)
    xmpp::Jid from = room.occupant_jid(sender.nick);
    for (const auto& [nick, occupant] : room.occupants) send_to(occupant, from, message);
    if (message.find_child("body", ns::client)) remember(room, sender, message);
}

void MucModule::change_subject(Room& room, Occupant& sender, const Stanza& stanza) {
    // §8.1: moderators only, unless muc#roomconfig_changesubject lets participants too.
    bool allowed = sender.role == Role::moderator || (room.config.change_subject && sender.role == Role::participant);
    if (!allowed)
        return refuse(stanza, StanzaErrorCondition::forbidden, "only moderators may change the subject");
    room.subject = stanza.element().child_text("subject", ns::client);
    room.subject_by = sender.nick;
    room.subject_when = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    if (room.config.persistent) persist(room);
    xml::Element message = stanza.element();
    message.remove_attribute("from");
    message.remove_attribute("to");
    xmpp::Jid from = room.occupant_jid(sender.nick);
    for (const auto& [nick, occupant] : room.occupants) send_to(occupant, from, message);
}

void MucModule::private_message(Room& room, Occupant& sender, const Stanza& stanza) {
    Occupant* target = room.occupant(stanza.to()->resource());
    if (!target) return refuse(stanza, StanzaErrorCondition::item_not_found, "no such occupant");
    // §7.5: from the sender's occupant JID, marked as coming through the room.
    xml::Element message = stanza.element();
    message.remove_attribute("from");
    message.remove_attribute("to");
    if (!message.find_child("x", user_ns)) message.add_child("x", std::string(user_ns));
    send_to(*target, room.occupant_jid(sender.nick), message);
}

}  // namespace starling::muc
