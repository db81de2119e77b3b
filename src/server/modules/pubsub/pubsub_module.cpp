// The PubSub service: pubsub.<domain>, its disco (§5.1-5.4), who may create nodes, and the
// dispatch of each request to the shard that owns its node.
#include "server/modules/pubsub/pubsub_module.hpp"

#include <functional>

#include "base/log.hpp"
#include "base/random.hpp"
#include "server/config/options.hpp"
#include "server/module/presence_subscriptions.hpp"
#include "server/module/service_disco.hpp"
#include "server/modules/pubsub/node_store.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::pubsub {

using namespace server;
using xmpp::StanzaErrorCondition;

namespace {

const xml::Element* first_child(const xml::Element& e) {
    for (const auto& node : e.children())
        if (!node.is_text()) return node.element.get();
    return nullptr;
}

}  // namespace

PubsubModule::PubsubModule(ModuleContext& ctx, const Options& options)
    : ctx_{ctx},
      options_{options},
      service_{ctx.add_service(options.subdomain, "Publish-Subscribe")},
      stored_nodes_{ctx.key_value(node_store_name)},
      stored_items_{ctx.map(item_store_name)},
      nodes_{*this, service_.domain, Limits{options.max_items_per_node, options.max_payload_bytes}} {
    // §5.1: what the service is and what of XEP-0060 it does.
    service_.disco.add_identity({"pubsub", "service", "Publish-Subscribe"});
    service_.disco.add_feature(ns::disco_info);
    service_.disco.add_feature(ns::disco_items);
    service_.disco.add_feature(pubsub_ns);
    for (std::string_view feature :
         {"access-authorize", "access-open", "access-presence", "access-roster", "access-whitelist", "collections", "config-node",
          "create-and-configure", "create-nodes",
          "delete-items", "delete-nodes", "instant-nodes", "item-ids", "manage-subscriptions", "member-affiliation",
          "modify-affiliations", "outcast-affiliation", "persistent-items", "publish", "publisher-affiliation",
          "publish-options", "purge-nodes", "retract-items", "retrieve-affiliations", "retrieve-default", "retrieve-items",
          "retrieve-subscriptions", "subscribe", "subscription-options", "retrieve-default-sub", "multi-collections",
          "rsm"})
        service_.disco.add_feature(std::string(pubsub_ns) + "#" + std::string(feature));
    service_.iq.on_get(ns::disco_info, "query", To::host, [this](IqRequest& r) { return disco_info(r); });
    service_.iq.on_get(ns::disco_items, "query", To::host, [this](IqRequest& r) { return disco_items(r); });
    service_.iq.on_set(pubsub_ns, "pubsub", To::host, [this](IqRequest& r) { return on_request(r, false); });
    service_.iq.on_get(pubsub_ns, "pubsub", To::host, [this](IqRequest& r) { return on_request(r, false); });
    service_.iq.on_set(owner_ns, "pubsub", To::host, [this](IqRequest& r) { return on_request(r, true); });
    service_.iq.on_get(owner_ns, "pubsub", To::host, [this](IqRequest& r) { return on_request(r, true); });
    service_.on_domain_stanza = [this](Stanza s) {
        if (s.kind() != xmpp::StanzaKind::message || s.is_error()) return;
        // §8.6: an owner's answer to a subscription request.
        const xml::Element* form = s.element().find_child("x", data_ns);
        if (!form || !xmpp::has_form_type(*form, subscribe_authorization_form)) return ctx_.send(s.error_reply({StanzaErrorCondition::service_unavailable}));
        ctx_.spawn(authorization_answer(std::move(s)));
    };
    ctx.spawn(load_nodes());
}

std::size_t PubsubModule::node_shard(std::string_view name) const {
    // The same function on every shard of this process: a node's home is fixed while it runs.
    return std::hash<std::string_view>{}(name) % ctx_.shard_count();
}

bool PubsubModule::may_create(const xmpp::Jid& who) const {
    if (options_.node_creation == "anyone") return true;
    if (options_.node_creation == "admins") return ctx_.is_admin(who.bare());
    return who.domain() == ctx_.domain().domain();
}

