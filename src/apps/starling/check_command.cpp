// starling check: everything that would stop `serve`, found before it runs. Each problem
// is one line naming the setting (and the line of the file); the exit code is 1 if any.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>

#include "apps/starling/commands.hpp"
#include "net/tls_context.hpp"
#include "xmpp/jid.hpp"

namespace starling::app {

namespace {

// Tries to bind the address the way serve will; "" when it could.
std::string try_bind(const std::string& address, std::uint16_t port) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof *v4;
    } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof *v6;
    } else {
        return "not an IP address";
    }
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0) return std::strerror(errno);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    std::string error;
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) error = std::strerror(errno);
    close(fd);
    return error;
}

}  // namespace

int check(const std::optional<std::filesystem::path>& path) {
    auto config = load_config(path);
    if (!config) return 1;
    int problems = 0;
    auto problem = [&](const std::string& key, const std::string& what) {
        std::cerr << "starling: " << key << ": " << what << "\n";
        ++problems;
    };

    for (const auto& host : config->hosts) {
        std::string key = host.section == "server" ? "server.domain" : host.section;
        auto domain = xmpp::Jid::parse(host.domain);
        if (!domain || !domain->is_domain()) problem(key, "\"" + host.domain + "\" is not a valid domain");
        // Settings for a module the domain does not load do nothing: in a domain's own
        // section, a mistake. The top-level [modules.*] tables also serve as the defaults
        // other domains inherit (and the example file sets them all), so there it is a note.
        for (const auto& module : host.configured_modules) {
            if (std::find(host.modules.begin(), host.modules.end(), module) != host.modules.end()) continue;
            if (host.section == "server")
                std::cout << "modules." << module << ": settings for a module " << host.domain
                          << " does not enable (other domains may)\n";
            else
                problem(host.section + ".modules." + module, "settings for a module " + host.domain + " does not enable");
        }
        for (const auto& admin : host.admins) {
            auto jid = xmpp::Jid::parse(admin);
            if (!jid || !jid->has_local() || jid->has_resource())
                problem(host.section == "server" ? "server.admins" : host.section + ".admins",
                        "\"" + admin + "\" is not a bare JID (user@domain)");
        }
        std::string cert_key = host.section == "server" ? "tls.certificate" : host.section + ".certificate";
        auto cert = host.certificate_path(config->server.data_dir);
        if (!host.certificate.empty() || std::filesystem::exists(cert)) {
            auto tls = net::TlsContext::load(cert, host.key_path(config->server.data_dir));
            if (!tls) problem(cert_key, tls.error());
            else if (!tls->covers(host.domain)) problem(cert_key, cert.string() + " does not name " + host.domain);
        } else {
            std::cout << "tls: a self-signed certificate for " << host.domain << " will be made at " << cert.string()
                      << "\n";
        }
    }

    for (const auto& address : config->c2s.interfaces)
        for (auto [key, port] : {std::pair{"c2s.port", config->c2s.port}, {"c2s.direct_tls_port", config->c2s.direct_tls_port}}) {
            if (port == 0) continue;
            std::string error = try_bind(address, port);
            if (!error.empty()) problem(key, address + ":" + std::to_string(port) + ": " + error);
        }
    if (config->c2s.port && config->c2s.port == config->c2s.direct_tls_port)
        problem("c2s.direct_tls_port", "the same as c2s.port");
    for (const auto& address : config->http.interfaces)
        for (auto [key, port] : {std::pair{"http.port", config->http.port}, {"http.tls_port", config->http.tls_port}}) {
            if (port == 0) continue;
            std::string error = try_bind(address, port);
            if (!error.empty()) problem(key, address + ":" + std::to_string(port) + ": " + error);
        }
    if (config->http.port && config->http.port == config->http.tls_port) problem("http.tls_port", "the same as http.port");
    if (!config->http.static_dir.empty() && !std::filesystem::is_directory(config->http.static_dir))
        problem("http.static_dir", config->http.static_dir.string() + " is not a folder");

    if (problems) return 1;
    std::cout << "configuration ok" << (path ? " (" + path->string() + ")" : std::string(" (defaults)")) << "\n";
    return 0;
}

}  // namespace starling::app
