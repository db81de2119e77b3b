#pragma once
// Logging for operators: one line per event. Connection events carry "c=<id>" and the
// remote address or JID, so a grep for one connection tells its whole story.
#include <spdlog/spdlog.h>

#include <string_view>

namespace starling::log {

// Sets the level by name (trace, debug, info, warn, error, off); false if the name is unknown.
bool set_level(std::string_view name);
void init();

using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::trace;
using spdlog::warn;

}  // namespace starling::log
