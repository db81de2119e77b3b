#pragma once
// Bringing a database to the current schema, before the server or a CLI command uses it:
// the core's stores (accounts, MapStore, ArchiveStore), the tables of every module in the
// catalog (ModuleInfo::prepare_tables), and the rows of older releases, which knew one
// domain, moved under `legacy_host` (today's [server] domain). All of it is one transaction:
// an upgrade that fails leaves the file as it was, and the error says why.
#include <cstddef>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "server/module/module.hpp"

namespace starling::storage { class Database; }

namespace starling::server {

struct SchemaUpgradeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws SchemaUpgradeError (nothing changed). Returns how many rows of the tables of before
// (keyval, offline_messages) it moved; the other stores upgrade their tables in place.
std::size_t prepare_database(storage::Database& db, std::string_view legacy_host,
                             const std::vector<const ModuleInfo*>& catalog);

}  // namespace starling::server
