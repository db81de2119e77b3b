#pragma once
// StoreOwner: what every store keys its rows by. `store` names the feature that keeps them
// ("vcard", "offline", later "mam", "muc", "pubsub"); `host` is the served domain (or
// service domain) the owner belongs to; `owner` is an account's localpart, a room or a node.
// Views: the caller keeps the strings alive for the call.
#include <string_view>

namespace starling::storage {

struct StoreOwner {
    std::string_view store, host, owner;
};

}  // namespace starling::storage
