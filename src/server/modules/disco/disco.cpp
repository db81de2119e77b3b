// XEP-0030 Service Discovery: the server's identity and the features every module
// registered, and the features answered on an account's behalf (its bare JID). With it, the
// server's own entity capabilities (XEP-0115: the verification string of its disco#info as
// a stream feature) and its contact addresses (XEP-0157, an XEP-0128 form in disco#info).
// One instance per shard; handlers run on the shard that dispatched them, and the caps
// verification string is computed once per shard, at the first stream that needs it (every
// module has registered by then).

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "server/config/options.hpp"
#include "server/module/events.hpp"
#include "server/module/module.hpp"
#include "server/module/presence_subscriptions.hpp"
#include "server/module/service_disco.hpp"
#include "xmpp/caps.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::disco {

using namespace server;

namespace {

using xmpp::caps_ns;
constexpr std::string_view caps_node = "https://starling.example/";
constexpr std::string_view data_ns = "jabber:x:data";
constexpr std::string_view serverinfo_type = "http://jabber.org/network/serverinfo";

// XEP-0157 §3: where to reach the people behind the service, as URIs (mailto:, xmpp:,
// https:).
struct Options {
    std::vector<std::string> abuse, admin, feedback, sales, security, support;
};

std::string check_addresses(const std::vector<std::string>& addresses) {
    for (const auto& a : addresses) {
        // A URI needs a scheme (RFC 3986 §3.1): letters first, then letters, digits, + - .
        auto colon = a.find(':');
        bool ok = colon != std::string::npos && colon > 0 && colon + 1 < a.size() &&
                  std::isalpha(static_cast<unsigned char>(a[0]));
        for (std::size_t i = 0; ok && i < colon; ++i) {
            auto c = static_cast<unsigned char>(a[i]);
            ok = std::isalnum(c) || c == '+' || c == '-' || c == '.';
        }
        if (!ok) return "'" + a + "' is not a URI (mailto:..., xmpp:..., https://...)";
    }
    return {};
}

// XEP-0128 / XEP-0004: the serverinfo form with a list-multi field per kind of address
// given; nullopt when no address is configured.
std::optional<xml::Element> contact_form(const Options& o) {
    const std::pair<std::string_view, const std::vector<std::string>*> fields[] = {
        {"abuse-addresses", &o.abuse},       {"admin-addresses", &o.admin},
        {"feedback-addresses", &o.feedback}, {"sales-addresses", &o.sales},
        {"security-addresses", &o.security}, {"support-addresses", &o.support},
    };
    if (std::all_of(std::begin(fields), std::end(fields), [](const auto& f) { return f.second->empty(); }))
        return std::nullopt;
    xml::Element x{"x", std::string(data_ns)};
    x.set_attribute("type", "result");
    auto& type = x.add_child("field", std::string(data_ns));
    type.set_attribute("var", "FORM_TYPE").set_attribute("type", "hidden");
    type.add_child("value", std::string(data_ns)).add_text(serverinfo_type);
    for (const auto& [var, values] : fields) {
        if (values->empty()) continue;
        auto& field = x.add_child("field", std::string(data_ns));
        field.set_attribute("var", var).set_attribute("type", "list-multi");
        for (const auto& v : *values) field.add_child("value", std::string(data_ns)).add_text(v);
    }
    return x;
}

}  // namespace

class DiscoModule final : public Module {
public:
    DiscoModule(ModuleContext& ctx, const Options& options)
        : ctx_{ctx}, registry_{ctx.disco()}, contact_form_{contact_form(options)} {
        registry_.add_identity({"server", "im", "Starling"});
        registry_.add_feature(ns::disco_info);
        registry_.add_feature(ns::disco_items);
        registry_.add_feature(caps_ns);  // XEP-0115 §7
        registry_.add_feature(ns::disco_info, To::account);
        registry_.add_feature(ns::disco_items, To::account);
        ctx.iq().on_get(ns::disco_info, "query", To::host, [this](IqRequest& r) { info(r, To::host); });
        ctx.iq().on_get(ns::disco_info, "query", To::account, [this](IqRequest& r) { return answer_account_info(r); });
        ctx.iq().on_get(ns::disco_items, "query", To::host, [this](IqRequest& r) { items(r, To::host); });
        ctx.iq().on_get(ns::disco_items, "query", To::account, [this](IqRequest& r) { return answer_account_items(r); });
        // XEP-0115 §6.3: the server's caps as a stream feature, so a client need not ask
        // disco#info at every login.
        ctx.on<StreamFeaturesOffered>([this](StreamFeaturesOffered& e) {
            auto& c = e.features.add_child("c", std::string(caps_ns));
            c.set_attribute("hash", "sha-1").set_attribute("node", caps_node).set_attribute("ver", caps_ver());
        });
    }

private:
    void info(IqRequest& request, To) {
        std::string_view node = request.payload().attribute("node");
        // XEP-0115 §6.2: the caps node 'node#ver' is a name for the server's own info.
        // Other nodes are not offered: XEP-0030 §3.1, item-not-found.
        if (!node.empty() && node != std::string(caps_node) + '#' + caps_ver())
            return request.error(xmpp::StanzaErrorCondition::item_not_found);
        xml::Element query = host_info();
        if (!node.empty()) query.set_attribute("node", node);
        request.reply(std::move(query));
    }

