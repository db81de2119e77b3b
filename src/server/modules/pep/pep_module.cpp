// PEP's requests: the XEP-0060 protocol sent to an account's bare JID (or with no 'to', to
// one's own), run on the account's nodes on its owner shard; and what the account's disco
// says of them (XEP-0163 §6).
#include "server/modules/pep/pep_module.hpp"

#include <algorithm>

#include "base/random.hpp"
#include "server/config/options.hpp"
#include "server/module/events.hpp"
#include "server/module/presence_subscriptions.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::pep {

using namespace server;
using pubsub::pubsub_error;
using xmpp::StanzaErrorCondition;

PepModule::PepModule(ModuleContext& ctx, const Options& options)
    : ctx_{ctx}, options_{options}, stored_nodes_{ctx.map("pep_nodes")}, stored_items_{ctx.map("pep_items")} {
    // §6.1: what the account, as a PubSub service, does (the identity comes with the fold).
    ctx.disco().add_feature(pubsub::pubsub_ns, To::account);
    for (std::string_view feature :
         {"access-open", "access-presence", "access-roster", "access-whitelist", "auto-create", "auto-subscribe", "config-node",
          "create-and-configure", "create-nodes", "delete-items", "delete-nodes", "filtered-notifications",
          "item-ids", "last-published", "manage-subscriptions", "member-affiliation", "modify-affiliations",
          "outcast-affiliation", "persistent-items", "publish", "publish-options", "purge-nodes", "retract-items",
          "retrieve-affiliations", "retrieve-default", "retrieve-items", "retrieve-subscriptions", "subscribe"})
        ctx.disco().add_feature(std::string(pubsub::pubsub_ns) + "#" + std::string(feature), To::account);
    auto& iq = ctx.iq();
    iq.on_set(pubsub::pubsub_ns, "pubsub", To::account, [this](IqRequest& r) { return on_request(r, false); });
    iq.on_get(pubsub::pubsub_ns, "pubsub", To::account, [this](IqRequest& r) { return on_request(r, false); });
    iq.on_set(pubsub::owner_ns, "pubsub", To::account, [this](IqRequest& r) { return on_request(r, true); });
    iq.on_get(pubsub::owner_ns, "pubsub", To::account, [this](IqRequest& r) { return on_request(r, true); });
    ctx.on<AccountDiscoPreparing>([this](AccountDiscoPreparing& e) {
        e.work.push_back(load(e.account));
        e.work.push_back(learn_groups(e.account, e.requester.bare()));
    });
    ctx.on<AccountDiscoInfo>([this](AccountDiscoInfo& e) { disco_info(e); });
    ctx.on<AccountDiscoItems>([this](AccountDiscoItems& e) { disco_items(e); });
    ctx.on<OwnPresence>([this](OwnPresence& e) { own_presence(e.stanza, e.initial); }, Priority::observe);
    ctx.on<PresenceToAccount>([this](PresenceToAccount& e) { presence_to_account(e.stanza); }, Priority::observe);
    ctx.on<ResourceUnbound>([this](ResourceUnbound& e) {
        xmpp::BareJid account = e.jid.bare();
        if (auto it = interested_.find(account); it != interested_.end()) {
            it->second.own.erase(e.jid);
            if (it->second.own.empty() && it->second.contacts.empty()) interested_.erase(it);
        }
        ctx_.caps().forget(e.jid);
        let_go(account);
    });
    // The store goes with the account (the core deletes what it owns); so does what is here.
    ctx.on<AccountRemoving>([this](AccountRemoving& e) {
        loaded_.erase(e.account);
        interested_.erase(e.account);
    });
}

Task<bool> PepModule::receives_presence(xmpp::BareJid account, xmpp::BareJid who) {
    auto* subscriptions = ctx_.find<PresenceSubscriptions>();
    if (!subscriptions) co_return false;
    Task<bool> asking = subscriptions->receives_presence(std::move(account), std::move(who));
    bool receives = co_await std::move(asking);
    co_return receives;
}

