// The configuration loader on arbitrary TOML: a configuration or errors, each naming a key
// and saying what is wrong; never a crash or an exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "server/config/config.hpp"
#include "server/config/options.hpp"
#include "server/modules/catalog.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto schemas = starling::server::module_schemas();
    std::string_view text{reinterpret_cast<const char*>(data), size};
    auto config = starling::config::parse(text, "fuzz.toml", schemas);
    if (config) return 0;
    FUZZ_CHECK(!config.error().empty(), "a refusal without an error");
    for (const auto& error : config.error()) {
        FUZZ_CHECK(!error.key.empty(), "an error that names no key");
        FUZZ_CHECK(!error.message.empty(), "an error that says nothing");
        FUZZ_CHECK(error.line >= 0, "an error on a negative line");
    }
    return 0;
}
