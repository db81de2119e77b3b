// starling user add|del|passwd|list: straight on the database, so they work whether the
// server runs or not (SQLite WAL lets both hold the file).
#include <termios.h>
#include <unistd.h>

#include <future>
#include <iostream>
#include <memory>
#include <set>
#include <thread>

#include "apps/starling/commands.hpp"
#include "server/config/options.hpp"
#include "server/module/account_deletion.hpp"
#include "server/modules/catalog.hpp"
#include "server/storage/accounts/account_store.hpp"
#include "server/module/database_schema.hpp"
#include "xmpp/jid.hpp"
#include "xmpp/precis.hpp"

namespace starling::app {

std::optional<config::Config> load_config(const std::optional<std::filesystem::path>& path) {
    auto config = config::load(path, server::module_schemas());
    if (!config) {
        for (const auto& e : config.error()) std::cerr << "starling: " << e.describe() << "\n";
        return std::nullopt;
    }
    return std::move(config).value();
}

namespace {

struct Account {
    std::string name, host;  // prepared localpart, canonical served domain
    std::string jid() const { return name + "@" + host; }
};

// "alice@domain" → that account, if the domain is served; "alice" → alice at the only served
// domain, refused when there are several. Errors are printed.
std::optional<Account> account_of(const config::Config& config, const std::string& user) {
    std::string local = user, host;
    if (auto at = user.find('@'); at != std::string::npos) {
        auto jid = xmpp::BareJid::parse(user);
        if (!jid) {
            std::cerr << "starling: \"" << user << "\" is not a valid bare JID\n";
            return std::nullopt;
        }
        const config::HostConfig* served = config.host(jid->domain());
        if (!served) {
            std::cerr << "starling: this server does not host " << jid->domain() << " (it hosts";
            for (const auto& h : config.hosts) std::cerr << " " << h.domain;
            std::cerr << ")\n";
            return std::nullopt;
        }
        local = std::string(jid->local());
        host = std::string(jid->domain());
    } else if (config.hosts.size() > 1) {
        std::cerr << "starling: this server hosts several domains: name the account as " << user << "@<domain>\n";
        return std::nullopt;
    } else {
        auto domain = xmpp::Jid::parse(config.hosts.front().domain);
        host = domain ? domain->str() : config.hosts.front().domain;
    }
    auto prepared = xmpp::precis::username_case_mapped(local);
    if (!prepared || !xmpp::Jid::from_parts(*prepared, host, "")) {
        std::cerr << "starling: \"" << local << "\" is not a valid username (RFC 7622 localpart)\n";
        return std::nullopt;
    }
    return Account{*prepared, host};
}

std::optional<std::string> read_line(bool echo) {
    termios old{};
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty && !echo) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    bool ok = static_cast<bool>(std::getline(std::cin, line));
    if (tty && !echo) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        std::cerr << "\n";
    }
    if (!ok) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

// From a prompt (asked twice) on a terminal, or one line of stdin otherwise.
std::optional<std::string> read_password() {
    bool tty = isatty(STDIN_FILENO);
    if (tty) std::cerr << "Password: ";
    auto first = read_line(false);
    if (!first) {
        std::cerr << "starling: no password given on stdin\n";
        return std::nullopt;
    }
    if (tty) {
        std::cerr << "Again: ";
        auto second = read_line(false);
        if (!second || *second != *first) {
            std::cerr << "starling: the passwords differ\n";
            return std::nullopt;
        }
    }
    // RFC 8265 §4.2: passwords are OpaqueString, so SCRAM and PLAIN see the same bytes.
    auto prepared = xmpp::precis::opaque_string(*first);
    if (!prepared) {
        std::cerr << "starling: the password is empty or has characters not allowed (RFC 8265 OpaqueString)\n";
        return std::nullopt;
    }
    return prepared;
}

std::unique_ptr<storage::Database> open(const config::Config& config) {
    auto file = config.server.data_dir / "starling.db";
    auto db = std::make_unique<storage::Database>(file);
    try {
        server::prepare_database(*db, config.server.domain, server::catalog());
    } catch (const server::SchemaUpgradeError& e) {
        std::cerr << "starling: cannot upgrade " << file.string() << " (it is left as it was): " << e.what() << "\n";
        return nullptr;
    }
    return db;
}

}  // namespace

int user_add(const config::Config& config, const std::string& user) {
    auto account = account_of(config, user);
    if (!account) return 2;
    auto opened = open(config);
    if (!opened) return 1;
    storage::AccountStore accounts{*opened};
    if (accounts.exists(account->host, account->name)) {
        std::cerr << "starling: " << account->jid() << " exists already\n";
        return 1;
    }
    auto password = read_password();
    if (!password) return 2;
    if (!accounts.create(account->host, account->name,
                         storage::AccountStore::derive_all(*password, config.sasl.scram_iterations))) {
        std::cerr << "starling: " << account->jid() << " exists already\n";
        return 1;
    }
    std::cout << "created " << account->jid() << "\n";
    return 0;
}

