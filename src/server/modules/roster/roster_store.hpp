#pragma once
// RosterStore: each account's roster (RFC 6121 §2) with versioning (§2.6), keyed by (host,
// owner). One row per item, written on its own (an item change never rewrites the roster); a
// removed item stays as a tombstone carrying the version of its removal, so a client that
// last saw version N can be sent exactly the changes since N. Synchronous: call it on the storage thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/module/stores.hpp"
#include "server/storage/database.hpp"

namespace starling::roster {

struct RosterItem {
    std::string jid;                    // the contact's bare JID, canonical
    std::string name;                   // empty: none
    std::string subscription = "none";  // none, to, from, both (§2.1.2.5)
    bool ask = false;                   // subscribe request pending out (§3.1.2)
    bool pending_in = false;            // their subscribe request, not yet answered (§3.1.3)
    bool approved = false;              // pre-approval (§3.4)
    std::vector<std::string> groups;
    std::int64_t version = 0;           // the roster version of the item's last change
    bool removed = false;               // a tombstone (only from changes_since)
    bool hidden = false;                // not in the roster: only their pending request
    std::string request;                // with pending_in: their <presence type='subscribe'/> as
                                        // received (XEP-0172 nick, XEP-0379 token...), or ""
};

class RosterStore {
public:
    explicit RosterStore(storage::Database& db);

    std::int64_t version(const server::stores::Owner& account);
    std::vector<RosterItem> items(const server::stores::Owner& account);
    // Items changed (including removed) after version `since`, oldest change first.
    std::vector<RosterItem> changes_since(const server::stores::Owner& account, std::int64_t since);
    // Also a hidden item (a pending request from someone not in the roster).
    std::optional<RosterItem> item(const server::stores::Owner& account, std::string_view jid);
    // Requests from contacts that the user has not answered yet (§3.1.3), hidden or not.
    std::vector<RosterItem> pending_in(const server::stores::Owner& account);
    // Ends a hidden item (its request was withdrawn or refused).
    void forget(const server::stores::Owner& account, std::string_view jid);
    // Pending requests from strangers, which are bounded like roster items.
    std::size_t hidden_count(const server::stores::Owner& account);
    std::size_t count(const server::stores::Owner& account);
    // Writes the item under a new roster version, which it returns (and sets in `item`).
    std::int64_t put(const server::stores::Owner& account, RosterItem& item);
    // Tombstones the item and returns it as it was, with the new version; nullopt if there
    // was none.
    std::optional<RosterItem> remove(const server::stores::Owner& account, std::string_view jid);

    static void remove_account(storage::Database& db, const server::stores::Owner& account);

private:
    std::int64_t next_version(const server::stores::Owner& account);
    RosterItem read_row(storage::Statement& q);
    storage::Database& db_;
};

}  // namespace starling::roster
