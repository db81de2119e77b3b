// The MUC service: conference.<domain>, its disco (§6.1-6.3), who may create rooms, and the
// dispatch of stanzas to rooms on their owner shard.
#include "server/modules/muc/muc_module.hpp"

#include "base/log.hpp"
#include "server/config/options.hpp"
#include "server/module/service_disco.hpp"
#include "server/modules/muc/room_store.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::muc {

using namespace server;
using xmpp::StanzaErrorCondition;
using xmpp::StanzaKind;

MucModule::MucModule(ModuleContext& ctx, const Options& options)
    : ctx_{ctx},
      options_{options},
      service_{ctx.add_service(options.subdomain, "Chatrooms")},
      stored_rooms_{ctx.key_value(room_store_name)},
      archive_{ctx.archive("muc")} {
    // §6.1: the service's identity and feature. Its disco#items (§6.3) list the rooms anyone
    // may find, gathered from every shard.
    service_.disco.add_identity({"conference", "text", "Chatrooms"});
    service_.disco.add_feature(muc_ns);
    service_.disco.add_feature(ns::disco_info);
    service_.disco.add_feature(ns::disco_items);
    service_.iq.on_get(ns::disco_info, "query", To::host, [this](IqRequest& request) {
        if (!request.payload().attribute("node").empty()) return request.error(StanzaErrorCondition::item_not_found);
        request.reply(disco_info_query(service_.disco));
    });
    service_.iq.on_get(ns::disco_items, "query", To::host, [this](IqRequest& request) -> Task<void> {
        if (!request.payload().attribute("node").empty())
            co_return request.error(StanzaErrorCondition::item_not_found);
        auto list = [](MucModule& m) { return m.public_rooms(); };
        Task<std::vector<std::vector<std::pair<std::string, std::string>>>> gather = ctx_.on_every_shard<MucModule>(list);
        auto per_shard = co_await std::move(gather);
        std::map<std::string, std::string> rooms;
        for (auto& shard : per_shard) rooms.insert(shard.begin(), shard.end());
        xml::Element query{"query", std::string(ns::disco_items)};
        for (const auto& [jid, name] : rooms) {
            auto& item = query.add_child("item", std::string(ns::disco_items));
            item.set_attribute("jid", jid);
            if (!name.empty()) item.set_attribute("name", name);
        }
        request.reply(std::move(query));
    });
    register_room_iqs();
    register_admin_iqs();
    register_registration_iqs();
    service_.on_entity_stanza = [this](Stanza s) { to_room(std::move(s)); };
    ctx.spawn(load_rooms());  // before the first stanza: they wait in waiting_ meanwhile
    // Message and presence to the service's own domain: nothing to do (§6 knows none).
    service_.on_domain_stanza = [this](Stanza s) {
        if (s.kind() == StanzaKind::message) refuse(s, StanzaErrorCondition::service_unavailable);
    };
}

std::vector<std::pair<std::string, std::string>> MucModule::public_rooms() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [jid, room] : rooms_)
        if (!room.locked && room.config.public_room)
            out.emplace_back(jid.str(), room.config.name.empty() ? std::string(jid.local()) : room.config.name);
    return out;
}

bool MucModule::may_create(const xmpp::Jid& who) const {
    if (options_.room_creation == "anyone") return true;
    if (options_.room_creation == "admins") return ctx_.is_admin(who.bare());
    return who.domain() == ctx_.domain().domain();  // "local": this server's accounts
}

void MucModule::refuse(const Stanza& stanza, StanzaErrorCondition condition, std::string text, std::string type) {
    xmpp::StanzaError error{condition, std::move(text), std::move(type)};
    error.by = stanza.to() ? stanza.to()->bare().str() : service_.domain.str();
    ctx_.send(stanza.error_reply(error));
}

void MucModule::send_to(const Occupant& to, const xmpp::Jid& from, const xml::Element& element) {
    auto kind = element.name() == "presence" ? StanzaKind::presence : StanzaKind::message;
    for (const auto& session : to.sessions) ctx_.send(Stanza{kind, element, from, session});
}

Task<void> MucModule::load_rooms() {
    // (Named tasks and arguments before each co_await: g++ 12, see net/call_on.hpp.)
    Task<std::vector<std::string>> listing = stored_rooms_.owners(service_.domain.str());
    std::vector<std::string> names = co_await std::move(listing);
    std::size_t loaded = 0;
    for (const auto& name : names) {
        auto jid = xmpp::BareJid::parse(name + "@" + service_.domain.str());
        if (!jid || ctx_.owner_of(*jid) != ctx_.shard()) continue;  // another shard's room
        server::stores::Owner owner{service_.domain.str(), name};
        Task<std::optional<std::string>> reading = stored_rooms_.get(std::move(owner));
        std::optional<std::string> text = co_await std::move(reading);
        auto room = text ? from_document(*jid, *text) : std::nullopt;
        if (!room) {
            log::warn("muc: the stored room {} is unreadable; it is left in the store as it is", jid->str());
            continue;
        }
        bool keeps_history = room->config.history_length > 0;
        rooms_.emplace(*jid, std::move(*room));
        if (keeps_history) {
            Task<void> history = load_history(*jid);
            co_await std::move(history);
        }
        ++loaded;
    }
    if (loaded) log::info("muc: {} persistent room(s) of {} loaded on shard {}", loaded, service_.domain.str(), ctx_.shard());
    loading_ = false;
    auto waiting = std::move(waiting_);
    waiting_ = {};
    for (auto& stanza : waiting) to_room(std::move(stanza));
}

