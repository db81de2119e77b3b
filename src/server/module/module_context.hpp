#pragma once
// ModuleContext: everything a module may touch, and nothing more. Built by the host for each
// module on each shard; handlers registered through it are tagged with the module's name.
#include <functional>
#include <string>
#include <vector>

#include "server/module/disco_registry.hpp"
#include "server/module/hooks.hpp"
#include "server/module/iq_table.hpp"
#include "xmpp/stanza.hpp"

namespace starling::config { struct Config; }
namespace starling::storage { class StorageThread; }

namespace starling::server {

// What the core lends every module on a shard.
struct CoreServices {
    std::function<void(xmpp::Stanza)> send;
    storage::StorageThread& storage;
    // The bound full JIDs of a local account; only on the account's owner shard.
    std::function<std::vector<xmpp::Jid>(const xmpp::BareJid&)> resources_of;
};

class ModuleContext {
public:
    ModuleContext(std::string module, const xmpp::Jid& domain, const config::Config& config, Hooks& hooks,
                  IqTable& iq, DiscoRegistry& disco, CoreServices core)
        : module_{std::move(module)}, domain_{domain}, config_{config}, hooks_{hooks}, iq_{iq}, disco_{disco},
          core_{std::move(core)} {}

    const std::string& module_name() const { return module_; }
    const xmpp::Jid& domain() const { return domain_; }
    const config::Config& config() const { return config_; }
    IqTable& iq() { return iq_; }
    DiscoRegistry& disco() { return disco_; }
    template <class E, class F>
    void on(F handler, Priority priority = Priority::normal) {
        hooks_.on<E>(std::function(std::move(handler)), priority, module_);
    }
    // Routes a stanza the module originates (its 'from' must be set).
    void send(xmpp::Stanza stanza) const { core_.send(std::move(stanza)); }
    // The SQLite storage thread: a module's store runs its queries there.
    storage::StorageThread& storage() const { return core_.storage; }
    // Owner shard of `account` only (account-addressed events and IQs run there).
    std::vector<xmpp::Jid> resources_of(const xmpp::BareJid& account) const { return core_.resources_of(account); }

private:
    std::string module_;
    const xmpp::Jid& domain_;
    const config::Config& config_;
    Hooks& hooks_;
    IqTable& iq_;
    DiscoRegistry& disco_;
    CoreServices core_;
};

}  // namespace starling::server