    // RFC 6121 §8.5.1, XEP-0030 §3.3: an account's information is for the account and those
    // who receive its presence; others learn nothing, not even whether it exists.
    Task<bool> may_see(const xmpp::BareJid& account, const xmpp::Jid& requester) {
        if (requester.bare() == account) co_return true;
        auto* subscriptions = ctx_.find<PresenceSubscriptions>();
        if (!subscriptions) co_return false;
        Task<bool> asking = subscriptions->receives_presence(account, requester.bare());
        bool receives = co_await std::move(asking);
        co_return receives;
    }

    Task<void> prepare(const xmpp::BareJid& account, const xmpp::Jid& requester) {
        std::vector<Task<void>> work;
        AccountDiscoPreparing event{account, requester, work};
        ctx_.fire(event);
        for (auto& w : work) {
            Task<void> task = std::move(w);
            co_await std::move(task);
        }
    }

    Task<void> answer_account_info(IqRequest& request) {
        xmpp::BareJid account = request.stanza().to()->bare();
        xmpp::Jid requester = request.from();
        Task<bool> checking = may_see(account, requester);
        if (!co_await std::move(checking)) co_return request.error(xmpp::StanzaErrorCondition::service_unavailable);
        std::string node{request.payload().attribute("node")};
        Task<void> preparing = prepare(account, requester);
        co_await std::move(preparing);
        xml::Element query = node.empty() ? account_info() : xml::Element{"query", std::string(ns::disco_info)};
        AccountDiscoInfo event{account, requester, node, query};
        ctx_.fire(event);
        if (!node.empty() && !event.node_found) co_return request.error(xmpp::StanzaErrorCondition::item_not_found);
        if (!node.empty()) query.set_attribute("node", node);
        request.reply(std::move(query));
    }

    Task<void> answer_account_items(IqRequest& request) {
        xmpp::BareJid account = request.stanza().to()->bare();
        xmpp::Jid requester = request.from();
        Task<bool> checking = may_see(account, requester);
        if (!co_await std::move(checking)) co_return request.error(xmpp::StanzaErrorCondition::service_unavailable);
        std::string node{request.payload().attribute("node")};
        Task<void> preparing = prepare(account, requester);
        co_await std::move(preparing);
        xml::Element query{"query", std::string(ns::disco_items)};
        AccountDiscoItems event{account, requester, node, query};
        ctx_.fire(event);
        if (!node.empty() && !event.node_found) co_return request.error(xmpp::StanzaErrorCondition::item_not_found);
        if (!node.empty()) query.set_attribute("node", node);
        request.reply(std::move(query));
    }

    xml::Element host_info() const {
        xml::Element query = disco_info_query(registry_, To::host);
        if (contact_form_) query.add_child(*contact_form_);
        return query;
    }

    xml::Element account_info() const {
        xml::Element query = disco_info_query(registry_, To::account);
        query.add_child("identity", std::string(ns::disco_info))
            .set_attribute("category", "account")
            .set_attribute("type", "registered");
        return query;
    }

    // Computed from the very reply disco#info gives, so the two cannot disagree.
    const std::string& caps_ver() {
        if (!caps_ver_) caps_ver_ = *xmpp::caps_verification(host_info());
        return *caps_ver_;
    }

    void items(IqRequest& request, To) {
        // XEP-0115 §6.2: the caps node is not a real node, so it is not listed nor browsable.
        if (!request.payload().attribute("node").empty())
            return request.error(xmpp::StanzaErrorCondition::item_not_found);
        // The services modules serve (XEP-0030 §4).
        request.reply(disco_items_query(registry_));
    }

    ModuleContext& ctx_;
    DiscoRegistry& registry_;
    std::optional<xml::Element> contact_form_;
    std::optional<std::string> caps_ver_;
};

const config::ModuleOptionsOf<Options> options{
    config::OptionSet<Options>{}
        .add("abuse", &Options::abuse, "XEP-0157: addresses (URIs) for reporting abuse", std::function(check_addresses))
        .add("admin", &Options::admin, "XEP-0157: addresses (URIs) of the service's administrators",
             std::function(check_addresses))
        .add("feedback", &Options::feedback, "XEP-0157: addresses (URIs) for feedback", std::function(check_addresses))
        .add("sales", &Options::sales, "XEP-0157: addresses (URIs) for sales inquiries", std::function(check_addresses))
        .add("security", &Options::security, "XEP-0157: addresses (URIs) for reporting security issues",
             std::function(check_addresses))
        .add("support", &Options::support, "XEP-0157: addresses (URIs) for user support", std::function(check_addresses))};

extern const ModuleInfo info{
    .name = "disco",
    .description = "Service discovery: the server's identity, features, capabilities and contact addresses",
    .xeps = {{30, "2.5.0", "Service Discovery"},
             {115, "1.6.0", "Entity Capabilities"},
             {128, "1.0.1", "Service Discovery Extensions"},
             {157, "1.1.1", "Contact Addresses for XMPP Services"}},
    .options = &options,
    .create = create_module_with_options<DiscoModule, Options>,
};

}  // namespace starling::disco
