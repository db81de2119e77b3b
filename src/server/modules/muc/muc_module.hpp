#pragma once
// Multi-User Chat (XEP-0045) at conference.<domain>. One instance per (domain, shard); each
// room lives on the shard that owns its bare JID (Service::on_entity_stanza and the
// service's To::entity iqs run there), so a room's state needs no locks. The policies are
// one file each:
//   muc_module.cpp     the service, its disco, who may create rooms, dispatch to rooms
//   occupancy.cpp      entering, leaving, nick changes, presence updates (§7.2, §7.3, §7.6)
//   room_messages.cpp  groupchat, subject, private messages (§7.4, §7.5, §8.1)
//   room_owner.cpp     the owner's iqs on the room: instant room and configuration (§10.1,
//                      §10.2); room disco (§6.4)
//   room_config.cpp    the configuration and its form (muc#roomconfig)
//   room_store.cpp     what a persistent room keeps across restarts
//   history.cpp        messages kept for newcomers (§7.2.14) and in a persistent room's archive
//   occupant_iqs.cpp   iqs to an occupant, forwarded (§17.4); XEP-0410 self-ping
//   invitations.cpp    mediated invitations and declines (§7.8.2)
//   administration.cpp roles and affiliations changed and listed (muc#admin, §8-10)
//   registration.cpp   registering with a room, reserved nicks (§7.10, §7.12)
//   voice_requests.cpp a visitor asks for voice, a moderator approves (§7.13, §8.6)
#include <map>
#include <string>
#include <vector>

#include "server/module/module.hpp"
#include "server/modules/muc/room.hpp"
#include "xmpp/stanza.hpp"

namespace starling::muc {

struct Options {
    std::string subdomain = "conference";
    std::string room_creation = "local";  // anyone, local (accounts of this server), admins
    std::uint32_t kept_per_room = 1000;     // messages a persistent room keeps in its archive
};

class MucModule final : public server::Module {
public:
    MucModule(server::ModuleContext& ctx, const Options& options);

    // On this shard: the rooms it owns that anyone may find (unlocked), by bare JID.
    std::vector<std::pair<std::string, std::string>> public_rooms() const;

private:
    using Stanza = xmpp::Stanza;

    void to_room(Stanza stanza);  // every stanza to room@service[/nick], on the room's shard
    bool may_create(const xmpp::Jid& who) const;
    void destroy_if_empty(const xmpp::BareJid& room);
    void ghost_check(const Stanza& error);  // §18.1.2, for an error sent back to a room
    // Sends an error for `stanza` from the room (by='room@service').
    // `type`: when the spec names another than the condition's usual one.
    void refuse(const Stanza& stanza, xmpp::StanzaErrorCondition condition, std::string text = {},
                std::string type = {});
    // Sends `element` from `from` to every session of `to`.
    void send_to(const Occupant& to, const xmpp::Jid& from, const xml::Element& element);

    // occupancy.cpp
    void on_presence(Stanza stanza);
    void enter(Room& room, bool created, const Stanza& stanza);
    void leave(Room& room, Occupant& occupant, const xmpp::Jid& session);
    // The room puts `occupant` out (all its sessions) with status `code`: kicked (307),
    // banned (301), no longer a member (321), the room became members-only (322).
    void remove(Room& room, Occupant& occupant, int code, const Why& why);
    void change_nick(Room& room, Occupant& occupant, const Stanza& stanza);
    void update_presence(Room& room, Occupant& occupant, const Stanza& stanza);
    void resync(Room& room, Occupant& occupant, const Stanza& stanza);
    // To `join`'s sender: the other occupants, its own presence with `codes`, history, subject.
    void send_room_state(const Room& room, const Occupant& me, const Stanza& join, std::vector<int> codes);

    // room_messages.cpp
    void on_message(Room& room, Stanza stanza);
    void groupchat(Room& room, Occupant& sender, const Stanza& stanza);
    void change_subject(Room& room, Occupant& sender, const Stanza& stanza);
    void private_message(Room& room, Occupant& sender, const Stanza& stanza);

    // history.cpp
    void remember(Room& room, const Occupant& sender, const xml::Element& message);
    void send_history(const Room& room, const Stanza& join);
    Task<void> load_history(xmpp::BareJid room);

    // invitations.cpp
    void invite(Room& room, const Stanza& stanza, const xml::Element& x);
    void decline(Room& room, const Stanza& stanza, const xml::Element& x);

    // occupant_iqs.cpp
    void occupant_iq(Room& room, Stanza stanza);
    Task<void> forward_iq(Stanza original, Stanza forwarded);

    // administration.cpp
    void register_admin_iqs();
    void admin_set(server::IqRequest& request);
    void admin_get(server::IqRequest& request);
    void set_role(Room& room, Occupant& target, Role role, const Why& why);
    void set_affiliation(Room& room, const xmpp::BareJid& jid, Affiliation affiliation, const Why& why);
    // The occupant's presence as it is now, to everyone in the room (110 on its own copies).
    // `was_seen`: whether the others had its presence before (a role whose presence they get).
    void broadcast_presence(Room& room, const Occupant& occupant, const Why* why = nullptr, bool was_seen = true);

    // registration.cpp
    void register_registration_iqs();
    // Why `who` may not register with `room`, or nullopt if it may.
    std::optional<std::string> may_register(const Room& room, const xmpp::BareJid& who) const;
    void registration_get(server::IqRequest& request);
    void registration_set(server::IqRequest& request);

    // voice_requests.cpp
    // A muc#request form in a message to the room: a visitor's request or a moderator's answer.
    void voice_form(Room& room, const Stanza& stanza, const xml::Element& form);

    // room_owner.cpp
    void register_room_iqs();
    void room_disco_info(server::IqRequest& request);
    void owner_set(server::IqRequest& request);
    void owner_get(server::IqRequest& request);
    Room* room_for(server::IqRequest& request);
    void announce_change(Room& room, const RoomConfig& before);
    // §10.9: everyone out, with the reason and alternate venue of `request` (a <destroy/>)
    // if any; the room and what it stored are gone.
    void destroy(Room& room, const xml::Element* request = nullptr);

    // Persistence: the room as it is now, or its removal once it is no longer persistent.
    void persist(const Room& room);
    void forget_stored(const xmpp::BareJid& room);
    Task<void> load_rooms();

    server::ModuleContext& ctx_;
    Options options_;
    server::Service& service_;
    server::stores::KeyValue stored_rooms_;
    server::stores::Archive archive_;  // store "muc", owner (service domain, room): its messages
    std::map<xmpp::BareJid, Room> rooms_;  // the rooms this shard owns
    // Until this shard's persistent rooms are loaded, stanzas to rooms wait here, in order.
    bool loading_ = true;
    std::vector<Stanza> waiting_;
};

}  // namespace starling::muc
