#include "server/storage/accounts/account_store.hpp"

#include <ctime>

#include "base/random.hpp"

namespace starling::storage {

using xmpp::sasl::ScramCredentials;
using xmpp::sasl::ScramHash;

namespace {
std::string_view hash_name(ScramHash h) {
    switch (h) {
        case ScramHash::sha1: return "SHA-1";
        case ScramHash::sha256: return "SHA-256";
        case ScramHash::sha512: return "SHA-512";
    }
    return "?";
}
}  // namespace

AccountStore::AccountStore(Database& db) : db_{db} {
    db_.migrate("accounts", {
        "CREATE TABLE accounts (username TEXT PRIMARY KEY, created INTEGER NOT NULL)",
        "CREATE TABLE scram_credentials (username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,"
        " hash TEXT NOT NULL, salt BLOB NOT NULL, iterations INTEGER NOT NULL, stored_key BLOB NOT NULL,"
        " server_key BLOB NOT NULL, PRIMARY KEY (username, hash))",
        // Accounts per domain: the rows of the one domain served before move under it.
        "CREATE TABLE account_rows (host TEXT NOT NULL, username TEXT NOT NULL, created INTEGER NOT NULL,"
        " PRIMARY KEY (host, username)) WITHOUT ROWID;"
        "CREATE TABLE account_scram (host TEXT NOT NULL, username TEXT NOT NULL, hash TEXT NOT NULL,"
        " salt BLOB NOT NULL, iterations INTEGER NOT NULL, stored_key BLOB NOT NULL, server_key BLOB NOT NULL,"
        " PRIMARY KEY (host, username, hash),"
        " FOREIGN KEY (host, username) REFERENCES account_rows(host, username) ON DELETE CASCADE) WITHOUT ROWID;"
        "INSERT INTO account_rows SELECT legacy_host(), username, created FROM accounts;"
        "INSERT INTO account_scram SELECT legacy_host(), username, hash, salt, iterations, stored_key, server_key"
        " FROM scram_credentials;"
        "DROP TABLE scram_credentials; DROP TABLE accounts",
    });
}

std::vector<ScramCredentials> AccountStore::derive_all(std::string_view password, std::uint32_t iterations) {
    std::vector<ScramCredentials> out;
    for (ScramHash h : {ScramHash::sha1, ScramHash::sha256, ScramHash::sha512})
        out.push_back(xmpp::sasl::derive_scram_credentials(h, password, random::bytes(16), iterations));
    return out;
}

bool AccountStore::exists(std::string_view host, std::string_view username) {
    auto q = db_.prepare("SELECT 1 FROM account_rows WHERE host = ? AND username = ?");
    q.bind(1, host).bind(2, username);
    return q.step();
}

bool AccountStore::create(std::string_view host, std::string_view username,
                          const std::vector<ScramCredentials>& credentials) {
    Database::Transaction t{db_};
    auto ins = db_.prepare("INSERT OR IGNORE INTO account_rows(host, username, created) VALUES(?, ?, ?)");
    ins.bind(1, host).bind(2, username).bind(3, static_cast<std::int64_t>(std::time(nullptr)));
    ins.run();
    if (db_.changes() == 0) return false;
    write_credentials(host, username, credentials);
    t.commit();
    return true;
}

bool AccountStore::set_credentials(std::string_view host, std::string_view username,
                                   const std::vector<ScramCredentials>& credentials) {
    Database::Transaction t{db_};
    if (!exists(host, username)) return false;
    write_credentials(host, username, credentials);
    t.commit();
    return true;
}

void AccountStore::write_credentials(std::string_view host, std::string_view username,
                                     const std::vector<ScramCredentials>& credentials) {
    auto del = db_.prepare("DELETE FROM account_scram WHERE host = ? AND username = ?");
    del.bind(1, host).bind(2, username);
    del.run();
    auto ins = db_.prepare(
        "INSERT INTO account_scram(host, username, hash, salt, iterations, stored_key, server_key)"
        " VALUES(?,?,?,?,?,?,?)");
    for (const auto& c : credentials) {
        ins.reset();
        ins.bind(1, host).bind(2, username).bind(3, hash_name(c.hash)).bind_blob(4, c.salt)
            .bind(5, static_cast<std::int64_t>(c.iterations)).bind_blob(6, c.stored_key).bind_blob(7, c.server_key);
        ins.run();
    }
}

bool AccountStore::remove(std::string_view host, std::string_view username) {
    auto del = db_.prepare("DELETE FROM account_rows WHERE host = ? AND username = ?");
    del.bind(1, host).bind(2, username);
    del.run();
    return db_.changes() > 0;
}

std::vector<AccountStore::Account> AccountStore::list(std::string_view host) {
    std::vector<Account> out;
    auto q = db_.prepare(host.empty() ? "SELECT host, username FROM account_rows WHERE ? = '' ORDER BY host, username"
                                      : "SELECT host, username FROM account_rows WHERE host = ? ORDER BY username");
    q.bind(1, host);
    while (q.step()) out.push_back({q.text(0), q.text(1)});
    return out;
}

std::optional<ScramCredentials> AccountStore::credentials(std::string_view host, std::string_view username,
                                                          ScramHash hash) {
    auto q = db_.prepare(
        "SELECT salt, iterations, stored_key, server_key FROM account_scram WHERE host = ? AND username = ? AND hash = ?");
    q.bind(1, host).bind(2, username).bind(3, hash_name(hash));
    if (!q.step()) return std::nullopt;
    return ScramCredentials{hash, q.blob(0), static_cast<std::uint32_t>(q.integer(1)), q.blob(2), q.blob(3)};
}

}  // namespace starling::storage
