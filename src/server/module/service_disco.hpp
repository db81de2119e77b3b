#pragma once
// answer_disco: disco#info and disco#items (XEP-0030) for a service's own domain, answered
// from its DiscoRegistry: its identities and features, and its items. Nodes are refused with
// item-not-found (§3.1) until the service answers them itself. For the module that owns the
// service, on each shard, at start-up. The query builders serve the host's disco module too.
#include "server/module/disco_registry.hpp"
#include "xml/element.hpp"

namespace starling::server {

struct Service;
void answer_disco(Service& service);

// The <query/> of a disco#info result: the registry's identities and its features for `to`.
xml::Element disco_info_query(const DiscoRegistry& registry, To to = To::host);
// The <query/> of a disco#items result: the registry's items.
xml::Element disco_items_query(const DiscoRegistry& registry);

}  // namespace starling::server
