// XEP-0202 Entity Time: the server's clock, in UTC (XEP-0082 format).
#include <chrono>

#include <fmt/chrono.h>

#include "server/module/module.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::entity_time {

using namespace server;

class TimeModule final : public Module {
public:
    explicit TimeModule(ModuleContext& ctx) {
        ctx.disco().add_feature(ns::time);
        ctx.iq().on_get(ns::time, "time", To::host, [](IqRequest& request) {
            auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
            xml::Element t{"time", std::string(ns::time)};
            t.add_child("tzo", std::string(ns::time)).add_text("+00:00");
            t.add_child("utc", std::string(ns::time)).add_text(fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", now));
            request.reply(std::move(t));
        });
    }
};

extern const ModuleInfo info{
    .name = "time",
    .description = "Tells the server's time",
    .xeps = {{202, "2.0", "Entity Time"}, {82, "1.1.1", "XMPP Date and Time Profiles"}},
    .create = create_module<TimeModule>,
};

}  // namespace starling::entity_time