Task<void> PubsubModule::on_request(IqRequest& request, bool owner) {
    const xml::Element* op = first_child(request.payload());
    if (!op) co_return request.error(StanzaErrorCondition::bad_request, "a <pubsub/> with a request in it");
    std::string_view what = op->name();
    bool set = request.stanza().type() == "set";
    std::string node{op->attribute("node")};
    // §5.6, §5.7: one's subscriptions or affiliations, of every node unless one is named.
    if (!owner && !set && (what == "subscriptions" || what == "affiliations") && node.empty()) {
        Task<void> gathering = gather(request, *op);
        co_await std::move(gathering);
        co_return;
    }
    if (owner && !set && what == "default") {
        // §8.3: the configuration a new node gets (XEP-0248 §7.3: of a collection, if asked).
        NodeConfig defaults;
        defaults.collection = op->attribute("type") == "collection";
        std::vector<std::string> no_children;
        xml::Element pubsub{"pubsub", std::string(owner_ns)};
        pubsub.add_child("default", std::string(owner_ns)).add_child(config_form(defaults, defaults.collection ? &no_children : nullptr));
        co_return request.reply(std::move(pubsub));
    }
    if (!owner && !set && what == "default" && node.empty()) {
        // §6.4: the subscription options a subscription to a leaf gets.
        xml::Element pubsub{"pubsub", std::string(pubsub_ns)};
        pubsub.add_child("default", std::string(pubsub_ns)).add_child(options_form(default_options(false), false, "result"));
        co_return request.reply(std::move(pubsub));
    }
    if (owner && set && what == "collection") {
        Task<void> associating = associate(request, *op);
        co_await std::move(associating);
        co_return;
    }
    Request req = *request_of(request.from(), set, owner, request.payload());
    if (!owner && set && what == "create") {
        if (!may_create(request.from()))
            co_return request.error(pubsub_error(StanzaErrorCondition::forbidden, {}, "you may not create nodes here"));
        // §8.1.2: an instant node gets a name from the service.
        if (node.empty()) req.op.set_attribute("node", node = random::id(9));
        // A limit per account, counted on every shard (creating is rare; nodes are many).
        auto count = [who = request.from().bare()](PubsubModule& m) { return m.nodes_.nodes_owned_by(who); };
        Task<std::vector<std::size_t>> counting = ctx_.on_every_shard<PubsubModule>(std::move(count));
        std::vector<std::size_t> per_shard = co_await std::move(counting);
        std::size_t owned = 0;
        for (std::size_t n : per_shard) owned += n;
        if (owned >= options_.max_nodes_per_user)
            co_return request.error(pubsub_error(StanzaErrorCondition::not_allowed, "max-nodes-exceeded",
                                                 "you own as many nodes as this service allows", "cancel"));
    }
    if (node.empty())
        co_return request.error(pubsub_error(StanzaErrorCondition::bad_request, "nodeid-required"));
    if (set && ((!owner && what == "create") || (owner && what == "configure"))) {
        // XEP-0248 §7.2.3: the collections a form names are checked on their own shards first.
        Task<std::optional<xmpp::StanzaError>> checking = collections_refusal(req, node, !owner);
        if (auto refusal = co_await std::move(checking)) co_return request.error(std::move(*refusal));
    }
    ChildrenChange children;
    if (owner && set && what == "configure") {
        Task<std::optional<xmpp::StanzaError>> checking = children_refusal(req, node, children);
        if (auto refusal = co_await std::move(checking)) co_return request.error(std::move(*refusal));
    }
    if (owner && !set && what == "configure") {
        Task<std::vector<std::string>> finding = children_of(node);  // a collection's pubsub#children
        req.children = co_await std::move(finding);
    }
    if (!owner && (what == "subscribe" || what == "items")) {
        // The presence and roster access models ask the owners' rosters, on their shards, first.
        auto info = [node](PubsubModule& m) { return m.nodes_.access_info(node); };
        Task<AccessInfo> looking = ctx_.on_shard<PubsubModule>(node_shard(node), std::move(info));
        AccessInfo access = co_await std::move(looking);
        if (access.exists && access.model == AccessModel::presence) {
            xmpp::BareJid who = request.from().bare();
            for (const auto& owner_jid : access.owners) {
                if (owner_jid == who) break;
                auto ask = [owner_jid, who](PubsubModule& m) { return m.receives_presence(owner_jid, who); };
                Task<bool> asking = ctx_.on_owner_task<PubsubModule>(owner_jid, std::move(ask));
                if ((req.receives_owner_presence = co_await std::move(asking))) break;
            }
        }
        if (access.exists && access.model == AccessModel::roster) {
            xmpp::BareJid who = request.from().bare();
            for (const auto& owner_jid : access.owners) {
                if (owner_jid == who) break;
                auto ask = [owner_jid, who](PubsubModule& m) { return m.roster_groups(owner_jid, who); };
                Task<std::optional<std::vector<std::string>>> asking = ctx_.on_owner_task<PubsubModule>(owner_jid, std::move(ask));
                auto groups = co_await std::move(asking);
                if (!groups) continue;
                req.receives_owner_presence = true;
                req.roster_groups.insert(req.roster_groups.end(), groups->begin(), groups->end());
            }
        }
    }
    auto run = [req = std::move(req), owner](PubsubModule& m) -> Outcome {
        if (m.loading_)
            return {std::nullopt, xmpp::StanzaError{StanzaErrorCondition::resource_constraint, "the service is starting", "wait"}};
        return m.nodes_.handle(req, owner);
    };
    Task<Outcome> running = ctx_.on_shard<PubsubModule>(node_shard(node), std::move(run));
    Outcome outcome = co_await std::move(running);
    if (outcome.error) co_return request.error(std::move(*outcome.error));
    if (owner && set && what == "delete") {
        Task<void> orphaning = orphan_children(node);
        co_await std::move(orphaning);
    }
    if (!children.added.empty() || !children.removed.empty()) {
        Task<void> applying = apply_children(node, std::move(children));
        co_await std::move(applying);
    }
    request.reply(std::move(outcome.reply));
}

