// starling check: everything that would stop `serve`, found before it runs. Each problem
// is one line naming the setting (and the line of the file); the exit code is 1 if any.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

    auto domain = xmpp::Jid::parse(config->server.domain);
    if (!domain || !domain->is_domain()) problem("server.domain", "\"" + config->server.domain + "\" is not a valid domain");

    if (!config->tls.certificate.empty()) {
        auto tls = net::TlsContext::load(config->tls.certificate, config->tls.key);
        if (!tls) problem("tls.certificate", tls.error());
        else if (!tls->covers(config->server.domain))
            problem("tls.certificate", config->tls.certificate.string() + " does not name " + config->server.domain);
    } else if (std::filesystem::exists(config->certificate_path())) {
        auto tls = net::TlsContext::load(config->certificate_path(), config->key_path());
        if (!tls) problem("tls", "the generated certificate is unusable: " + tls.error());
    } else {
        std::cout << "tls: a self-signed certificate will be made at " << config->certificate_path().string() << "\n";
    }

    for (const auto& address : config->c2s.interfaces)
        for (auto [key, port] : {std::pair{"c2s.port", config->c2s.port}, {"c2s.direct_tls_port", config->c2s.direct_tls_port}}) {
            if (port == 0) continue;
            std::string error = try_bind(address, port);
            if (!error.empty()) problem(key, address + ":" + std::to_string(port) + ": " + error);
        }
    if (config->c2s.port && config->c2s.port == config->c2s.direct_tls_port)
        problem("c2s.direct_tls_port", "the same as c2s.port");

    if (problems) return 1;
    std::cout << "configuration ok" << (path ? " (" + path->string() + ")" : std::string(" (defaults)")) << "\n";
    return 0;
}

}  // namespace starling::app
