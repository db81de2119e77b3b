// Echo: the worked example of a module that serves a subdomain (docs/writing-a-module.md).
// echo.<domain> shows up in the host's disco#items and answers disco#info itself. A message
// to any name@echo.<domain> comes back from that entity, numbered per entity: the count
// lives in the module instance on the entity's owner shard, which sees all of its traffic.
// Each entity keeps what it received in an archive store (the last 100), and "history"
// answers with the newest three. A message "ping me" to echo.<domain> makes the service ping
// the sender (an outgoing iq) and say what came back. Off by default; one instance per shard.
#include <string>
#include <unordered_map>

#include "server/config/options.hpp"
#include "server/module/module.hpp"
#include "server/module/service_disco.hpp"
#include "xml/parse_element.hpp"
#include "xml/writer.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::echo {

using namespace server;
using xmpp::Stanza;
using xmpp::StanzaKind;

namespace {

constexpr std::string_view echo_ns = "urn:starling:echo";
constexpr std::string_view archive_name = "echo";
constexpr std::size_t kept_per_entity = 100;

struct Options {
    std::string subdomain = "echo";
};

Stanza chat(const xmpp::Jid& from, const xmpp::Jid& to, std::string_view body) {
    xml::Element message{"message", std::string(ns::client)};
    message.set_attribute("type", "chat");
    message.add_child("body", std::string(ns::client)).add_text(body);
    return Stanza{StanzaKind::message, std::move(message), from, to};
}

}  // namespace

class EchoModule final : public Module {
public:
    EchoModule(ModuleContext& ctx, const Options& options)
        : ctx_{ctx}, service_{ctx.add_service(options.subdomain, "Echo")}, archive_{ctx.archive(archive_name)} {
        service_.disco.add_identity({"component", "generic", "Echo"});
        service_.disco.add_feature(echo_ns);
        answer_disco(service_);
        service_.on_entity_stanza = [this](Stanza s) { to_entity(std::move(s)); };
        service_.on_domain_stanza = [this](Stanza s) { to_service(std::move(s)); };
    }

private:
    // On the entity's owner shard.
    void to_entity(Stanza stanza) {
        if (stanza.is_iq_request())
            return ctx_.send(stanza.error_reply({xmpp::StanzaErrorCondition::service_unavailable}));
        if (stanza.kind() != StanzaKind::message || stanza.is_error() || !stanza.from()) return;
        std::string body = stanza.element().child_text("body", ns::client);
        if (body == "history") return ctx_.spawn(history(stanza.to()->bare(), *stanza.from()));
        std::uint64_t n = ++received_[stanza.to()->bare()];
        ctx_.send(chat(stanza.to()->bare().jid(), *stanza.from(), std::to_string(n) + ": " + body));
        ctx_.spawn(keep(std::move(stanza)));
    }

    Task<void> keep(Stanza stanza) {
        storage::ArchiveItem item{{}, now_us(), stanza.from()->bare().str(), xml::to_string(stanza.element())};
        stores::Owner entity = stores::Owner::of(stanza.to()->bare());
        co_await archive_.append(std::move(entity), std::move(item), kept_per_entity);
    }

    // Answers from the store, so it holds across restarts and whichever shard asked.
    Task<void> history(xmpp::BareJid entity, xmpp::Jid asker) {
        stores::Owner owner = stores::Owner::of(entity);
        storage::ArchiveRange newest{.newest = true, .max = 3};
        auto page = co_await archive_.query(std::move(owner), std::move(newest));
        std::string text = "history:";
        for (const auto& item : page ? page->items : std::vector<storage::ArchiveItem>{})
            if (auto message = xml::parse_element(item.payload))
                text += " [" + message->child_text("body", ns::client) + "]";
        ctx_.send(chat(entity.jid(), asker, text));
    }

    static std::int64_t now_us() {
        using namespace std::chrono;
        return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
    }

    // Where it arrives.
    void to_service(Stanza stanza) {
        if (stanza.kind() != StanzaKind::message || !stanza.from()) return;
        if (stanza.element().child_text("body", ns::client) == "ping me") ctx_.spawn(ping(*stanza.from()));
    }

    Task<void> ping(xmpp::Jid who) {
        xml::Element iq{"iq", std::string(ns::client)};
        iq.set_attribute("type", "get");
        iq.add_child("ping", std::string(ns::ping));
        Stanza request{StanzaKind::iq, std::move(iq), service_.domain, who};
        Stanza answer = co_await ctx_.query(std::move(request), std::chrono::seconds{10});
        std::string what = "result";
        if (answer.is_error()) {
            const xml::Element* error = answer.element().find_child("error", ns::client);
            const xml::Element* condition = error ? error->first_child_element() : nullptr;
            what = "error " + (condition ? condition->name() : std::string("?"));
        }
        ctx_.send(chat(service_.domain, who, "you answered: " + what));
    }

    ModuleContext& ctx_;
    Service& service_;
    stores::Archive archive_;  // owner: the entity (name@echo.<domain>)
    std::unordered_map<xmpp::BareJid, std::uint64_t> received_;  // by entity
};

const config::ModuleOptionsOf<Options> options{config::OptionSet<Options>{}.add(
    "subdomain", &Options::subdomain, "The service's address is <subdomain>.<server domain>")};

extern const ModuleInfo info{
    .name = "echo",
    .description = "An example service at a subdomain that echoes messages (docs/writing-a-module.md)",
    .enabled_by_default = false,
    .options = &options,
    .create = create_module_with_options<EchoModule, Options>,
};

}  // namespace starling::echo