Task<void> PubsubModule::gather(IqRequest& request, const xml::Element& op) {
    bool subscriptions = op.name() == "subscriptions";
    auto collect = [who = request.from().bare(), subscriptions](PubsubModule& m) {
        return subscriptions ? m.nodes_.subscriptions_of(who, {}) : m.nodes_.affiliations_of(who, {});
    };
    Task<std::vector<std::vector<xml::Element>>> all = ctx_.on_every_shard<PubsubModule>(collect);
    auto per_shard = co_await std::move(all);
    xml::Element list{std::string(op.name()), std::string(pubsub_ns)};
    for (auto& shard : per_shard)
        for (auto& e : shard) list.add_child(std::move(e));
    xml::Element pubsub{"pubsub", std::string(pubsub_ns)};
    pubsub.add_child(std::move(list));
    request.reply(std::move(pubsub));
}

Task<void> PubsubModule::disco_info(IqRequest& request) {
    std::string node{request.payload().attribute("node")};
    if (node.empty()) co_return request.reply(disco_info_query(service_.disco));
    // §5.3: a node's own info: a leaf or a collection (XEP-0248 §12.4) of this service, with
    // its meta-data (§5.4).
    auto describe = [node](PubsubModule& m) -> std::optional<std::pair<bool, xml::Element>> {
        const Node* n = m.nodes_.node(node);
        if (!n) return std::nullopt;
        return std::pair{n->config.collection, meta_data_form(*n)};
    };
    Task<std::optional<std::pair<bool, xml::Element>>> asking = ctx_.on_shard<PubsubModule>(node_shard(node), std::move(describe));
    auto described = co_await std::move(asking);
    if (!described) co_return request.error(StanzaErrorCondition::item_not_found);
    xml::Element query{"query", std::string(ns::disco_info)};
    query.set_attribute("node", node);
    query.add_child("identity", std::string(ns::disco_info))
        .set_attribute("category", "pubsub")
        .set_attribute("type", described->first ? "collection" : "leaf");
    query.add_child("feature", std::string(ns::disco_info)).set_attribute("var", pubsub_ns);
    query.add_child(std::move(described->second));
    request.reply(std::move(query));
}

Task<void> PubsubModule::disco_items(IqRequest& request) {
    // §5.2: the nodes, from every shard; XEP-0248 §5.2: a collection's, its children; §5.5:
    // a leaf's, its items (to whoever may retrieve them without asking a roster).
    if (std::string node{request.payload().attribute("node")}; !node.empty()) {
        auto look = [node, who = request.from().bare()](PubsubModule& m) -> std::optional<std::vector<std::string>> {
            const Node* n = m.nodes_.node(node);
            if (!n) return std::nullopt;
            std::vector<std::string> ids;
            if (!n->config.collection && !m.nodes_.access_refusal(*n, who, false))
                for (const auto& item : n->items) ids.push_back(item.id);
            return ids;
        };
        Task<std::optional<std::vector<std::string>>> looking = ctx_.on_shard<PubsubModule>(node_shard(node), std::move(look));
        auto ids = co_await std::move(looking);
        if (!ids) co_return request.error(StanzaErrorCondition::item_not_found);
        Task<std::vector<std::string>> finding = children_of(node);
        std::vector<std::string> children = co_await std::move(finding);
        xml::Element query{"query", std::string(ns::disco_items)};
        query.set_attribute("node", node);
        for (const auto& child : children)
            query.add_child("item", std::string(ns::disco_items)).set_attribute("jid", service_.domain.str()).set_attribute("node", child);
        for (const auto& id : *ids)
            query.add_child("item", std::string(ns::disco_items)).set_attribute("jid", service_.domain.str()).set_attribute("name", id);
        co_return request.reply(std::move(query));
    }
    auto names = [](PubsubModule& m) { return m.nodes_.node_names(); };
    Task<std::vector<std::vector<std::string>>> all = ctx_.on_every_shard<PubsubModule>(names);
    auto per_shard = co_await std::move(all);
    std::vector<std::string> sorted;
    for (auto& shard : per_shard) sorted.insert(sorted.end(), shard.begin(), shard.end());
    std::sort(sorted.begin(), sorted.end());
    xml::Element query{"query", std::string(ns::disco_items)};
    for (const auto& name : sorted)
        query.add_child("item", std::string(ns::disco_items)).set_attribute("jid", service_.domain.str()).set_attribute("node", name);
    request.reply(std::move(query));
}

