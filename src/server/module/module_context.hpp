#pragma once
// ModuleContext: everything a module may touch, and nothing more. Built by the host for each
// module on each shard; handlers registered through it are tagged with the module's name.
#include <functional>
#include <string>

#include "server/module/disco_registry.hpp"
#include "server/module/hooks.hpp"
#include "server/module/iq_table.hpp"
#include "xmpp/stanza.hpp"

namespace starling::config { struct Config; }

namespace starling::server {

class ModuleContext {
public:
    using Send = std::function<void(xmpp::Stanza)>;
    ModuleContext(std::string module, const xmpp::Jid& domain, const config::Config& config, Hooks& hooks,
                  IqTable& iq, DiscoRegistry& disco, Send send)
        : module_{std::move(module)}, domain_{domain}, config_{config}, hooks_{hooks}, iq_{iq}, disco_{disco},
          send_{std::move(send)} {}

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
    void send(xmpp::Stanza stanza) const { send_(std::move(stanza)); }

private:
    std::string module_;
    const xmpp::Jid& domain_;
    const config::Config& config_;
    Hooks& hooks_;
    IqTable& iq_;
    DiscoRegistry& disco_;
    Send send_;
};

}  // namespace starling::server
