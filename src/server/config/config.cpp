#include "server/config/config.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "server/config/options.hpp"

namespace starling::config {

namespace {

std::string not_empty(const std::string& s) { return s.empty() ? "must not be empty" : ""; }

const OptionSet<ServerSection>& server_options() {
    static const auto set = OptionSet<ServerSection>{}
        .add("domain", &ServerSection::domain,
             "The XMPP domain this server hosts (the first one: [hosts.\"<domain>\"] sections add more)",
             std::function(not_empty))
        .add("admins", &ServerSection::admins, "Bare JIDs of the administrators of the domain")
        .add("data_dir", &ServerSection::data_dir, "Where the database and generated certificates live")
        .add("shards", &ServerSection::shards, "Worker threads, each with its own event loop; 0 means one per CPU core")
        .add("log_level", &ServerSection::log_level, "trace, debug, info, warn, error or off",
             std::function([](const std::string& s) -> std::string {
                 static const char* ok[] = {"trace", "debug", "info", "warn", "error", "off"};
                 return std::find(std::begin(ok), std::end(ok), s) == std::end(ok) ? "unknown log level" : "";
             }));
    return set;
}

const OptionSet<TlsSection>& tls_options() {
    static const auto set = OptionSet<TlsSection>{}
        .add("certificate", &TlsSection::certificate,
             "PEM certificate chain; empty: a self-signed one is made under data_dir/tls on first start")
        .add("key", &TlsSection::key, "PEM private key for the certificate");
    return set;
}

const OptionSet<C2sSection>& c2s_options() {
    static const auto set = OptionSet<C2sSection>{}
        .add("interfaces", &C2sSection::interfaces, "Addresses the client ports listen on")
        .add("port", &C2sSection::port, "Client port with STARTTLS (RFC 6120); 0 disables it")
        .add("direct_tls_port", &C2sSection::direct_tls_port, "Client port with TLS from the first byte (XEP-0368); 0 disables it")
        .add("require_encryption", &C2sSection::require_encryption, "Refuse authentication before TLS")
        .add("resource_conflict", &C2sSection::resource_conflict,
             "When a client binds a resource already in use: \"replace\" the old session or \"reject\" the new one",
             std::function([](const std::string& s) -> std::string {
                 return s == "replace" || s == "reject" ? "" : "must be \"replace\" or \"reject\"";
             }))
        .add("max_sessions_per_account", &C2sSection::max_sessions_per_account,
             "Sessions one account may have at once; past it resource_conflict decides (replace: the oldest goes)",
             std::function([](const std::uint32_t& n) -> std::string { return n == 0 ? "must be at least 1" : ""; }))
        .add("keepalive_interval", &C2sSection::keepalive_interval,
             "Send a whitespace keepalive after this many seconds without output; 0 disables")
        .add("idle_timeout", &C2sSection::idle_timeout,
             "Close an authenticated connection silent for this many seconds; 0 disables");
    return set;
}

const OptionSet<HttpSection>& http_options() {
    static const auto set = OptionSet<HttpSection>{}
        .add("interfaces", &HttpSection::interfaces, "Addresses the HTTP ports listen on")
        .add("port", &HttpSection::port, "Plain HTTP port (WebSocket at /xmpp-websocket, BOSH at /http-bind); 0 disables it")
        .add("tls_port", &HttpSection::tls_port, "HTTPS port, with the certificates of the client ports; 0 disables it")
        .add("max_request_bytes", &HttpSection::max_request_bytes, "Largest HTTP request (headers and body) in bytes")
        .add("static_dir", &HttpSection::static_dir, "A folder served at / (a web client); empty: none")
        .add("cors_origins", &HttpSection::cors_origins,
             "Origins whose web pages may use the HTTP endpoints (CORS); \"*\": any")
        .add("trusted_proxies", &HttpSection::trusted_proxies,
             "Reverse proxies (IP addresses) whose X-Forwarded-For and X-Forwarded-Proto headers are believed")
        .add("request_timeout", &HttpSection::request_timeout,
             "Seconds an HTTP connection may wait for its next request")
        .add("bosh_max_wait", &HttpSection::bosh_max_wait,
             "BOSH: the longest a request is held waiting for something to answer (XEP-0124 'wait')")
        .add("bosh_inactivity", &HttpSection::bosh_inactivity,
             "BOSH: seconds a session may go without a request before it ends (XEP-0124 'inactivity')")
        .add("bosh_max_pause", &HttpSection::bosh_max_pause, "BOSH: the longest pause a client may ask for (XEP-0124 'maxpause')");
    return set;
}

const OptionSet<LimitsSection>& limits_options() {
    static const auto set = OptionSet<LimitsSection>{}
        .add("max_stanza_size_preauth", &LimitsSection::max_stanza_size_preauth, "Largest element in bytes before authentication")
        .add("max_stanza_size", &LimitsSection::max_stanza_size, "Largest stanza in bytes after authentication")
        .add("max_depth", &LimitsSection::max_depth, "Deepest element nesting, the stream root counting as 1")
        .add("max_outbound_queue", &LimitsSection::max_outbound_queue,
             "Bytes queued for a client that does not read before it is disconnected")
        .add("preauth_timeout", &LimitsSection::preauth_timeout, "Seconds a connection may take to authenticate")
        .add("max_preauth_per_ip", &LimitsSection::max_preauth_per_ip,
             "Unauthenticated connections kept per IP address; a new one past it closes the address's "
             "connection that has made the least progress (the oldest first), never the newcomer; 0: no cap")
        .add("max_preauth", &LimitsSection::max_preauth,
             "Unauthenticated connections kept in all, with the same eviction as max_preauth_per_ip; 0: no cap")
        .add("account_stanzas_per_second", &LimitsSection::account_stanzas_per_second,
             "Stanzas per second one account may send, summed over its sessions; faster senders are read "
             "more slowly (nothing is dropped); 0 disables")
        .add("account_stanza_burst", &LimitsSection::account_stanza_burst,
             "Stanzas an account may send at once before account_stanzas_per_second applies",
             std::function([](const std::uint32_t& n) -> std::string { return n == 0 ? "must be at least 1" : ""; }));
    return set;
}

const OptionSet<SaslSection>& sasl_options() {
    static const auto set = OptionSet<SaslSection>{}
        .add("mechanisms", &SaslSection::mechanisms,
             "SASL mechanisms to offer, in order of preference (-PLUS and PLAIN only ever over TLS)",
             std::function([](const std::vector<std::string>& list) -> std::string {
                 static const char* known[] = {"SCRAM-SHA-512-PLUS", "SCRAM-SHA-512", "SCRAM-SHA-256-PLUS",
                                               "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN"};
                 if (list.empty()) return "must name at least one mechanism";
                 for (const auto& m : list)
                     if (std::find(std::begin(known), std::end(known), m) == std::end(known))
                         return "unknown mechanism \"" + m + "\"";
                 return "";
             }))
        .add("scram_iterations", &SaslSection::scram_iterations, "PBKDF2 iterations for newly set passwords",
             std::function([](const std::uint32_t& n) -> std::string { return n < 4096 ? "must be at least 4096" : ""; }))
        .add("max_failures_per_stream", &SaslSection::max_failures_per_stream,
             "Failed authentications before the stream is closed (RFC 6120 §6.4.5)")
        .add("failures_before_delay", &SaslSection::failures_before_delay,
             "Failures per IP or account within failure_window before answers are delayed")
        .add("failure_window", &SaslSection::failure_window, "Seconds over which failures are counted")
        .add("max_delay", &SaslSection::max_delay, "Longest delay of an answer, in seconds");
    return set;
}

struct ModulesSection {
    std::vector<std::string> enabled;
};

template <class S>
void section(const toml::table& root, std::string_view name, const OptionSet<S>& set, S& s, ConfigErrors& errors) {
    const toml::node* n = root.get(name);
    if (!n) return;
    if (const toml::table* t = n->as_table()) set.apply(*t, s, std::string(name), errors);
    else errors.push_back({std::string(name), detail::line_of(*n), "expected a table"});
}

// A [modules] table (or a host's) applied over `host`'s enabled list and options.
void apply_modules(const toml::node* node, const std::string& path, const std::vector<ModuleSchema>& schemas,
                   HostConfig& host, ConfigErrors& errors) {
    if (!node) return;
    const toml::table* t = node->as_table();
    if (!t) {
        errors.push_back({path, detail::line_of(*node), "expected a table"});
        return;
    }
    std::vector<std::string> enabled = host.modules;
    for (const auto& [key, value] : *t) {
        std::string k{key.str()};
        std::string key_path = path + "." + k;
        if (k == "enabled") {
            std::vector<std::string> list;
            if (!detail::Codec<std::vector<std::string>>::read(value, list)) {
                errors.push_back({key_path, detail::line_of(value), "expected array of strings"});
                continue;
            }
            for (const auto& name : list)
                if (std::none_of(schemas.begin(), schemas.end(), [&](auto& s) { return s.name == name; }))
                    errors.push_back({key_path, detail::line_of(value), "unknown module \"" + name + "\""});
            enabled = list;
            continue;
        }
        auto schema = std::find_if(schemas.begin(), schemas.end(), [&](auto& s) { return s.name == k; });
        if (schema == schemas.end()) {
            errors.push_back({key_path, detail::line_of(value), "unknown module"});
            continue;
        }
        const toml::table* mt = value.as_table();
        if (!mt) {
            errors.push_back({key_path, detail::line_of(value), "expected a table"});
            continue;
        }
        if (!schema->options) {
            if (!mt->empty()) errors.push_back({key_path, detail::line_of(value), "this module has no settings"});
            continue;
        }
        schema->options->apply(*mt, host.module_options[k], key_path, errors);
        host.configured_modules.push_back(k);
    }
    // Catalog order, so start-up order does not depend on how the file lists them.
    host.modules.clear();
    for (const auto& m : schemas)
        if (std::find(enabled.begin(), enabled.end(), m.name) != enabled.end()) host.modules.push_back(m.name);
}

// Domains are compared as DNS compares them (ASCII case, a trailing dot); `starling serve`
// checks them fully (RFC 7622) when it starts.
std::string comparable_domain(std::string_view domain) {
    std::string out{domain};
    if (!out.empty() && out.back() == '.') out.pop_back();
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// [hosts."<domain>"]: a served domain beyond [server] domain.
void load_hosts(const toml::table& root, const std::vector<ModuleSchema>& schemas, Config& c, ConfigErrors& errors) {
    const toml::node* node = root.get("hosts");
    if (!node) return;
    const toml::table* t = node->as_table();
    if (!t) {
        errors.push_back({"hosts", detail::line_of(*node), "expected a table of domains: [hosts.\"example.net\"]"});
        return;
    }
    for (const auto& [key, value] : *t) {
        std::string domain{key.str()};
        std::string path = "hosts.\"" + domain + "\"";
        const toml::table* ht = value.as_table();
        if (!ht) {
            errors.push_back({path, detail::line_of(value), "expected a table"});
            continue;
        }
        if (comparable_domain(domain).empty()) {
            errors.push_back({path, detail::line_of(value), "not a domain"});
            continue;
        }
        bool twice = false;
        for (const auto& other : c.hosts)
            if (comparable_domain(other.domain) == comparable_domain(domain)) {
                errors.push_back({path, detail::line_of(value),
                                  "the domain is listed twice (also in " + other.section + ")"});
                twice = true;
            }
        if (twice) continue;
        HostConfig host{.domain = domain,
                        .modules = c.hosts[0].modules,
                        .module_options = c.hosts[0].module_options,
                        .section = path,
                        .line = detail::line_of(value)};
        for (const auto& [setting, v] : *ht) {
            std::string k{setting.str()}, setting_path = path + "." + k;
            bool ok = true;
            if (k == "certificate") ok = detail::Codec<std::filesystem::path>::read(v, host.certificate);
            else if (k == "key") ok = detail::Codec<std::filesystem::path>::read(v, host.key);
            else if (k == "admins") ok = detail::Codec<std::vector<std::string>>::read(v, host.admins);
            else if (k == "modules") apply_modules(&v, setting_path, schemas, host, errors);
            else errors.push_back({setting_path, detail::line_of(v), "unknown setting (certificate, key, admins, modules)"});
            if (!ok) errors.push_back({setting_path, detail::line_of(v), k == "admins" ? "expected array of strings"
                                                                                       : "expected string (a path)"});
        }
        if (host.certificate.empty() != host.key.empty())
            errors.push_back({path, host.line, "set both certificate and key, or neither"});
        c.hosts.push_back(std::move(host));
    }
}

}  // namespace

std::filesystem::path HostConfig::certificate_path(const std::filesystem::path& data_dir) const {
    return certificate.empty() ? data_dir / "tls" / (domain + ".crt") : certificate;
}

std::filesystem::path HostConfig::key_path(const std::filesystem::path& data_dir) const {
    return key.empty() ? data_dir / "tls" / (domain + ".key") : key;
}

const HostConfig* Config::host(std::string_view domain) const {
    for (const auto& h : hosts)
        if (comparable_domain(h.domain) == comparable_domain(domain)) return &h;
    return nullptr;
}

Result<Config, std::vector<ConfigError>> parse(std::string_view text, std::string_view source_name,
                                               const std::vector<ModuleSchema>& modules) {
    ConfigErrors errors;
    toml::table root;
    try {
        root = toml::parse(text, source_name);
    } catch (const toml::parse_error& e) {
        errors.push_back({std::string(source_name), static_cast<int>(e.source().begin.line),
                          std::string(e.description())});
        return Failure{errors};
    }
    Config c;
    for (const auto& [key, node] : root) {
        static const char* known[] = {"server", "tls", "c2s", "http", "limits", "sasl", "modules", "hosts"};
        if (std::find(std::begin(known), std::end(known), key.str()) == std::end(known))
            // TOML allows an empty quoted key ([""]): the error still names it.
            errors.push_back({key.str().empty() ? "\"\"" : std::string(key.str()), detail::line_of(node), "unknown section"});
    }
    section(root, "server", server_options(), c.server, errors);
    section(root, "tls", tls_options(), c.tls, errors);
    section(root, "c2s", c2s_options(), c.c2s, errors);
    section(root, "http", http_options(), c.http, errors);
    section(root, "limits", limits_options(), c.limits, errors);
    section(root, "sasl", sasl_options(), c.sasl, errors);
    if (c.tls.certificate.empty() != c.tls.key.empty())
        errors.push_back({"tls", 0, "set both certificate and key, or neither"});
    // The first domain: [server] domain with [tls], [server] admins and [modules].
    HostConfig first{.domain = c.server.domain, .certificate = c.tls.certificate, .key = c.tls.key,
                     .admins = c.server.admins, .section = "server", .line = 0};
    for (const auto& m : modules) {
        if (m.enabled_by_default) first.modules.push_back(m.name);
        if (m.options) first.module_options[m.name] = m.options->defaults();
    }
    apply_modules(root.get("modules"), "modules", modules, first, errors);
    c.hosts.push_back(std::move(first));
    load_hosts(root, modules, c, errors);
    if (!errors.empty()) return Failure{errors};
    return c;
}

Result<Config, std::vector<ConfigError>> load(const std::optional<std::filesystem::path>& path,
                                              const std::vector<ModuleSchema>& modules) {
    if (!path) return parse("", "defaults", modules);
    std::ifstream in{*path};
    if (!in) return Failure{ConfigErrors{{path->string(), 0, "cannot read the file"}}};
    std::stringstream ss;
    ss << in.rdbuf();
    return parse(ss.str(), path->string(), modules);
}

std::string example(const std::vector<ModuleSchema>& modules) {
    std::string out =
        "# Starling configuration. Every setting is shown with its default value;\n"
        "# a file needs only the settings it changes. Generated by `starling config-example`.\n\n";
    auto add = [&](std::string_view name, auto& set, const auto& defaults) {
        out += fmt::format("[{}]\n", name);
        set.describe(out, defaults);
    };
    add("server", server_options(), ServerSection{});
    add("tls", tls_options(), TlsSection{});
    add("c2s", c2s_options(), C2sSection{});
    add("http", http_options(), HttpSection{});
    add("limits", limits_options(), LimitsSection{});
    add("sasl", sasl_options(), SaslSection{});
    std::vector<std::string> enabled;
    for (const auto& m : modules)
        if (m.enabled_by_default) enabled.push_back(m.name);
    out += "[modules]\n# Modules to load, from: ";
    for (std::size_t i = 0; i < modules.size(); ++i) out += (i ? ", " : "") + modules[i].name;
    out += fmt::format("\nenabled = {}\n\n", detail::Codec<std::vector<std::string>>::show(enabled));
    for (const auto& m : modules) {
        if (!m.options) continue;
        out += fmt::format("[modules.{}]\n", m.name);
        m.options->describe(out);
    }
    out +=
        "# More domains on this server, one section each with what differs from the first domain:\n"
        "# its certificate and key (default: a self-signed pair made under data_dir/tls on first\n"
        "# start), its administrators, and its modules and their options, which start as above.\n"
        "# Accounts are per domain: alice@example.net is not alice@" + ServerSection{}.domain + ".\n"
        "#\n"
        "# [hosts.\"example.net\"]\n"
        "# certificate = \"/etc/starling/example.net.crt\"\n"
        "# key = \"/etc/starling/example.net.key\"\n"
        "# admins = [\"admin@example.net\"]\n"
        "#\n"
        "# [hosts.\"example.net\".modules.register]\n"
        "# allow_registration = true\n";
    return out;
}

}  // namespace starling::config
