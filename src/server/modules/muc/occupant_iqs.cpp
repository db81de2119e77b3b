// Iqs to an occupant JID (XEP-0045 §17.4.3): forwarded to one of the occupant's sessions
// from the sender's occupant JID, so neither learns the other's real JID, and the answer
// carried back. XEP-0410: a ping to one's own occupant JID is answered by the room (the
// self-ping optimization), and a non-occupant's ping is not-acceptable.
#include <chrono>

#include "server/modules/muc/muc_module.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::muc {

using xmpp::StanzaErrorCondition;
using xmpp::StanzaKind;

namespace {
constexpr std::string_view ping_ns = "urn:xmpp:ping";
}

void MucModule::occupant_iq(Room& room, Stanza stanza) {
    Occupant* sender = room.occupant_of(*stanza.from());
    const xml::Element* payload = stanza.payload();
    if (!sender) {
        // XEP-0045 §6.6: a non-occupant's disco of an occupant is bad-request; anything else
        // (XEP-0410 §3.2: a ping) tells it with not-acceptable that it is not in the room.
        if (payload && (payload->xmlns() == ns::disco_info || payload->xmlns() == ns::disco_items))
            return refuse(stanza, StanzaErrorCondition::bad_request, "only occupants query occupants");
        return refuse(stanza, StanzaErrorCondition::not_acceptable, "you are not in the room", "cancel");
    }
    Occupant* target = room.occupant(stanza.to()->resource());
    if (!target) return refuse(stanza, StanzaErrorCondition::item_not_found, "no such occupant");
    if (target == sender && payload && payload->is("ping", ping_ns)) {
        ctx_.send(stanza.iq_result());  // XEP-0410 §3.3: joined
        return;
    }
    xml::Element request = stanza.element();
    request.remove_attribute("id");  // query() gives it one whose reply finds this shard
    Stanza forwarded{StanzaKind::iq, std::move(request), room.occupant_jid(sender->nick), target->sessions.front()};
    ctx_.spawn(forward_iq(std::move(stanza), std::move(forwarded)));
}

Task<void> MucModule::forward_iq(Stanza original, Stanza forwarded) {
    Task<Stanza> asking = ctx_.query(std::move(forwarded), std::chrono::seconds{30});
    Stanza answer = co_await std::move(asking);
    // The answer as the occupant gave it (or the timeout's error), from its occupant JID, to
    // the asker, under the asker's id.
    xml::Element reply = answer.element();
    reply.set_attribute("id", original.id());
    // An error's 'by' names whoever made it (RFC 6120 §8.3.2): the occupant's real JID,
    // which the room keeps from the asker; the room is the one answering.
    for (auto& child : reply.children())
        if (!child.is_text() && child.element->is("error", ns::client)) child.element->remove_attribute("by");
    ctx_.send(Stanza{StanzaKind::iq, std::move(reply), *original.to(), *original.from()});
}

}  // namespace starling::muc
