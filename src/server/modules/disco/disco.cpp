// XEP-0030 Service Discovery: the server's identity and the features every module
// registered, and the features answered on an account's behalf (its bare JID).
#include "server/module/module.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::disco {

using namespace server;

class DiscoModule final : public Module {
public:
    explicit DiscoModule(ModuleContext& ctx) : registry_{ctx.disco()} {
        registry_.add_identity({"server", "im", "Starling"});
        registry_.add_feature(ns::disco_info);
        registry_.add_feature(ns::disco_items);
        registry_.add_feature(ns::disco_info, To::account);
        registry_.add_feature(ns::disco_items, To::account);
        ctx.iq().on_get(ns::disco_info, "query", To::host, [this](IqRequest& r) { info(r, To::host); });
        ctx.iq().on_get(ns::disco_info, "query", To::account, [this](IqRequest& r) { info(r, To::account); });
        ctx.iq().on_get(ns::disco_items, "query", To::host, [this](IqRequest& r) { items(r); });
        ctx.iq().on_get(ns::disco_items, "query", To::account, [this](IqRequest& r) { items(r); });
    }

private:
    void info(IqRequest& request, To to) {
        // Nodes are not offered yet: §3.1, item-not-found for an unknown node.
        if (!request.payload().attribute("node").empty())
            return request.error(xmpp::StanzaErrorCondition::item_not_found);
        // §3.3 / RFC 6121: an account's information is for its owner only (and, later, its
        // subscribers); others learn nothing about whether it exists.
        if (to == To::account && request.from().bare() != request.stanza().to()->bare())
            return request.error(xmpp::StanzaErrorCondition::service_unavailable);
        xml::Element query{"query", std::string(ns::disco_info)};
        if (to == To::host) {
            for (const auto& id : registry_.identities()) {
                auto& e = query.add_child("identity", std::string(ns::disco_info));
                e.set_attribute("category", id.category).set_attribute("type", id.type);
                if (!id.name.empty()) e.set_attribute("name", id.name);
            }
        } else {
            query.add_child("identity", std::string(ns::disco_info))
                .set_attribute("category", "account")
                .set_attribute("type", "registered");
        }
        for (const auto& f : registry_.features(to))
            query.add_child("feature", std::string(ns::disco_info)).set_attribute("var", f);
        request.reply(std::move(query));
    }

    void items(IqRequest& request) {
        if (!request.payload().attribute("node").empty())
            return request.error(xmpp::StanzaErrorCondition::item_not_found);
        // No components or rooms yet: an empty list (MUC and PubSub will add theirs).
        request.reply(xml::Element{"query", std::string(ns::disco_items)});
    }

    DiscoRegistry& registry_;
};

extern const ModuleInfo info{
    .name = "disco",
    .description = "Service discovery: the server's identity and features",
    .xeps = {{30, "2.5.0", "Service Discovery"}},
    .create = create_module<DiscoModule>,
};

}  // namespace starling::disco