int user_del(const config::Config& config, const std::string& user) {
    auto account = account_of(config, user);
    if (!account) return 2;
    auto opened = open(config);
    if (!opened) return 1;
    if (!server::delete_account(*opened, {account->host, account->name}, server::catalog())) {
        std::cerr << "starling: no account " << account->jid() << "\n";
        return 1;
    }
    std::cout << "deleted " << account->jid() << "\n";
    return 0;
}

int user_passwd(const config::Config& config, const std::string& user) {
    auto account = account_of(config, user);
    if (!account) return 2;
    auto opened = open(config);
    if (!opened) return 1;
    storage::AccountStore accounts{*opened};
    if (!accounts.exists(account->host, account->name)) {
        std::cerr << "starling: no account " << account->jid() << "\n";
        return 1;
    }
    auto password = read_password();
    if (!password) return 2;
    accounts.set_credentials(account->host, account->name,
                             storage::AccountStore::derive_all(*password, config.sasl.scram_iterations));
    std::cout << "password changed for " << account->jid() << "\n";
    return 0;
}

// Lines of "username password" (the password is the rest of the line) on stdin: every line
// is checked before anything is written, the credentials are derived on every core, and the
// accounts are created in one transaction. Existing accounts are left as they are.
int user_import(const config::Config& config) {
    struct Entry {
        Account account;
        std::string password;
        std::vector<xmpp::sasl::ScramCredentials> credentials;
    };
    std::vector<Entry> entries;
    std::set<std::string> seen;
    bool bad = false;
    std::string line;
    for (std::size_t number = 1; std::getline(std::cin, line); ++number) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line.front() == '#') continue;
        auto space = line.find_first_of(" \t");
        auto start = space == std::string::npos ? space : line.find_first_not_of(" \t", space);
        if (start == std::string::npos) {
            std::cerr << "starling: line " << number << ": expected \"username password\"\n";
            bad = true;
            continue;
        }
        auto account = account_of(config, line.substr(0, space));
        auto password = xmpp::precis::opaque_string(line.substr(start));
        if (!account) {
            std::cerr << "starling: line " << number << ": bad username\n";
            bad = true;
            continue;
        }
        if (!password) {
            std::cerr << "starling: line " << number << ": the password has characters not allowed (RFC 8265)\n";
            bad = true;
            continue;
        }
        if (!seen.insert(account->jid()).second) {
            std::cerr << "starling: line " << number << ": " << account->jid() << " appears twice\n";
            bad = true;
            continue;
        }
        entries.push_back({std::move(*account), std::move(*password), {}});
    }
    if (bad) {
        std::cerr << "starling: nothing imported\n";
        return 2;
    }
    auto opened = open(config);
    if (!opened) return 1;
    storage::Database& db = *opened;
    storage::AccountStore accounts{db};
    std::erase_if(entries, [&](const Entry& e) { return accounts.exists(e.account.host, e.account.name); });
    std::size_t skipped = seen.size() - entries.size();
    // PBKDF2 is the whole cost (three hashes per account): spread it over the cores.
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::future<void>> work;
    for (unsigned t = 0; t < threads; ++t)
        work.push_back(std::async(std::launch::async, [&, t] {
            for (std::size_t i = t; i < entries.size(); i += threads)
                entries[i].credentials = storage::AccountStore::derive_all(entries[i].password, config.sasl.scram_iterations);
        }));
    for (auto& w : work) w.get();
    storage::Database::Transaction transaction{db};
    for (const auto& e : entries) accounts.create(e.account.host, e.account.name, e.credentials);
    transaction.commit();
    std::cout << "created " << entries.size() << " account(s)";
    if (skipped) std::cout << ", " << skipped << " existed already";
    std::cout << "\n";
    return 0;
}

int user_list(const config::Config& config, const std::string& domain) {
    std::string host;
    if (!domain.empty()) {
        auto jid = xmpp::Jid::parse(domain);
        if (!jid || !jid->is_domain() || !config.host(jid->domain())) {
            std::cerr << "starling: this server does not host " << domain << "\n";
            return 2;
        }
        host = jid->str();
    }
    auto opened = open(config);
    if (!opened) return 1;
    for (const auto& account : storage::AccountStore{*opened}.list(host))
        std::cout << account.username << "@" << account.host << "\n";
    return 0;
}

}  // namespace starling::app
