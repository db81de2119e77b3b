#pragma once
// Deleting an account and every trace of it: its credentials, its entries in the core's
// stores (MapStore, ArchiveStore) and what each module stored in its own tables
// (ModuleInfo::remove_account), all keyed by (host, owner), in one transaction.
// `starling user del` and in-band cancellation (XEP-0077 §3.2) both call this.
// Synchronous: the storage thread or a CLI command.
#include <vector>

#include "server/module/module.hpp"

namespace starling::storage { class Database; }

namespace starling::server {

// False (and nothing changed) if there is no such account. Every module in `catalog`, enabled
// or not, removes its data: a module enabled earlier may have left some.
bool delete_account(storage::Database& db, const stores::Owner& account,
                    const std::vector<const ModuleInfo*>& catalog);

}  // namespace starling::server