Task<void> PepModule::on_request(IqRequest& request, bool owner) {
    xmpp::BareJid account = request.stanza().to()->bare();
    bool set = request.stanza().type() == "set";
    bool own = request.from().bare() == account;
    auto req = pubsub::request_of(request.from(), set, owner, request.payload());
    if (!req) co_return request.error(StanzaErrorCondition::bad_request, "a <pubsub/> with a request in it");
    std::string_view what = req->op.name();
    std::string node{req->op.attribute("node")};
    // XEP-0163 §3, §5: the account alone publishes to, creates and manages its nodes.
    if (!own && (owner || (set && (what == "create" || what == "publish" || what == "retract"))))
        co_return request.error(pubsub_error(StanzaErrorCondition::forbidden, {}, "only the account manages its nodes"));
    if (owner && !set && what == "default") {  // XEP-0060 §8.3
        xml::Element pubsub{"pubsub", std::string(pubsub::owner_ns)};
        pubsub.add_child("default", std::string(pubsub::owner_ns)).add_child(pubsub::config_form(pep_defaults()));
        co_return request.reply(std::move(pubsub));
    }
    if (!owner && set && what == "create" && node.empty()) req->op.set_attribute("node", node = random::id(9));
    bool own_lists = !owner && !set && (what == "subscriptions" || what == "affiliations");
    if (node.empty() && !own_lists)
        co_return request.error(pubsub_error(StanzaErrorCondition::bad_request, "nodeid-required"));
    if (!own) {
        // The presence access model (XEP-0163 §4.1: auto-subscribe) and the roster model: the
        // roster says. (The node is looked at first: only the roster model needs the groups.)
        Task<void> peeking = load(account);
        co_await std::move(peeking);
        const AccountNodes* peek = loaded(account);
        const pubsub::Node* target = peek ? peek->nodes.node(node) : nullptr;
        if (target && target->config.access_model == pubsub::AccessModel::roster) {
            Task<std::optional<std::vector<std::string>>> asking = roster_groups(account, request.from().bare());
            auto groups = co_await std::move(asking);
            req->receives_owner_presence = groups.has_value();
            if (groups) req->roster_groups = std::move(*groups);
        } else {
            Task<bool> asking = receives_presence(account, request.from().bare());
            req->receives_owner_presence = co_await std::move(asking);
        }
    }
    Task<void> loading = load(account);
    co_await std::move(loading);
    AccountNodes* nodes = loaded(account);
    if (!nodes) co_return request.error({StanzaErrorCondition::resource_constraint, "try again", "wait"});
    if (set && (what == "create" || what == "publish") && !nodes->nodes.node(node) &&
        nodes->nodes.nodes().size() >= options_.max_nodes_per_account)
        co_return request.error(pubsub_error(StanzaErrorCondition::not_allowed, "max-nodes-exceeded",
                                             "the account has as many nodes as this server allows", "cancel"));
    pubsub::Outcome outcome = nodes->nodes.handle(*req, owner);
    let_go(account);
    if (outcome.error) co_return request.error(std::move(*outcome.error));
    request.reply(std::move(outcome.reply));
}

Task<std::optional<std::vector<std::string>>> PepModule::roster_groups(xmpp::BareJid account, xmpp::BareJid who) {
    auto* subscriptions = ctx_.find<PresenceSubscriptions>();
    if (!subscriptions) co_return std::nullopt;
    Task<std::optional<std::vector<std::string>>> asking = subscriptions->groups_of_subscriber(std::move(account), std::move(who));
    auto groups = co_await std::move(asking);
    co_return groups;
}

Task<void> PepModule::learn_groups(xmpp::BareJid account, xmpp::BareJid requester) {
    // Only for an account with a roster-model node (the roster is read from the store).
    const AccountNodes* nodes = loaded(account);
    if (!nodes || requester == account) co_return;
    bool roster_model = std::any_of(nodes->nodes.nodes().begin(), nodes->nodes.nodes().end(), [](const auto& entry) {
        return entry.second.config.access_model == pubsub::AccessModel::roster;
    });
    if (!roster_model) co_return;
    Task<std::optional<std::vector<std::string>>> asking = roster_groups(account, requester);
    auto groups = co_await std::move(asking);
    if (groups) disco_groups_[{account, requester}] = std::move(*groups);
}

