#pragma once
// Module: a feature. It registers its handlers through the ModuleContext in its constructor
// and is destroyed with its host. One instance per (host, shard), so a module's members are
// shard-local and need no locks.
#include <any>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "server/module/module_context.hpp"

namespace starling::config { class ModuleOptions; }
namespace starling::storage { class Database; }

namespace starling::server {

class Module {
public:
    virtual ~Module() = default;
};

struct Xep {
    int number;
    std::string_view version;  // the version implemented
    std::string_view title;
};

// What a module declares: the catalog lists these, the config loader reads the options, the
// compliance table in the README is generated from the XEPs.
struct ModuleInfo {
    std::string_view name;
    std::string_view description;
    std::vector<Xep> xeps;
    // RFC sections the module implements, e.g. {"RFC 6121 §2", "Roster management"}.
    std::vector<std::pair<std::string_view, std::string_view>> rfcs;
    bool enabled_by_default = true;
    const config::ModuleOptions* options = nullptr;  // null: no settings
    std::unique_ptr<Module> (*create)(ModuleContext& context, const std::any& options) = nullptr;
    // Creates or upgrades the module's own tables (beyond the core's stores). Runs at
    // start-up and in the CLI before anything else, in one transaction with every store's,
    // so that a failed upgrade changes nothing. Null: the module has no tables of its own.
    void (*prepare_tables)(storage::Database& db) = nullptr;
    // Deletes everything the module stored in its own tables for an account on its host
    // (`starling user del`, in-band cancellation). Runs on the storage thread or in the CLI,
    // inside the deletion's transaction. Null: the module stores nothing per account there.
    void (*remove_account)(storage::Database& db, const stores::Owner& account) = nullptr;
};

template <class M>
std::unique_ptr<Module> create_module(ModuleContext& context, const std::any&) {
    return std::make_unique<M>(context);
}
template <class M, class Options>
std::unique_ptr<Module> create_module_with_options(ModuleContext& context, const std::any& options) {
    return std::make_unique<M>(context, std::any_cast<const Options&>(options));
}


}  // namespace starling::server
