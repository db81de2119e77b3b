#pragma once
// Accounts as a module may touch them: inside a storage call (ctx.storage().run), so that a
// check and a write share one transaction, and never the account store itself. An account
// is an Owner: its served domain and its localpart. The SCRAM keys for a new password come
// from ModuleContext::derive_credentials.
#include <vector>

#include "server/module/stores.hpp"
#include "xmpp/sasl/scram.hpp"

namespace starling::storage { class Database; }

namespace starling::server::accounts {

using Credentials = std::vector<xmpp::sasl::ScramCredentials>;  // one per SCRAM hash

bool exists(storage::Database& db, const stores::Owner& account);
// False if the account exists already.
bool create(storage::Database& db, const stores::Owner& account, const Credentials& credentials);
// False if there is no such account.
bool set_credentials(storage::Database& db, const stores::Owner& account, const Credentials& credentials);

}  // namespace starling::server::accounts
