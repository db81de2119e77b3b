#include "base/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace starling::log {

void init() {
    auto logger = spdlog::stderr_color_mt("starling");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
    spdlog::set_default_logger(logger);
    spdlog::flush_on(spdlog::level::info);
}

bool set_level(std::string_view name) {
    auto level = spdlog::level::from_str(std::string(name));
    if (level == spdlog::level::off && name != "off") return false;
    spdlog::set_level(level);
    return true;
}

}  // namespace starling::log
