#pragma once
// answer_disco: disco#info and disco#items (XEP-0030) for a service's own domain, answered
// from its DiscoRegistry: its identities and features, and its items. Nodes are refused with
// item-not-found (§3.1) until the service answers them itself. For the module that owns the
// service, on each shard, at start-up.
namespace starling::server {

struct Service;
void answer_disco(Service& service);

}  // namespace starling::server
