#pragma once
// UserHome: one account's online state (its bound resources), kept on the account's owner
// shard (hash of the bare JID). Only the owner shard's Router reads or writes it.
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "server/routing/account_rate.hpp"
#include "xmpp/jid.hpp"

namespace starling::server {

class C2sStream;

// How to reach a stream from another shard: post to `shard`, then lock `stream` there.
struct SessionRef {
    std::size_t shard = 0;
    std::weak_ptr<C2sStream> stream;
    std::uint64_t connection_id = 0;
};

struct BoundResource {
    xmpp::Jid jid;
    SessionRef session;
    bool available = false;  // has sent available presence (RFC 6121 §4.2)
    int priority = 0;
    std::uint8_t show = 0;  // index into presence_shows: what its available presence shows
};

// RFC 6121 §4.7.2.1, with "online" for an available presence without <show/>.
inline constexpr std::string_view presence_shows[] = {"online", "chat", "away", "xa", "dnd"};

struct UserHome {
    std::vector<BoundResource> resources;
    std::shared_ptr<AccountRate> rate;  // null: no limit

    BoundResource* find(std::string_view resource) {
        for (auto& r : resources)
            if (r.jid.resource() == resource) return &r;
        return nullptr;
    }
};

}  // namespace starling::server
