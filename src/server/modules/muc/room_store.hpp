#pragma once
// What a persistent room keeps across restarts (muc#roomconfig_persistentroom): its
// configuration, affiliations (with reserved nicks) and subject, as one document per room in
// the key-value store "muc_rooms", owned by (service domain, room localpart), so that
// deleting an account never touches a room that shares its name. Written whole on every
// change that matters (a few hundred bytes, rarely), read at start-up.
#include <optional>
#include <string>
#include <string_view>

#include "server/modules/muc/room.hpp"

namespace starling::muc {

inline constexpr std::string_view room_store_name = "muc_rooms";

std::string to_document(const Room& room);
// The room as stored (unlocked, no occupants); nullopt if the document is unreadable.
std::optional<Room> from_document(const xmpp::BareJid& jid, std::string_view text);

}  // namespace starling::muc
