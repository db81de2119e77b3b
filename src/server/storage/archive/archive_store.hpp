#pragma once
// ArchiveStore: append-only items per (store, host, owner), where the store names what keeps
// them ("echo", later "mam", "muc", "pubsub") and the owner is an account, a room or a node.
// Each item has an id, a time, a 'with' (the other party) and a payload (a serialized
// stanza). Queries select by 'with' and time and page like XEP-0059 RSM (after an id, before
// an id, or the newest page), always answering oldest first. Indexed by (owner, sequence) and
// (owner, with, sequence), so a page costs O(log n + page) however long the archive. Quotas
// drop an owner's oldest items. The interface speaks values only; this implementation is
// SQLite's. Synchronous: call it on the storage thread or from a CLI command.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/storage/database.hpp"
#include "server/storage/store_owner.hpp"

namespace starling::storage {

struct ArchiveItem {
    std::string id;         // unique per owner; made by append() if empty
    std::int64_t when = 0;  // microseconds since the epoch, UTC
    std::string with;       // the other party, "" if none
    std::string payload;
};

struct ArchiveRange {
    std::optional<std::string> with;
    std::optional<std::int64_t> start, end;  // inclusive, microseconds
    std::optional<std::string> after_id;     // RSM <after/>: the page just after this item
    std::optional<std::string> before_id;    // RSM <before>id</before>: the page just before it
    bool newest = false;                     // RSM <before/>: the newest page
    std::size_t max = 50;
};

struct ArchivePage {
    std::vector<ArchiveItem> items;  // oldest first
    // Nothing more in the direction of paging: forward (after, or no paging) or backward
    // (before, newest). XEP-0313's <fin complete='true'/>.
    bool complete = false;
};

class ArchiveStore {
public:
    explicit ArchiveStore(Database& db);

    // Appends; then, with a quota, drops the owner's oldest items beyond it. Returns the id.
    std::string append(StoreOwner owner, ArchiveItem item, std::size_t quota = 0);
    // Appends only while the owner holds fewer than `limit` items (a full mailbox refuses
    // the newcomer instead of dropping the oldest); nullopt when full.
    std::optional<std::string> append_below(StoreOwner owner, ArchiveItem item, std::size_t limit);
    // nullopt when after_id or before_id names no item of the owner (RSM: item-not-found).
    std::optional<ArchivePage> query(StoreOwner owner, const ArchiveRange& range);
    std::optional<ArchiveItem> find(StoreOwner owner, std::string_view id);
    std::size_t count(StoreOwner owner);
    // Retention: drops the owner's items older than `when`.
    void remove_before(StoreOwner owner, std::int64_t when);
    // Every item of the owner in this store.
    void clear(StoreOwner owner);
    // Everything an owner has in any store (an account or room deleted).
    void remove_owner(std::string_view host, std::string_view owner);

private:
    std::optional<std::int64_t> sequence_of(StoreOwner owner, std::string_view id);
    Database& db_;
};

}  // namespace starling::storage
