#pragma once
// Host: one served domain on one shard: its hooks, IQ table, disco registry and module
// instances. Built at start-up, then only touched on its shard.
#include <memory>
#include <string>
#include <vector>

#include "server/module/disco_registry.hpp"
#include "server/module/exports.hpp"
#include "server/module/hooks.hpp"
#include "server/module/iq_table.hpp"
#include "server/module/module.hpp"
#include "xmpp/jid.hpp"

namespace starling::config { struct Config; struct HostConfig; }

namespace starling::server {

class Router;
class Server;

class Host {
public:
    Host(const config::Config& config, const config::HostConfig& settings, xmpp::Jid domain);
    ~Host();
    // Instantiates the enabled modules; throws on a configuration conflict (two IQ handlers).
    void load_modules(Server& server, Router& router, const std::vector<const ModuleInfo*>& catalog);

    const xmpp::Jid& domain() const { return domain_; }
    Hooks& hooks() { return hooks_; }
    IqTable& iq() { return iq_; }
    const DiscoRegistry& disco() const { return disco_; }
    DiscoRegistry& disco() { return disco_; }
    // A loaded module by name, or null.
    Module* module(std::string_view name) const;

private:
    const config::Config& config_;
    const config::HostConfig& settings_;
    xmpp::Jid domain_;
    Hooks hooks_;
    IqTable iq_;
    DiscoRegistry disco_;
    Exports exports_;
    std::vector<std::unique_ptr<ModuleContext>> contexts_;
    std::vector<std::unique_ptr<Module>> modules_;
};

}  // namespace starling::server
