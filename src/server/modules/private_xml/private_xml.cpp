// XEP-0049 Private XML Storage: XML an account keeps on the server for itself, one document
// per namespace (a Map store, "private", owned by the account, keyed by the namespace). Only
// the account itself may read or write it (§4). Handlers run on the account's owner shard;
// the store runs on the storage thread.
#include <string>
#include <vector>

#include "base/log.hpp"
#include "base/result.hpp"
#include "server/config/config.hpp"
#include "server/module/module.hpp"
#include "xml/parse_element.hpp"
#include "xml/writer.hpp"

namespace starling::private_xml {

using namespace server;
using xmpp::StanzaError;
using xmpp::StanzaErrorCondition;

namespace {

constexpr std::string_view private_ns = "jabber:iq:private";

// §2.3: "namespaces beginning with 'jabber:' or 'http://jabber.org/', as well as
// 'vcard-temp'" are reserved; refusing them is optional, and we do, so private storage
// never shadows data a real protocol owns (the vCard, the roster).
bool reserved(std::string_view ns) {
    return ns.starts_with("jabber:") || ns.starts_with("http://jabber.org/") || ns == "vcard-temp";
}

Failure<StanzaError> refuse(StanzaErrorCondition condition, std::string text) {
    return Failure{StanzaError{condition, std::move(text)}};
}

// The namespace a get or set is about, or the error §2.3 and §3 name for it.
Result<std::string, StanzaError> namespace_of(const xml::Element& query, bool is_get) {
    std::vector<const xml::Element*> children;
    for (const auto& node : query.children())
        if (!node.is_text()) children.push_back(node.element.get());
    // §2.3: at least one child "with a proper namespace", else not-acceptable. (Example 4's
    // bad-format is a stream error condition, not a stanza one: RFC 6120 §8.3.3.)
    if (children.empty()) return refuse(StanzaErrorCondition::not_acceptable, "a child element is needed");
    // §2.3: a get asks for one namespace; a set MAY carry several elements of one namespace.
    if (is_get && children.size() > 1)
        return refuse(StanzaErrorCondition::bad_request, "one namespace per get");
    const std::string& ns = children.front()->xmlns();
    for (const auto* child : children)
        if (child->xmlns() != ns) return refuse(StanzaErrorCondition::bad_request, "one namespace per set");
    // The schema's xs:any namespace='##other': neither unqualified nor jabber:iq:private
    // (which reserved() covers).
    if (ns.empty()) return refuse(StanzaErrorCondition::not_acceptable, "the child needs a namespace");
    if (reserved(ns)) return refuse(StanzaErrorCondition::not_acceptable, "reserved namespace");
    return ns;
}

bool own_account(const IqRequest& r) { return r.from().bare() == r.stanza().to()->bare(); }

}  // namespace

class PrivateXmlModule final : public Module {
public:
    explicit PrivateXmlModule(ModuleContext& ctx)
        : documents_{ctx.map("private")}, max_depth_{ctx.config().limits.max_depth} {
        ctx.iq().on_get(private_ns, "query", To::account, [this](IqRequest& r) { return get(r); });
        ctx.iq().on_set(private_ns, "query", To::account, [this](IqRequest& r) { return set(r); });
    }

private:
    Task<void> get(IqRequest& request) {
        // §2.3, §3: someone else's storage gets forbidden (preferred over service-unavailable).
        if (!own_account(request)) {
            request.error(StanzaErrorCondition::forbidden);
            co_return;
        }
        auto ns = namespace_of(request.payload(), true);
        if (!ns) {
            request.error(ns.error());
            co_return;
        }
        const xmpp::BareJid account = request.stanza().to()->bare();
        stores::Owner owner = stores::Owner::of(account);
        std::optional<std::string> stored = co_await documents_.get(std::move(owner), *ns);
        if (!stored) {
            // Nothing stored: the query comes back with the asked-for element, empty.
            const xml::Element* asked = request.payload().first_child_element();
            xml::Element query{"query", std::string(private_ns)};
            query.add_child(asked->name(), asked->xmlns());
            request.reply(std::move(query));
            co_return;
        }
        auto query = xml::parse_element(*stored, max_depth_);
        if (!query) {
            log::error("private_xml: the stored {} of {} does not parse", *ns, account.str());
            request.error(StanzaErrorCondition::internal_server_error);
            co_return;
        }
        request.reply(std::move(*query));
    }

    Task<void> set(IqRequest& request) {
        if (!own_account(request)) {
            request.error(StanzaErrorCondition::forbidden);
            co_return;
        }
        auto ns = namespace_of(request.payload(), false);
        if (!ns) {
            request.error(ns.error());
            co_return;
        }
        // Stored as the whole <query/> holding the elements (whitespace between them dropped),
        // which is exactly what a get answers.
        xml::Element query{"query", std::string(private_ns)};
        for (const auto& node : request.payload().children())
            if (!node.is_text()) query.add_child(node.element);
        const stores::Owner owner = stores::Owner::of(request.stanza().to()->bare());
        std::string text = xml::to_string(query);  // declares every namespace itself
        co_await documents_.set(owner, std::move(*ns), std::move(text));
        request.reply();
    }

    stores::Map documents_;
    std::size_t max_depth_;  // the stanza depth limit: stored elements were within it
};

extern const ModuleInfo info{
    .name = "private_xml",
    .description = "Keeps private XML documents for each account (client settings, bookmarks)",
    .xeps = {{49, "1.2", "Private XML Storage"}},
    .create = create_module<PrivateXmlModule>,
};

}  // namespace starling::private_xml
