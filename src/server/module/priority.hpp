#pragma once
// Handler order within one event: higher runs first. Bands, so a reader knows the order.
namespace starling::server {

enum class Priority : int {
    guard = 400,    // may reject: limits, blocking, privacy
    enrich = 300,   // add to the stanza: stanza-id, delay
    normal = 200,   // the feature itself
    observe = 100,  // record without changing: archive, metrics
    fallback = 0,   // last resort: offline storage, service-unavailable
};

enum class Flow { next, stop };  // stop: handled; later handlers do not run

}  // namespace starling::server
