#pragma once
// The `starling` subcommands other than serve. Each returns the process exit code and
// prints readable messages (never a stack trace).
#include <filesystem>
#include <optional>
#include <string>

#include "server/config/config.hpp"

namespace starling::app {

// Loads the config (or the defaults) and prints every error with key and line.
std::optional<config::Config> load_config(const std::optional<std::filesystem::path>& path);

int user_add(const config::Config& config, const std::string& user);
int user_del(const config::Config& config, const std::string& user);
int user_passwd(const config::Config& config, const std::string& user);
// Every account, or those of one served domain.
int user_list(const config::Config& config, const std::string& domain);
int user_import(const config::Config& config);
int check(const std::optional<std::filesystem::path>& path);
int compliance();

}  // namespace starling::app
