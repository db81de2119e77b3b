#pragma once
// Service: a domain a module serves beside the host's own, such as conference.<domain> or
// pubsub.<domain>, with the entities in it (rooms, nodes, bots: JIDs of the form
// name@service[/resource]). The router sends it:
//   - iq get/set to the service's bare domain: dispatched through its own IqTable (To::host
//     there means the service itself), on the shard where they arrive;
//   - iq get/set to an entity's bare JID: through the same IqTable as To::entity, on the
//     entity's owner shard, answered exactly once (IqRequest); a request no handler takes,
//     and every request to name@service/resource (an occupant, to be forwarded), goes to
//     `on_entity_stanza` like any other stanza;
//   - message and presence to the bare domain: to `on_domain_stanza`, on that shard;
//   - every stanza to an entity, bare or full JID: to `on_entity_stanza`, on the shard that
//     owns the entity's bare JID (a hash of it), so one module instance sees all of an
//     entity's traffic in order and keeps its state without locks.
// A module makes one per shard (ModuleContext::add_service); all shards' copies serve the
// same domain. Owned by the module's context, on its shard.
#include <functional>
#include <string>

#include "server/module/disco_registry.hpp"
#include "server/module/iq_table.hpp"
#include "xmpp/jid.hpp"
#include "xmpp/stanza.hpp"

namespace starling::server {

struct Service {
    Service(xmpp::Jid domain, std::string name) : domain{std::move(domain)}, name{std::move(name)} {}
    xmpp::Jid domain;
    std::string name;  // for disco#items of the host, e.g. "Chatrooms"
    IqTable iq;
    DiscoRegistry disco;
    // Unset: such stanzas are answered service-unavailable (iq, message) or dropped (presence).
    std::function<void(xmpp::Stanza)> on_domain_stanza;
    std::function<void(xmpp::Stanza)> on_entity_stanza;
};

}  // namespace starling::server
