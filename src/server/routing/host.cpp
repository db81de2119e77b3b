#include "server/routing/host.hpp"

#include <algorithm>

#include "server/config/config.hpp"
#include "server/routing/router.hpp"
#include "server/server.hpp"

namespace starling::server {

Host::Host(const config::Config& config, const config::HostConfig& settings, xmpp::Jid domain)
    : config_{config}, settings_{settings}, domain_{std::move(domain)} {}
Host::~Host() {
    modules_.clear();  // before the tables their handlers live in
}

void Host::load_modules(Server& server, Router& router, const std::vector<const ModuleInfo*>& catalog) {
    for (const ModuleInfo* info : catalog) {
        if (std::find(settings_.modules.begin(), settings_.modules.end(), info->name) == settings_.modules.end()) continue;
        CoreServices core{[&router](xmpp::Stanza s) { router.send_from_module(std::move(s)); }, server.storage(),
                          [&router](const xmpp::BareJid& account) { return router.resources_of(account); },
                          [&router](const xmpp::BareJid& account) { return router.available_resources(account); },
                          server.hashing(),
                          [&server](xmpp::BareJid account) { return server.remove_account(std::move(account)); },
                          [&router](const xmpp::BareJid& account, xmpp::StreamError error,
                                    std::optional<xmpp::Jid> keep) {
                              router.close_sessions(account, std::move(error), std::move(keep));
                          },
                          [&router](const xmpp::BareJid& account, std::function<void(Session&)> fn) {
                              router.for_each_session(account, std::move(fn));
                          },
                          [&router](xmpp::Stanza s) { router.route(std::move(s)); },
                          [&router](xmpp::Stanza iq, std::chrono::milliseconds timeout) {
                              return router.query(std::move(iq), timeout);
                          },
                          [&router](Service& service) { router.add_service(service); },
                          [&router](const xmpp::Jid& from) { router.cancel_queries(from); },
                          router.shard(),
                          server.shards().size(),
                          [&server](const xmpp::BareJid& jid) { return server.owner_of(jid); },
                          [&server](std::size_t shard) { return server.shards().at(shard).executor(); },
                          [&server, domain = domain_, name = std::string(info->name)](std::size_t shard) -> Module& {
                              return server.module_on(shard, domain, name);
                          },
                          server.caps()};
        auto ctx = std::make_unique<ModuleContext>(std::string(info->name), domain_, config_, settings_, hooks_, iq_,
                                                   disco_, exports_, std::move(core));
        static const std::any no_options;
        auto opts = settings_.module_options.find(std::string(info->name));
        modules_.push_back(info->create(*ctx, opts == settings_.module_options.end() ? no_options : opts->second));
        contexts_.push_back(std::move(ctx));
    }
}

Module* Host::module(std::string_view name) const {
    for (std::size_t i = 0; i < contexts_.size(); ++i)
        if (contexts_[i]->module_name() == name) return modules_[i].get();
    return nullptr;
}

}  // namespace starling::server
