#include "server/module/service_disco.hpp"

#include "server/module/service.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server {

xml::Element disco_info_query(const DiscoRegistry& registry, To to) {
    xml::Element query{"query", std::string(ns::disco_info)};
    if (to == To::host)
        for (const auto& id : registry.identities()) {
            auto& e = query.add_child("identity", std::string(ns::disco_info));
            e.set_attribute("category", id.category).set_attribute("type", id.type);
            if (!id.name.empty()) e.set_attribute("name", id.name);
        }
    for (const auto& f : registry.features(to))
        query.add_child("feature", std::string(ns::disco_info)).set_attribute("var", f);
    return query;
}

xml::Element disco_items_query(const DiscoRegistry& registry) {
    xml::Element query{"query", std::string(ns::disco_items)};
    for (const auto& item : registry.items()) {
        auto& e = query.add_child("item", std::string(ns::disco_items));
        e.set_attribute("jid", item.jid);
        if (!item.name.empty()) e.set_attribute("name", item.name);
        if (!item.node.empty()) e.set_attribute("node", item.node);
    }
    return query;
}

void answer_disco(Service& service) {
    const DiscoRegistry& registry = service.disco;
    service.disco.add_feature(ns::disco_info);
    service.disco.add_feature(ns::disco_items);
    // XEP-0030 §3.1: nodes the service does not answer itself are item-not-found.
    service.iq.on_get(ns::disco_info, "query", To::host, [&registry](IqRequest& request) {
        if (!request.payload().attribute("node").empty())
            return request.error(xmpp::StanzaErrorCondition::item_not_found);
        request.reply(disco_info_query(registry));
    });
    service.iq.on_get(ns::disco_items, "query", To::host, [&registry](IqRequest& request) {
        if (!request.payload().attribute("node").empty())
            return request.error(xmpp::StanzaErrorCondition::item_not_found);
        request.reply(disco_items_query(registry));
    });
}

}  // namespace starling::server
