#pragma once
// Logging for operators: one line per event. Connection events carry "c=<id>" and the
// remote address or JID, so a grep for one connection tells its whole story.
#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace starling::log {

// Sets the level by name (trace, debug, info, warn, error, off); false if the name is unknown.
bool set_level(std::string_view name);
void init();

// A client-supplied string made safe for one log line: control characters and backslashes
// escaped (so nobody can forge a second line for fail2ban), and at most `limit` bytes.
std::string printable(std::string_view text, std::size_t limit = 128);

using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::trace;
using spdlog::warn;

}  // namespace starling::log
