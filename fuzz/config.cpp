// The configuration loader on arbitrary TOML: a configuration or errors, each naming a key
// and saying what is wrong; never a crash or an exception.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "server/config/config.hpp"
#include "server/config/options.hpp"

namespace {

namespace config = starling::config;

// Module options of every kind of value a module may declare, under module names the seeds
// use; the real modules' options are the same OptionSet code (it keeps this target off the
// whole server).
struct ModuleSettings {
    bool allow = false;
    std::uint32_t count = 5;
    std::chrono::seconds window{600};
    std::string text;
    std::vector<std::string> names;
};

const config::ModuleOptionsOf<ModuleSettings> settings{
    config::OptionSet<ModuleSettings>{}
        .add("allow_registration", &ModuleSettings::allow, "a switch")
        .add("registrations_per_address", &ModuleSettings::count, "a count")
        .add("window", &ModuleSettings::window, "seconds",
             std::function<std::string(const std::chrono::seconds&)>(
                 [](const std::chrono::seconds& s) { return s.count() > 0 ? std::string{} : "must be positive"; }))
        .add("name", &ModuleSettings::text, "a string")
        .add("names", &ModuleSettings::names, "a list")};

const std::vector<config::ModuleSchema> schemas{
    {"register", true, &settings}, {"roster", true, &settings}, {"echo", false, &settings}, {"disco", true, nullptr}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text{reinterpret_cast<const char*>(data), size};
    auto config = starling::config::parse(text, "fuzz.toml", schemas);
    if (config) {
        FUZZ_CHECK(!config->hosts.empty() && config->hosts.front().domain == config->server.domain,
                   "the first served domain is not [server] domain");
        for (const auto& host : config->hosts)
            FUZZ_CHECK(config->host(host.domain) != nullptr, "a served domain that host() does not find");
        return 0;
    }
    FUZZ_CHECK(!config.error().empty(), "a refusal without an error");
    for (const auto& error : config.error()) {
        FUZZ_CHECK(!error.key.empty(), "an error that names no key");
        FUZZ_CHECK(!error.message.empty(), "an error that says nothing");
        FUZZ_CHECK(error.line >= 0, "an error on a negative line");
    }
    return 0;
}
