// Iqs to a room: its disco (§6.4), and the owner's muc#owner requests: the instant room
// (§10.1.2), the configuration form (§10.1.3, §10.2) and destroying the room (§10.9). On the
// room's owner shard, exactly once (IqRequest).
#include "base/log.hpp"
#include "server/modules/muc/muc_module.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::muc {

using namespace server;
using xmpp::StanzaErrorCondition;

void MucModule::register_room_iqs() {
    service_.iq.on_get(ns::disco_info, "query", To::entity, [this](IqRequest& r) { room_disco_info(r); });
    service_.iq.on_get(ns::disco_items, "query", To::entity, [this](IqRequest& r) {
        // §6.5: the occupants' room JIDs go to those who see them anyway, the occupants;
        // others get the empty list the XEP advises by default.
        Room* room = room_for(r);
        if (!room) return;
        xml::Element query{"query", std::string(ns::disco_items)};
        if (room->occupant_of(r.from()))
            for (const auto& [nick, occupant] : room->occupants)
                query.add_child("item", std::string(ns::disco_items))
                    .set_attribute("jid", room->occupant_jid(nick).str())
                    .set_attribute("name", nick);
        r.reply(std::move(query));
    });
    service_.iq.on_set(owner_ns, "query", To::entity, [this](IqRequest& r) { owner_set(r); });
    service_.iq.on_get(owner_ns, "query", To::entity, [this](IqRequest& r) { owner_get(r); });
}

Room* MucModule::room_for(IqRequest& request) {
    // (Iqs to an occupant JID never come here: the router gives them to on_entity_stanza.)
    const xmpp::Jid& to = *request.stanza().to();
    if (loading_) {
        // The persistent rooms are being read at start-up (milliseconds): ask again.
        return request.error(xmpp::StanzaError{StanzaErrorCondition::resource_constraint, "the service is starting", "wait"}),
               nullptr;
    }
    auto it = rooms_.find(to.bare());
    // A locked room does not exist yet but for its owner (§10.1.1).
    if (it == rooms_.end() ||
        (it->second.locked && it->second.affiliation_of(request.from().bare()) != Affiliation::owner)) {
        request.error(StanzaErrorCondition::item_not_found);
        return nullptr;
    }
    return &it->second;
}

void MucModule::room_disco_info(IqRequest& request) {
    Room* room = room_for(request);
    if (!room) return;
    std::string_view node = request.payload().attribute("node");
    if (node == "x-roomuser-item") {
        // §7.12: the asker's reserved nick as the identity's name; an empty answer if none.
        xml::Element query{"query", std::string(ns::disco_info)};
        query.set_attribute("node", node);
        if (auto nick = room->reserved_nicks.find(request.from().bare()); nick != room->reserved_nicks.end()) {
            auto& identity = query.add_child("identity", std::string(ns::disco_info));
            identity.set_attribute("category", "conference").set_attribute("type", "text");
            identity.set_attribute("name", nick->second);
        }
        return request.reply(std::move(query));
    }
    if (!node.empty()) return request.error(StanzaErrorCondition::item_not_found);
    // §6.4: what the room is, as its configuration makes it, and the muc#roominfo form.
    const RoomConfig& c = room->config;
    xml::Element query{"query", std::string(ns::disco_info)};
    auto& identity = query.add_child("identity", std::string(ns::disco_info));
    identity.set_attribute("category", "conference").set_attribute("type", "text");
    identity.set_attribute("name", c.name.empty() ? room->jid.local() : std::string_view{c.name});
    for (std::string_view feature :
         {muc_ns, std::string_view{c.persistent ? "muc_persistent" : "muc_temporary"},
          std::string_view{c.public_room ? "muc_public" : "muc_hidden"}, std::string_view{c.members_only ? "muc_membersonly" : "muc_open"},
          std::string_view{c.moderated ? "muc_moderated" : "muc_unmoderated"}, std::string_view{c.non_anonymous ? "muc_nonanonymous" : "muc_semianonymous"},
          std::string_view{c.password_protected ? "muc_passwordprotected" : "muc_unsecured"},
          std::string_view{"http://jabber.org/protocol/muc#self-ping-optimization"},
          std::string_view{"http://jabber.org/protocol/muc#request"}, std::string_view{"jabber:iq:register"}})
        query.add_child("feature", std::string(ns::disco_info)).set_attribute("var", feature);
    auto& info = query.add_child("x", std::string(data_ns));
    info.set_attribute("type", "result");
    auto field = [&info](std::string_view var, std::string_view value) {
        auto& f = info.add_child("field", std::string(data_ns));
        f.set_attribute("var", var);
        f.add_child("value", std::string(data_ns)).add_text(value);
    };
    field("FORM_TYPE", "http://jabber.org/protocol/muc#roominfo");
    field("muc#roominfo_description", c.description);
    field("muc#roominfo_occupants", std::to_string(room->occupants.size()));
    field("muc#roomconfig_changesubject", c.change_subject ? "1" : "0");
    request.reply(std::move(query));
}