Task<void> PubsubModule::load_nodes() {
    // (Named tasks before each co_await: g++ 12, see net/call_on.hpp.)
    Task<std::vector<std::string>> listing = stored_nodes_.owners(service_.domain.str());
    std::vector<std::string> names = co_await std::move(listing);
    std::size_t loaded = 0;
    for (const auto& name : names) {
        if (node_shard(name) != ctx_.shard()) continue;
        stores::Owner owner{service_.domain.str(), name};
        Task<std::optional<std::string>> reading = stored_nodes_.get(owner);
        std::optional<std::string> text = co_await std::move(reading);
        auto node = text ? node_from_document(name, *text) : std::nullopt;
        if (!node) {
            log::warn("pubsub: the stored node {} of {} is unreadable; left in the store as it is", name,
                      service_.domain.str());
            continue;
        }
        Task<std::vector<std::pair<std::string, std::string>>> entries = stored_items_.entries(owner);
        auto items = co_await std::move(entries);
        for (const auto& [id, value] : items)
            if (auto item = item_from_value(id, value)) node->items.push_back(std::move(*item));
        std::sort(node->items.begin(), node->items.end(), [](const Item& a, const Item& b) { return a.seq < b.seq; });
        for (const auto& item : node->items) node->next_seq = std::max(node->next_seq, item.seq + 1);
        nodes_.restore(std::move(*node));
        ++loaded;
    }
    if (loaded) log::info("pubsub: {} node(s) of {} loaded on shard {}", loaded, service_.domain.str(), ctx_.shard());
    loading_ = false;
}

Task<void> PubsubModule::authorization_answer(Stanza message) {
    const xml::Element& form = *message.element().find_child("x", data_ns);
    std::string node = xmpp::form_value(form, "pubsub#node").value_or("");
    auto decide = [from = *message.from(), form](PubsubModule& m) { return m.nodes_.authorize(from, form); };
    Task<std::optional<xmpp::StanzaError>> deciding = ctx_.on_shard<PubsubModule>(node_shard(node), std::move(decide));
    std::optional<xmpp::StanzaError> refusal = co_await std::move(deciding);
    if (refusal) ctx_.send(message.error_reply(std::move(*refusal)));
}

Task<bool> PubsubModule::receives_presence(xmpp::BareJid owner, xmpp::BareJid who) {
    auto* subscriptions = ctx_.find<PresenceSubscriptions>();
    if (!subscriptions || owner.domain() != ctx_.domain().domain()) co_return false;
    Task<bool> asking = subscriptions->receives_presence(std::move(owner), std::move(who));
    bool receives = co_await std::move(asking);
    co_return receives;
}

Task<std::optional<std::vector<std::string>>> PubsubModule::roster_groups(xmpp::BareJid owner, xmpp::BareJid who) {
    auto* subscriptions = ctx_.find<PresenceSubscriptions>();
    if (!subscriptions || owner.domain() != ctx_.domain().domain()) co_return std::nullopt;
    Task<std::optional<std::vector<std::string>>> asking = subscriptions->groups_of_subscriber(std::move(owner), std::move(who));
    auto groups = co_await std::move(asking);
    co_return groups;
}

void PubsubModule::notify(const Node& node, const xml::Element& message, const xmpp::Jid* /*publisher*/) {
    // A collection's subscribers to items hear only of its children (collections.cpp) and
    // of what happens to the collection itself.
    for (const auto& subscription : node.subscriptions) send_event(message, subscription);
}

