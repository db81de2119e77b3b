#pragma once
// What a node keeps across restarts: its configuration (as a submitted pubsub#node_config
// form), affiliations and subscriptions as one
// document in the key-value store "pubsub_nodes", and each item as an entry of the map store
// "pubsub_items" under the item's id, both owned by (service domain, node name), so that no
// account's deletion touches them. Items are written one by one as they are published.
#include <optional>
#include <string>
#include <string_view>

#include "server/modules/pubsub/node.hpp"

namespace starling::pubsub {

inline constexpr std::string_view node_store_name = "pubsub_nodes";
inline constexpr std::string_view item_store_name = "pubsub_items";

std::string node_to_document(const Node& node);
// The node as stored, without its items; nullopt if the document is unreadable.
std::optional<Node> node_from_document(const std::string& name, std::string_view text);

std::string item_to_value(const Item& item);
std::optional<Item> item_from_value(const std::string& id, std::string_view value);

}  // namespace starling::pubsub
