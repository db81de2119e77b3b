#pragma once
// Config: the whole server configuration as typed structs. Every field has its default here,
// so `starling serve` without a file runs a working server for localhost.
#include <any>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace starling::config {

struct ConfigError;
class ModuleOptions;

struct ServerSection {
    std::string domain = "localhost";  // the first served domain; [hosts."<domain>"] adds more
    std::vector<std::string> admins;   // bare JIDs administering the first domain
    std::filesystem::path data_dir = "./data";
    std::uint32_t shards = 0;
    std::string log_level = "info";
};

struct TlsSection {
    std::filesystem::path certificate;  // empty: <data_dir>/tls/<domain>.crt, self-signed
    std::filesystem::path key;
};

struct C2sSection {
    std::vector<std::string> interfaces = {"0.0.0.0"};
    std::uint16_t port = 5222;
    std::uint16_t direct_tls_port = 5223;
    bool require_encryption = true;
    std::string resource_conflict = "replace";
    std::uint32_t max_sessions_per_account = 10;
    std::chrono::seconds keepalive_interval{60};
    std::chrono::seconds idle_timeout{900};
};

// The HTTP server: WebSocket (RFC 7395) and XEP-0156 discovery, and optionally a folder of
// static files (a web client next to the server).
struct HttpSection {
    std::vector<std::string> interfaces = {"0.0.0.0"};
    std::uint16_t port = 5280;      // plain HTTP
    std::uint16_t tls_port = 5281;  // HTTPS with the c2s certificates
    std::size_t max_request_bytes = 64 * 1024;
    std::filesystem::path static_dir;  // empty: no static files
    std::vector<std::string> cors_origins = {"*"};
    std::vector<std::string> trusted_proxies;  // addresses whose X-Forwarded-For/-Proto count
    std::chrono::seconds request_timeout{60};  // an HTTP connection idle between requests
    // BOSH (XEP-0124): the longest a request is held, and a session without requests lives.
    std::chrono::seconds bosh_max_wait{60};
    std::chrono::seconds bosh_inactivity{60};
    std::chrono::seconds bosh_max_pause{120};
};

struct LimitsSection {
    std::size_t max_stanza_size_preauth = 10 * 1024;
    std::size_t max_stanza_size = 256 * 1024;
    std::size_t max_depth = 64;
    std::size_t max_outbound_queue = 1024 * 1024;
    std::chrono::seconds preauth_timeout{30};
    std::uint32_t max_preauth_per_ip = 100;
    std::uint32_t max_preauth = 10000;
    std::uint32_t account_stanzas_per_second = 1000;
    std::uint32_t account_stanza_burst = 1000;
};

struct SaslSection {
    // Offered in this order where the connection allows (-PLUS needs TLS, PLAIN needs TLS).
    std::vector<std::string> mechanisms = {"SCRAM-SHA-512-PLUS", "SCRAM-SHA-512", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256",
                                           "SCRAM-SHA-1-PLUS",   "SCRAM-SHA-1",   "PLAIN"};
    std::uint32_t scram_iterations = 4096;
    std::uint32_t max_failures_per_stream = 3;
    std::uint32_t failures_before_delay = 5;
    std::chrono::seconds failure_window{60};
    std::chrono::seconds max_delay{10};
};

// What the loader needs to know of the compiled-in modules (filled from the catalog).
struct ModuleSchema {
    std::string name;
    bool enabled_by_default = true;
    const ModuleOptions* options = nullptr;
};

// One served domain and what may differ per domain. hosts[0] is [server] domain, with the
// file's [tls], [modules] and [server] admins; each [hosts."<domain>"] section adds one, which
// starts from the first domain's modules and module options and changes what it sets.
struct HostConfig {
    std::string domain;
    std::filesystem::path certificate;  // empty: <data_dir>/tls/<domain>.crt, self-signed
    std::filesystem::path key;
    std::vector<std::string> admins;                 // bare JIDs
    std::vector<std::string> modules;                // enabled, in catalog order
    std::map<std::string, std::any> module_options;  // name → that module's Options struct
    // Modules whose option table this domain's part of the file sets (for `starling check`:
    // settings for a module the domain does not enable do nothing).
    std::vector<std::string> configured_modules;
    std::string section;  // "server" or hosts."<domain>", for messages
    int line = 0;         // where that section starts in the file (0: unknown)

    std::filesystem::path certificate_path(const std::filesystem::path& data_dir) const;
    std::filesystem::path key_path(const std::filesystem::path& data_dir) const;
};

struct Config {
    ServerSection server;
    TlsSection tls;
    C2sSection c2s;
    HttpSection http;
    LimitsSection limits;
    SaslSection sasl;
    std::vector<HostConfig> hosts;  // never empty; hosts[0] is server.domain

    // The served domain's settings (compared without regard to ASCII case); null if not served.
    const HostConfig* host(std::string_view domain) const;
};

// Parses a TOML file (or defaults when path is empty). Errors name the key and line.
Result<Config, std::vector<ConfigError>> load(const std::optional<std::filesystem::path>& path,
                                              const std::vector<ModuleSchema>& modules);
Result<Config, std::vector<ConfigError>> parse(std::string_view toml_text, std::string_view source_name,
                                               const std::vector<ModuleSchema>& modules);
// starling.example.toml: every setting, its default and its help.
std::string example(const std::vector<ModuleSchema>& modules);

}  // namespace starling::config
