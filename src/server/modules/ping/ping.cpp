// XEP-0199 XMPP Ping: the server answers pings to itself and, on an account's behalf, to
// the account's bare JID (§4.2 and §4.3).
#include "server/module/module.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::ping {

using namespace server;

class PingModule final : public Module {
public:
    explicit PingModule(ModuleContext& ctx) {
        ctx.disco().add_feature(ns::ping);
        ctx.disco().add_feature(ns::ping, To::account);
        auto pong = [](IqRequest& request) { request.reply(); };
        ctx.iq().on_get(ns::ping, "ping", To::host, pong);
        ctx.iq().on_get(ns::ping, "ping", To::account, pong);
    }
};

extern const ModuleInfo info{
    .name = "ping",
    .description = "Answers XMPP pings to the server and to accounts",
    .xeps = {{199, "2.0.1", "XMPP Ping"}},
    .create = create_module<PingModule>,
};

}  // namespace starling::ping
