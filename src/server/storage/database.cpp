#include "server/storage/database.hpp"

#include <sqlite3.h>

namespace starling::storage {

namespace {
[[noreturn]] void fail(sqlite3* db, std::string_view what) {
    throw DatabaseError(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

void legacy_host(sqlite3_context* context, int, sqlite3_value**) {
    const auto& host = *static_cast<const std::string*>(sqlite3_user_data(context));
    if (host.empty()) {
        sqlite3_result_error(context, "rows written when one domain was served need that domain (the legacy host) to be upgraded", -1);
        return;
    }
    sqlite3_result_text(context, host.data(), static_cast<int>(host.size()), SQLITE_TRANSIENT);
}
}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) : db_{db} {
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK)
        fail(db, "prepare");
}

Statement::~Statement() {
    if (!cache_) {
        sqlite3_finalize(stmt_);
        return;
    }
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    cache_->idle_statements_.find(*sql_)->second.push_back(stmt_);
}

Statement Database::prepare(std::string_view sql) {
    auto it = idle_statements_.find(sql);
    if (it == idle_statements_.end()) it = idle_statements_.emplace(std::string(sql), std::vector<sqlite3_stmt*>{}).first;
    sqlite3_stmt* stmt = nullptr;
    if (!it->second.empty()) {
        stmt = it->second.back();
        it->second.pop_back();
    } else if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                                  nullptr) != SQLITE_OK) {
        fail(db_, "prepare");
    }
    return Statement{db_, stmt, this, &it->first};
}

Statement& Statement::bind(int index, std::string_view text) {
    // A default string_view has no data pointer, which SQLite would bind as NULL, not ''.
    const char* data = text.data() ? text.data() : "";
    if (sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_TRANSIENT) != SQLITE_OK)
        fail(db_, "bind");
    return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
    const char* data = bytes.data() ? bytes.data() : "";  // as in bind(): empty, never NULL
    if (sqlite3_bind_blob(stmt_, index, data, static_cast<int>(bytes.size()), SQLITE_TRANSIENT) != SQLITE_OK)
        fail(db_, "bind");
    return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail(db_, "bind");
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, "step");
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::string Statement::text(int column) const {
    auto* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string{};
}

std::string Statement::blob(int column) const {
    auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : std::string{};
}

std::int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }

Database::Database(const std::filesystem::path& file) {
    std::error_code ec;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw DatabaseError("cannot open " + file.string() + ": " + msg);
    }
    // The CLI and the server may both hold the file: wait for each other's writes.
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
    if (sqlite3_create_function_v2(db_, "legacy_host", 0, SQLITE_UTF8, &legacy_host_, &legacy_host, nullptr, nullptr,
                                   nullptr) != SQLITE_OK)
        fail(db_, "legacy_host()");
    exec("CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)");
}

Database::~Database() {
    for (auto& [sql, statements] : idle_statements_)
        for (auto* stmt : statements) sqlite3_finalize(stmt);
    sqlite3_close(db_);
}

void Database::exec(std::string_view sql) {
    char* err = nullptr;
    std::string s{sql};
    if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "error";
        sqlite3_free(err);
        throw DatabaseError(msg + " in: " + s);
    }
}

int Database::changes() const { return sqlite3_changes(db_); }

void Database::migrate(std::string_view component, const std::vector<std::string_view>& steps) {
    if (migrated_.contains(component)) return;
    auto get = prepare("SELECT version FROM schema_versions WHERE component = ?");
    get.bind(1, component);
    std::int64_t version = get.step() ? get.integer(0) : 0;
    get.reset();  // no statement may be left running: a step that drops a table would be refused
    for (auto i = static_cast<std::size_t>(version); i < steps.size(); ++i) {
        Transaction t{*this};
        exec(steps[i]);
        auto set = prepare("INSERT INTO schema_versions(component, version) VALUES(?, ?) "
                           "ON CONFLICT(component) DO UPDATE SET version = excluded.version");
        set.bind(1, component).bind(2, static_cast<std::int64_t>(i + 1));
        set.run();
        t.commit();
    }
    migrated_.emplace(component);
}

// Inside another transaction, a transaction is a savepoint, so stores can be composed
// (account deletion runs every module's cleanup in one transaction).
Database::Transaction::Transaction(Database& db) : db_{db}, nested_{sqlite3_get_autocommit(db.db_) == 0} {
    db_.exec(nested_ ? "SAVEPOINT nested" : "BEGIN IMMEDIATE");
}
Database::Transaction::~Transaction() {
    if (!done_) {
        try {
            db_.exec(nested_ ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK");
        } catch (...) {
        }
    }
}
void Database::Transaction::commit() {
    db_.exec(nested_ ? "RELEASE nested" : "COMMIT");
    done_ = true;
}

}  // namespace starling::storage