void MucModule::owner_set(IqRequest& request) {
    Room* room = room_for(request);
    if (!room) return;
    // §10.1.2, §10.2: only an owner configures.
    if (room->affiliation_of(request.from().bare()) != Affiliation::owner)
        return request.error(StanzaErrorCondition::forbidden, "only an owner may configure the room");
    if (const xml::Element* destroying = request.payload().find_child("destroy", owner_ns)) {
        request.reply();
        return destroy(*room, destroying);
    }
    const xml::Element* form = request.payload().find_child("x", data_ns);
    if (!form) return request.error(StanzaErrorCondition::bad_request, "a configuration form or <destroy/>");
    if (form->attribute("type") == "cancel") {
        // §10.1.3: cancelling the initial configuration destroys the room; later, nothing changes.
        if (room->locked) {
            request.reply();
            return destroy(*room);
        }
        return request.reply();
    }
    if (form->attribute("type") != "submit") return request.error(StanzaErrorCondition::bad_request, "a form of type submit");
    // §10.1.2: an empty form accepts the default configuration (an instant room).
    auto next = apply_form(room->config, *form);
    if (!next) return request.error(StanzaErrorCondition::not_acceptable, next.error());
    bool was_locked = room->locked;
    RoomConfig before = room->config;
    room->config = std::move(next).value();
    room->locked = false;
    // A shorter history takes effect at once (an owner who set 0 wants the past unsent).
    while (room->history.size() > room->config.history_length) room->history.pop_front();
    if (room->config.persistent || before.persistent) persist(*room);
    request.reply();
    if (!was_locked && before != room->config) announce_change(*room, before);
    if (room->config.members_only && !before.members_only) {
        // §10.2: the room turned members-only; whoever is not a member leaves (322).
        std::vector<std::string> outsiders;
        for (const auto& [nick, occupant] : room->occupants)
            if (rank(occupant.affiliation) < rank(Affiliation::member)) outsiders.push_back(nick);
        for (const auto& nick : outsiders) remove(*room, room->occupants.at(nick), 322, {});
    }
    xmpp::BareJid jid = room->jid;  // a temporary room nobody is in ends here (a reference would dangle)
    destroy_if_empty(jid);
}

void MucModule::owner_get(IqRequest& request) {
    Room* room = room_for(request);
    if (!room) return;
    if (room->affiliation_of(request.from().bare()) != Affiliation::owner)  // §10.2
        return request.error(StanzaErrorCondition::forbidden, "only an owner may configure the room");
    xml::Element query{"query", std::string(owner_ns)};
    query.add_child(config_form(room->config, room->jid.str()));
    request.reply(std::move(query));
}

void MucModule::announce_change(Room& room, const RoomConfig& before) {
    // §10.2.1: 172/173 when anonymity changed, 104 for anything else.
    std::vector<int> codes;
    if (before.non_anonymous != room.config.non_anonymous) codes.push_back(room.config.non_anonymous ? 172 : 173);
    RoomConfig rest = before;
    rest.non_anonymous = room.config.non_anonymous;
    if (rest != room.config) codes.push_back(104);
    xml::Element message{"message", std::string(ns::client)};
    message.set_attribute("type", "groupchat");
    auto& x = message.add_child("x", std::string(user_ns));
    for (int code : codes) x.add_child("status", std::string(user_ns)).set_attribute("code", std::to_string(code));
    for (const auto& [nick, occupant] : room.occupants) send_to(occupant, room.jid.jid(), message);
}

void MucModule::destroy(Room& room, const xml::Element* request) {
    // §10.9: one presence to each occupant, not a broadcast of everyone's exit; it carries
    // the owner's <destroy/> (alternate venue, password, reason) when there is one.
    for (const auto& [nick, occupant] : room.occupants) {
        Occupant gone = occupant;
        gone.presence.clear();
        gone.role = Role::none;
        gone.affiliation = Affiliation::none;
        xml::Element presence = room.presence(gone, gone, {110}, true);
        if (request) {
            xml::Element& x = *presence.children().back().element;  // the <x xmlns='muc#user'/> it ends with
            xml::Element& out = x.add_child("destroy", std::string(user_ns));
            if (auto venue = xmpp::BareJid::parse(request->attribute("jid"))) out.set_attribute("jid", venue->str());
            for (std::string_view child : {"reason", "password"})
                if (const xml::Element* e = request->find_child(child, owner_ns))
                    out.add_child(std::string(child), std::string(user_ns)).add_text(e->text());
        }
        send_to(occupant, room.occupant_jid(nick), presence);
    }
    xmpp::BareJid jid = room.jid;  // not a reference into the node being erased
    if (room.config.persistent) forget_stored(jid);
    log::info("muc: room {} destroyed by its owner", jid.str());
    rooms_.erase(jid);
}

}  // namespace starling::muc
