// XEP-0092 Software Version: the server's name and version, and its OS unless hidden.
#include <sys/utsname.h>

#include "server/config/options.hpp"
#include "server/module/module.hpp"
#include "xmpp/namespaces.hpp"

#ifndef STARLING_VERSION
#define STARLING_VERSION "0.0.0"
#endif

namespace starling::version {

using namespace server;

struct Options {
    bool show_os = false;
};

class VersionModule final : public Module {
public:
    VersionModule(ModuleContext& ctx, const Options& options) {
        std::string os;
        if (options.show_os) {
            utsname u{};
            if (uname(&u) == 0) os = std::string(u.sysname) + " " + u.release;
        }
        ctx.disco().add_feature(ns::version);
        ctx.iq().on_get(ns::version, "query", To::host, [os](IqRequest& request) {
            xml::Element query{"query", std::string(ns::version)};
            query.add_child("name", std::string(ns::version)).add_text("Starling");
            query.add_child("version", std::string(ns::version)).add_text(STARLING_VERSION);
            if (!os.empty()) query.add_child("os", std::string(ns::version)).add_text(os);
            request.reply(std::move(query));
        });
    }
};

const config::ModuleOptionsOf<Options> options{config::OptionSet<Options>{}.add(
    "show_os", &Options::show_os, "Include the operating system in the answer (it helps attackers pick exploits)")};

extern const ModuleInfo info{
    .name = "version",
    .description = "Tells the server's software name and version",
    .xeps = {{92, "1.1", "Software Version"}},
    .options = &options,
    .create = create_module_with_options<VersionModule, Options>,
};

}  // namespace starling::version
