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
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace starling::storage {

struct DatabaseError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Statement {
public:
    Statement(sqlite3* db, std::string_view sql);
    ~Statement();
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
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

class Database {
public:
    explicit Database(const std::filesystem::path& file);  // throws DatabaseError
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void exec(std::string_view sql);
    Statement prepare(std::string_view sql) { return Statement{db_, sql}; }
    int changes() const;

    // Applies steps[version..] for a component, each in its own transaction, and records the
    // version, so a feature can add tables and columns over releases.
    void migrate(std::string_view component, const std::vector<std::string_view>& steps);

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
    sqlite3* db_ = nullptr;
    // Components known to be at their latest schema: stores are built per call, so their
    // migrate() must cost nothing after the first.
    std::set<std::string, std::less<>> migrated_;
};

}  // namespace starling::storage
