// starling compliance: the table of specifications Starling implements, as Markdown. The
// core's list is here; each module declares its own XEPs, so the table cannot drift from
// the code (README.md carries a copy that a test keeps current).
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "apps/starling/commands.hpp"
#include "server/modules/catalog.hpp"

namespace starling::app {

namespace {

struct Row {
    std::string spec, title, version, where;
    int order;
};

}  // namespace

int compliance() {
    std::vector<Row> rows = {
        {"RFC 6120", "XMPP Core: streams, STARTTLS, SASL, binding, stanzas (client-to-server)", "", "core", 1},
        {"RFC 7622", "XMPP Address Format (PRECIS)", "", "core", 2},
        {"RFC 6121 §8", "Server rules for delivering stanzas", "", "core", 2},
        {"RFC 7590", "Use of TLS in XMPP (TLS 1.2+)", "", "core", 3},
        {"RFC 5802, RFC 7677", "SCRAM-SHA-1, -256 (and -512) with -PLUS", "", "core", 4},
        {"RFC 5929, RFC 9266", "Channel bindings tls-server-end-point, tls-exporter, tls-unique", "", "core", 5},
        {"RFC 4616", "SASL PLAIN (over TLS only)", "", "core", 6},
        {"RFC 7395", "XMPP over WebSocket (/xmpp-websocket on the HTTP ports)", "", "core", 7},
        {"XEP-0124", "Bidirectional-streams Over Synchronous HTTP (BOSH, /http-bind)", "1.11.2", "core", 124},
        {"XEP-0156", "Discovering Alternative XMPP Connection Methods (host-meta, host-meta.json)", "1.4.0", "core", 156},
        {"XEP-0206", "XMPP Over BOSH", "1.4", "core", 206},
        {"XEP-0368", "SRV records for XMPP over TLS (direct TLS port)", "1.1.0", "core", 368},
        {"XEP-0440", "SASL Channel-Binding Type Capability", "1.0.0", "core", 440},
    };
    for (const auto* m : server::catalog())
        for (const auto& [spec, title] : m->rfcs)
            rows.push_back({std::string(spec), std::string(title), "", "module `" + std::string(m->name) + "`", 100});
    for (const auto* m : server::catalog())
        for (const auto& x : m->xeps) {
            char number[16];
            std::snprintf(number, sizeof number, "XEP-%04d", x.number);
            rows.push_back({number, std::string(x.title), std::string(x.version), "module `" + std::string(m->name) + "`",
                            x.number});
        }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        bool a_rfc = a.spec.starts_with("RFC"), b_rfc = b.spec.starts_with("RFC");
        if (a_rfc != b_rfc) return a_rfc;
        return a.order < b.order;
    });
    std::cout << "| specification | title | version | where |\n| --- | --- | --- | --- |\n";
    for (const auto& r : rows)
        std::cout << "| " << r.spec << " | " << r.title << " | " << (r.version.empty() ? "" : r.version) << " | "
                  << r.where << " |\n";
    return 0;
}

}  // namespace starling::app