void PubsubModule::send_event(const xml::Element& message, const Subscription& s) {
    if (s.pending || !s.options.deliver) return;
    Stanza stanza{xmpp::StanzaKind::message, message, service_.domain, s.jid};
    // §6.3 pubsub#show-values: to the resources whose presence shows one of them. Only the
    // presence of this domain's accounts is known here; others get every event.
    if (s.options.show_values.empty() || s.jid.domain() != ctx_.domain().domain()) return ctx_.send(std::move(stanza));
    ctx_.spawn(send_by_show(std::move(stanza), s.options));
}

Task<void> PubsubModule::send_by_show(Stanza stanza, SubscriptionOptions options) {
    xmpp::Jid to = *stanza.to();
    auto pick = [to, options = std::move(options)](PubsubModule& m) {
        std::vector<xmpp::Jid> out;
        for (const auto& r : m.ctx_.available_resources(to.bare()))
            if ((!to.has_resource() || r.jid == to) && options.shows(r.show)) out.push_back(r.jid);
        return out;
    };
    Task<std::vector<xmpp::Jid>> picking = ctx_.on_owner<PubsubModule>(to.bare(), std::move(pick));
    std::vector<xmpp::Jid> resources = co_await std::move(picking);
    for (auto& jid : resources) {
        Stanza copy = stanza;
        copy.set_to(std::move(jid));
        ctx_.send(std::move(copy));
    }
}

void PubsubModule::deliver(const xml::Element& message, const xmpp::Jid& to) {
    ctx_.send(Stanza{xmpp::StanzaKind::message, message, service_.domain, to});
}

void PubsubModule::store_node(const Node& node) {
    ctx_.spawn(stored_nodes_.set({service_.domain.str(), node.name}, node_to_document(node)));
}

void PubsubModule::store_item(const Node& node, const Item& item) {
    ctx_.spawn(stored_items_.set({service_.domain.str(), node.name}, item.id, item_to_value(item)));
}

void PubsubModule::forget_item(const Node& node, const std::string& id) {
    auto removing = [](stores::Map items, stores::Owner owner, std::string id) -> Task<void> {
        Task<bool> removal = items.remove(std::move(owner), std::move(id));
        co_await std::move(removal);
    };
    ctx_.spawn(removing(stored_items_, {service_.domain.str(), node.name}, id));
}

void PubsubModule::forget_items(const Node& node) {
    ctx_.spawn(stored_items_.clear({service_.domain.str(), node.name}));
}

void PubsubModule::forget_node(const std::string& name) {
    ctx_.spawn(stored_nodes_.remove({service_.domain.str(), name}));
    ctx_.spawn(stored_items_.clear({service_.domain.str(), name}));
}

const config::ModuleOptionsOf<Options> options{
    config::OptionSet<Options>{}
        .add("subdomain", &Options::subdomain, "The service's address is <subdomain>.<domain>")
        .add("node_creation", &Options::node_creation,
             "Who may create nodes: \"anyone\", \"local\" (accounts of this domain) or \"admins\"",
             std::function([](const std::string& s) -> std::string {
                 return s == "anyone" || s == "local" || s == "admins" ? "" : "must be anyone, local or admins";
             }))
        .add("max_items_per_node", &Options::max_items_per_node,
             "The most items a node may keep (pubsub#max_items, whose \"max\" is this)")
        .add("max_payload_bytes", &Options::max_payload_bytes, "The largest item payload, as XML, in bytes")
        .add("max_nodes_per_user", &Options::max_nodes_per_user, "The most nodes one account may own")};

extern const ModuleInfo info{
    .name = "pubsub",
    .description = "Publish-Subscribe at pubsub.<domain>",
    .xeps = {{60, "1.30.0",
              "Publish-Subscribe (nodes, configuration, meta-data, publish with publish-options, batches, retract, "
              "subscribe with options and show-values, items with RSM paging, delete, purge, the open, presence, "
              "roster, authorize and whitelist access models, affiliations and subscriptions managed by owners)"},
             {59, "1.0.0", "Result Set Management (PubSub items)"},
             {248, "0.5.0", "PubSub Collection Nodes (collections, associate and dissociate, subscription type and depth)"}},
    // On, as in ejabberd's default configuration (Prosody's needs a Component line): clients
    // find it through the domain's disco#items, and it costs nothing until nodes exist.
    .enabled_by_default = true,
    .options = &options,
    .create = create_module_with_options<PubsubModule, Options>,
};

}  // namespace starling::pubsub
