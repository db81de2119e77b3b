#pragma once
// Before stores were keyed by (host, owner), two tables held per-account data under the
// username alone: `keyval` (vCards, private XML, last logouts) and `offline_messages`. All
// their rows belong to the one domain served then. adopt_single_host_tables moves them,
// in one transaction, into MapStore and ArchiveStore (store "offline") under `host`, and
// drops the old tables; once done it costs one lookup. Run at start-up and by every CLI
// command that opens the database, before any store is used.
#include <string_view>

#include "server/storage/database.hpp"

namespace starling::storage {

// Returns how many rows moved (0 when there was nothing left to adopt).
std::size_t adopt_single_host_tables(Database& db, std::string_view host);

}  // namespace starling::storage
