// Iqs to a room: its disco (§6.4), and the owner's muc#owner requests, of which this slice
// knows the instant room (§10.1.2). On the room's owner shard, exactly once (IqRequest).
#include "server/modules/muc/muc_module.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::muc {

using namespace server;
using xmpp::StanzaErrorCondition;

namespace {
constexpr std::string_view data_ns = "jabber:x:data";
}

void MucModule::register_room_iqs() {
    service_.iq.on_get(ns::disco_info, "query", To::entity, [this](IqRequest& r) { room_disco_info(r); });
    service_.iq.on_get(ns::disco_items, "query", To::entity, [this](IqRequest& r) {
        // §6.5: the occupants need not be listed (and in a semi-anonymous room are not).
        if (room_for(r)) r.reply(xml::Element{"query", std::string(ns::disco_items)});
    });
    service_.iq.on_set(owner_ns, "query", To::entity, [this](IqRequest& r) { owner_set(r); });
    service_.iq.on_get(owner_ns, "query", To::entity, [this](IqRequest& r) { owner_get(r); });
}

Room* MucModule::room_for(IqRequest& request) {
    const xmpp::Jid& to = *request.stanza().to();
    // Iqs to an occupant (room@service/nick) are not answered by the room in this slice.
    if (to.has_resource()) {
        request.error(StanzaErrorCondition::service_unavailable);
        return nullptr;
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
    if (!request.payload().attribute("node").empty()) return request.error(StanzaErrorCondition::item_not_found);
    // §6.4: what the room is, as its (default) configuration makes it.
    xml::Element query{"query", std::string(ns::disco_info)};
    auto& identity = query.add_child("identity", std::string(ns::disco_info));
    identity.set_attribute("category", "conference").set_attribute("type", "text");
    identity.set_attribute("name", room->jid.local());
    for (std::string_view feature : {muc_ns, std::string_view{"muc_temporary"}, std::string_view{"muc_public"},
                                     std::string_view{"muc_open"}, std::string_view{"muc_unmoderated"},
                                     std::string_view{"muc_semianonymous"}, std::string_view{"muc_unsecured"}})
        query.add_child("feature", std::string(ns::disco_info)).set_attribute("var", feature);
    request.reply(std::move(query));
}

void MucModule::owner_set(IqRequest& request) {
    Room* room = room_for(request);
    if (!room) return;
    // §10.1.2: only the owner configures.
    if (room->affiliation_of(request.from().bare()) != Affiliation::owner)
        return request.error(StanzaErrorCondition::forbidden, "only an owner may configure the room");
    const xml::Element* form = request.payload().find_child("x", data_ns);
    if (form && form->attribute("type") == "submit" && form->child_element_count() == 0) {
        // The instant room: the default configuration, accepted as it is.
        room->locked = false;
        return request.reply();
    }
    request.error(StanzaErrorCondition::feature_not_implemented,
                  "room configuration is not built yet: accept the instant room (an empty submitted form)");
}

void MucModule::owner_get(IqRequest& request) {
    Room* room = room_for(request);
    if (!room) return;
    if (room->affiliation_of(request.from().bare()) != Affiliation::owner)  // §10.2
        return request.error(StanzaErrorCondition::forbidden, "only an owner may configure the room");
    request.error(StanzaErrorCondition::feature_not_implemented,
                  "the configuration form is not built yet: accept the instant room (an empty submitted form)");
}

}  // namespace starling::muc
