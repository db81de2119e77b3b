#pragma once
// Database: one SQLite connection (WAL), with prepared statements and per-component schema
// migrations. A Database is used by one thread at a time: the server's storage thread, or a
// CLI command. Feature stores own their tables; this layer knows no feature.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <set>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace starling::storage {

struct DatabaseError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Database;

class Statement {
public:
    Statement(sqlite3* db, std::string_view sql);
    ~Statement();  // a cached statement goes back to its Database, reset
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::string_view text);
    Statement& bind_blob(int index, std::string_view bytes);
    Statement& bind(int index, std::int64_t value);
    // Steps once: true while a row is available.
    bool step();
    void run() { while (step()) {} }
    void reset();
    std::string text(int column) const;
    std::string blob(int column) const;
    std::int64_t integer(int column) const;

private:
    friend class Database;
    Statement(sqlite3* db, sqlite3_stmt* stmt, Database* cache, const std::string* sql)
        : db_{db}, stmt_{stmt}, cache_{cache}, sql_{sql} {}
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
    Database* cache_ = nullptr;  // set: return the statement there instead of finalizing it
    const std::string* sql_ = nullptr;
};

class Database {
public:
    explicit Database(const std::filesystem::path& file);  // throws DatabaseError
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void exec(std::string_view sql);
    // Compiled once per SQL text and kept: stores run the same few statements all day, and
    // compiling them was a tenth of a login's server CPU.
    Statement prepare(std::string_view sql);
    int changes() const;

    // Applies steps[version..] for a component, each in its own transaction, and records the
    // version, so a feature can add tables and columns over releases.
    void migrate(std::string_view component, const std::vector<std::string_view>& steps);

    // The domain that rows written before stores were keyed by host belong to (the one
    // domain a server served then: today's [server] domain). Migration steps that move such
    // rows call the SQL function legacy_host(), which fails, and with it the step, while this
    // is unset and there are rows to move.
    void set_legacy_host(std::string host) { legacy_host_ = std::move(host); }
    // After a rolled-back migration: every component's version is read from the file again.
    void forget_migrations() { migrated_.clear(); }

    class Transaction {
    public:
        explicit Transaction(Database& db);
        ~Transaction();  // rolls back unless committed
        void commit();
    private:
        Database& db_;
        bool nested_;
        bool done_ = false;
    };

private:
    friend class Statement;
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    sqlite3* db_ = nullptr;
    // Compiled statements not in use, by SQL text (several when the same query is nested).
    std::unordered_map<std::string, std::vector<sqlite3_stmt*>, Hash, std::equal_to<>> idle_statements_;
    // Components known to be at their latest schema: stores are built per call, so their
    // migrate() must cost nothing after the first.
    std::set<std::string, std::less<>> migrated_;
    std::string legacy_host_;
};

}  // namespace starling::storage
