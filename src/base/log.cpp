#include "base/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace starling::log {

void init() {
    auto logger = spdlog::stderr_color_mt("starling");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
    spdlog::set_default_logger(logger);
    spdlog::flush_on(spdlog::level::info);
}

std::string printable(std::string_view text, std::size_t limit) {
    std::string out;
    for (unsigned char c : text.substr(0, limit)) {
        if (c < 0x20 || c == 0x7f || c == '\\') out += fmt::format("\\x{:02x}", c);
        else out.push_back(static_cast<char>(c));
    }
    if (text.size() > limit) out += "...";
    return out;
}

bool set_level(std::string_view name) {
    auto level = spdlog::level::from_str(std::string(name));
    if (level == spdlog::level::off && name != "off") return false;
    spdlog::set_level(level);
    return true;
}

}  // namespace starling::log