void MucModule::persist(const Room& room) {
    if (!room.config.persistent) return forget_stored(room.jid);
    ctx_.spawn(stored_rooms_.set({service_.domain.str(), std::string(room.jid.local())}, to_document(room)));
}

void MucModule::forget_stored(const xmpp::BareJid& room) {
    ctx_.spawn(stored_rooms_.remove({service_.domain.str(), std::string(room.local())}));
    ctx_.spawn(archive_.clear({service_.domain.str(), std::string(room.local())}));
}

void MucModule::to_room(Stanza stanza) {
    if (loading_) {
        waiting_.push_back(std::move(stanza));
        return;
    }
    if (stanza.is_error() && stanza.kind() != StanzaKind::presence) return ghost_check(stanza);
    if (!stanza.from()) return;
    switch (stanza.kind()) {
        case StanzaKind::presence: return on_presence(std::move(stanza));
        case StanzaKind::message: {
            auto room = rooms_.find(stanza.to()->bare());
            // A locked room does not exist yet but for its owner (§10.1.1).
            if (room == rooms_.end() ||
                (room->second.locked && room->second.affiliation_of(stanza.from()->bare()) != Affiliation::owner))
                return refuse(stanza, StanzaErrorCondition::item_not_found, "no such room");
            return on_message(room->second, std::move(stanza));
        }
        case StanzaKind::iq: {
            if (!stanza.is_iq_request()) return;  // answers to our forwarded iqs went to query()
            auto room = rooms_.find(stanza.to()->bare());
            bool visible = room != rooms_.end() &&
                           (!room->second.locked || room->second.affiliation_of(stanza.from()->bare()) == Affiliation::owner);
            if (!visible) {
                // XEP-0410 §3.3: a self-ping to a room that is gone tells the client it is not
                // joined (item-not-found would mean "joined, nick changed").
                const xml::Element* payload = stanza.payload();
                if (stanza.to()->has_resource() && payload && payload->is("ping", "urn:xmpp:ping"))
                    return refuse(stanza, StanzaErrorCondition::not_acceptable, "you are not in the room", "cancel");
                return refuse(stanza, StanzaErrorCondition::item_not_found, "no such room");
            }
            // To an occupant; to the room itself, a request none of its handlers took.
            if (stanza.to()->has_resource()) return occupant_iq(room->second, std::move(stanza));
            return refuse(stanza, StanzaErrorCondition::service_unavailable);
        }
    }
}

void MucModule::ghost_check(const Stanza& error) {
    // §18.1.2: an error saying a stanza the room sent could not be delivered means the
    // occupant's session is gone: it leaves as if it had sent unavailable presence.
    const xml::Element* e = error.element().find_child("error", ns::client);
    const xml::Element* condition = nullptr;
    for (std::string_view name : {"gone", "item-not-found", "recipient-unavailable", "redirect", "remote-server-not-found",
                                  "remote-server-timeout"})
        if (e && (condition = e->find_child(name, ns::stanza_errors))) break;
    if (!condition || !error.from() || !error.to()) return;
    auto room = rooms_.find(error.to()->bare());
    if (room == rooms_.end()) return;
    if (Occupant* occupant = room->second.occupant_of(*error.from())) {
        log::info("muc: {} in {} is gone ({}); it leaves the room", error.from()->str(), room->first.str(),
                  condition->name());
        leave(room->second, *occupant, *error.from());
    }
}

void MucModule::destroy_if_empty(const xmpp::BareJid& room) {
    auto it = rooms_.find(room);
    if (it == rooms_.end() || !it->second.occupants.empty() || it->second.config.persistent) return;
    // A temporary room ends with its last occupant.
    log::info("muc: room {} destroyed (empty)", room.str());
    rooms_.erase(it);
}

const config::ModuleOptionsOf<Options> options{
    config::OptionSet<Options>{}
        .add("subdomain", &Options::subdomain, "The service's address is <subdomain>.<domain>")
        .add("room_creation", &Options::room_creation,
             "Who may create rooms: \"anyone\", \"local\" (accounts of this domain) or \"admins\"",
             std::function([](const std::string& s) -> std::string {
                 return s == "anyone" || s == "local" || s == "admins" ? "" : "must be anyone, local or admins";
             }))
        .add("kept_per_room", &Options::kept_per_room,
             "Messages a persistent room keeps in its archive (the history sent on entry comes from them)")};

extern const ModuleInfo info{
    .name = "muc",
    .description = "Multi-User Chat at conference.<domain>",
    .xeps = {{45, "1.35.5", "Multi-User Chat (rooms, occupants, groupchat, private messages, subject, history, invitations, roles and affiliations, members-only and moderated rooms)"},
              {410, "1.1.0", "MUC Self-Ping (the room answers an occupant's ping to itself)"}},
    .enabled_by_default = true,  // as ejabberd's default configuration; Prosody's needs a Component line
    .options = &options,
    .create = create_module_with_options<MucModule, Options>,
};

}  // namespace starling::muc
