#include "server/module/module_context.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <stdexcept>

#include "base/log.hpp"
#include "net/call_on.hpp"
#include "net/shard.hpp"
#include "server/config/config.hpp"
#include "server/storage/accounts/account_store.hpp"
#include "server/module/service.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server {

ModuleContext::ModuleContext(std::string module, const xmpp::Jid& domain, const config::Config& config,
                             const config::HostConfig& settings, Hooks& hooks, IqTable& iq, DiscoRegistry& disco,
                             Exports& exports, CoreServices core)
    : module_{std::move(module)}, domain_{domain}, config_{config}, hooks_{hooks}, iq_{iq}, disco_{disco},
      exports_{exports}, core_{std::move(core)} {
    // `starling check` names an admin that is no bare JID; here such an entry matches nobody.
    for (const auto& admin : settings.admins)
        if (auto jid = xmpp::BareJid::parse(admin)) admins_.push_back(*jid);
}

ModuleContext::~ModuleContext() = default;

bool ModuleContext::is_admin(const xmpp::BareJid& jid) const {
    return std::find(admins_.begin(), admins_.end(), jid) != admins_.end();
}

Task<accounts::Credentials> ModuleContext::derive_credentials(std::string password) const {
    auto derive = [password = std::move(password), iterations = config_.sasl.scram_iterations] {
        return storage::AccountStore::derive_all(password, iterations);
    };
    auto hashing = core_.hashing.get_executor();
    accounts::Credentials credentials = co_await net::call_on(hashing, std::move(derive));
    co_return credentials;
}

void ModuleContext::spawn(Task<void> task) const {
    // This module's shard, also from the constructor (the task starts once the shard runs).
    boost::asio::co_spawn(core_.executor_of(core_.shard), std::move(task), [module = module_](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log::error("module {}: task failed: {}", module, ex.what());
        }
    });
}

Service& ModuleContext::add_service(std::string_view label, std::string name) {
    auto domain = xmpp::Jid::parse(std::string(label) + "." + domain_.str());
    if (!domain || !domain->is_domain())
        throw std::runtime_error("module " + module_ + ": \"" + std::string(label) + "\" makes no valid domain");
    auto service = std::make_unique<Service>(*domain, std::move(name));
    disco_.add_item({service->domain.str(), service->name, {}});
    core_.add_service(*service);
    services_.push_back(std::move(service));
    return *services_.back();
}

}  // namespace starling::server

namespace starling::server {

Task<CapsFeaturesPtr> ModuleContext::learn_caps(xmpp::Jid asker, xmpp::Jid full, xmpp::Caps caps) const {
    if (CapsFeaturesPtr known = core_.caps.note(full, caps)) co_return known;
    if (!core_.caps.start_asking(caps)) {
        // Another task asks that version now: its answer serves this one too.
        auto executor = core_.executor_of(core_.shard);
        auto timer = std::make_shared<boost::asio::steady_timer>(executor, std::chrono::seconds{11});
        auto wake = [timer, executor] { boost::asio::post(executor, [timer] { timer->cancel(); }); };
        if (core_.caps.when_answered(caps, std::move(wake))) {
            boost::system::error_code ignored;
            co_await timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
        }
        co_return core_.caps.features_of(full);
    }
    // XEP-0115 §6.2: the version's features, by the node 'node#ver'.
    xml::Element iq{"iq", std::string(ns::client)};
    iq.set_attribute("type", "get");
    iq.add_child("query", std::string(ns::disco_info)).set_attribute("node", caps.node + '#' + caps.ver);
    xmpp::Stanza request{xmpp::StanzaKind::iq, std::move(iq), asker, full};
    Task<xmpp::Stanza> asking = query(std::move(request), std::chrono::seconds{10});
    xmpp::Stanza answer = co_await std::move(asking);
    const xml::Element* found = answer.type() == "result" ? answer.element().find_child("query", ns::disco_info) : nullptr;
    CapsFeaturesPtr features = core_.caps.finish_asking(caps, found);
    if (!features && found)
        log::info("caps: {} answered for {} ver {} with features that do not hash to it; not kept", full.str(),
                  caps.node, caps.ver);
    co_return features;
}

}  // namespace starling::server
