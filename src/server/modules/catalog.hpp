#pragma once
// The list of compiled-in modules (catalog.cpp), handed to the Server by the binary.
#include <vector>

#include "server/config/config.hpp"
#include "server/module/module.hpp"

namespace starling::server {

const std::vector<const ModuleInfo*>& catalog();
// The catalog as the config loader sees it.
std::vector<config::ModuleSchema> module_schemas();
// The same for any list of modules (a test's catalog with modules of its own).
std::vector<config::ModuleSchema> module_schemas(const std::vector<const ModuleInfo*>& modules);

}  // namespace starling::server
