#pragma once
// The stores a module keeps its data in, keyed by (host, owner) where the owner is an
// account, a room or a node, each named by the module ("vcard", "offline"). Calls hop to the
// storage thread and resume on the caller's shard. An account's entries in every store go
// with the account (accounts are deleted by the core, not by each module).
//   KeyValue: one value per owner (a vCard, a last logout).
//   Map:      values by key per owner (private XML by namespace, settings).
//   Archive:  append-only items with ids, times and a 'with', paged like RSM (MAM, history).
// For several steps in one transaction, a module runs storage::MapStore / ArchiveStore
// itself inside ModuleContext::storage().run().
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "net/task.hpp"
#include "server/storage/archive/archive_store.hpp"
#include "xmpp/jid.hpp"

namespace starling::storage { class StorageThread; }

namespace starling::server::stores {

struct Owner {
    std::string host;  // the domain the owner lives under
    std::string name;  // an account's localpart, a room's or node's name; "" for the host itself
    // An account (localpart@domain), an entity of a service, or a domain ("").
    static Owner of(const xmpp::BareJid& jid) { return {std::string(jid.domain()), std::string(jid.local())}; }
};

class KeyValue {
public:
    KeyValue(storage::StorageThread& storage, std::string store) : storage_{storage}, store_{std::move(store)} {}
    Task<std::optional<std::string>> get(Owner owner) const;
    Task<void> set(Owner owner, std::string value) const;
    Task<void> remove(Owner owner) const;
    // Every owner under `host` with a value here, by name (a service's rooms at start-up).
    Task<std::vector<std::string>> owners(std::string host) const;

private:
    storage::StorageThread& storage_;
    std::string store_;
};

class Map {
public:
    Map(storage::StorageThread& storage, std::string store) : storage_{storage}, store_{std::move(store)} {}
    Task<std::optional<std::string>> get(Owner owner, std::string key) const;
    Task<void> set(Owner owner, std::string key, std::string value) const;
    Task<bool> remove(Owner owner, std::string key) const;  // false: there was none
    Task<std::vector<std::pair<std::string, std::string>>> entries(Owner owner) const;  // by key
    Task<void> clear(Owner owner) const;

private:
    storage::StorageThread& storage_;
    std::string store_;
};

class Archive {
public:
    Archive(storage::StorageThread& storage, std::string store) : storage_{storage}, store_{std::move(store)} {}
    // Returns the item's id; with a quota, the owner's oldest items beyond it are dropped.
    Task<std::string> append(Owner owner, storage::ArchiveItem item, std::size_t quota = 0) const;
    // nullopt: after_id or before_id names no item of the owner (RSM item-not-found).
    Task<std::optional<storage::ArchivePage>> query(Owner owner, storage::ArchiveRange range) const;
    Task<std::optional<storage::ArchiveItem>> find(Owner owner, std::string id) const;
    Task<std::size_t> count(Owner owner) const;
    Task<void> remove_before(Owner owner, std::int64_t when) const;  // retention, microseconds
    Task<void> clear(Owner owner) const;

private:
    storage::StorageThread& storage_;
    std::string store_;
};

}  // namespace starling::server::stores