std::vector<std::string> PepModule::take_disco_groups(const xmpp::BareJid& account, const xmpp::BareJid& requester) {
    auto it = disco_groups_.find({account, requester});
    if (it == disco_groups_.end()) return {};
    std::vector<std::string> groups = std::move(it->second);
    disco_groups_.erase(it);
    return groups;
}

void PepModule::disco_info(AccountDiscoInfo& event) {
    std::vector<std::string> groups = take_disco_groups(event.account, event.requester.bare());
    if (event.node.empty()) {
        // §6.1: the account is a PEP service.
        event.query.add_child("identity", std::string(ns::disco_info))
            .set_attribute("category", "pubsub")
            .set_attribute("type", "pep");
        return;
    }
    AccountNodes* nodes = loaded(event.account);
    const pubsub::Node* node = nodes ? nodes->nodes.node(std::string(event.node)) : nullptr;
    // The disco module let in only the account and those who receive its presence.
    event.node_found = node && !nodes->nodes.access_refusal(*node, event.requester.bare(), true, groups);
    let_go(event.account);
    if (!event.node_found) return;
    event.query.add_child("identity", std::string(ns::disco_info))
        .set_attribute("category", "pubsub")
        .set_attribute("type", "leaf");
    event.query.add_child("feature", std::string(ns::disco_info)).set_attribute("var", pubsub::pubsub_ns);
}

void PepModule::disco_items(AccountDiscoItems& event) {
    std::vector<std::string> groups = take_disco_groups(event.account, event.requester.bare());
    if (!event.node.empty()) {
        AccountNodes* nodes = loaded(event.account);
        event.node_found = nodes && nodes->nodes.node(std::string(event.node));
        let_go(event.account);
        return;
    }
    // §6.2: the nodes the requester may see.
    AccountNodes* nodes = loaded(event.account);
    if (!nodes) return;
    for (const auto& [name, node] : nodes->nodes.nodes()) {
        if (nodes->nodes.access_refusal(node, event.requester.bare(), true, groups)) continue;
        event.query.add_child("item", std::string(ns::disco_items))
            .set_attribute("jid", event.account.str())
            .set_attribute("node", name);
    }
    let_go(event.account);
}

const config::ModuleOptionsOf<Options> options{
    config::OptionSet<Options>{}
        .add("max_items_per_node", &Options::max_items_per_node,
             "The most items a node may keep (pubsub#max_items, whose \"max\" is this)")
        .add("max_payload_bytes", &Options::max_payload_bytes, "The largest item payload, as XML, in bytes")
        .add("max_nodes_per_account", &Options::max_nodes_per_account, "The most nodes one account may have")};

extern const ModuleInfo info{
    .name = "pep",
    .description = "Personal Eventing Protocol: every account is a PubSub service (avatars, OMEMO keys, "
                   "bookmarks, nick, mood, tune ...)",
    .xeps = {{163, "1.2.2", "Personal Eventing Protocol (auto-create, auto-subscribe through presence, "
                            "notifications filtered by caps, the last item to newly available resources)"},
             {84, "1.1.4", "User Avatar (data and metadata nodes, through PEP)"},
             {402, "1.2.0", "PEP Native Bookmarks (a whitelist node configured by publish-options)"},
             {223, "1.1.1", "Persistent Storage of Private Data via PubSub (whitelist, persistent items)"},
             {172, "1.1", "User Nickname (through PEP)"},
             {80, "1.9", "User Location (through PEP)"},
             {107, "1.2.1", "User Mood (through PEP)"},
             {118, "1.2", "User Tune (through PEP)"}},
    .enabled_by_default = true,
    .options = &options,
    .create = create_module_with_options<PepModule, Options>,
};

}  // namespace starling::pep
