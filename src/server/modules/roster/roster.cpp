// RFC 6121 §2: the roster. Get (with versioning, §2.6), set, remove, and pushes to every
// resource that asked for the roster. Handlers run on the account's owner shard, so the
// set of interested resources is plain module state; the store runs on the storage thread.
#include <set>
#include <unordered_map>

#include "base/random.hpp"
#include "server/config/options.hpp"
#include "server/module/events.hpp"
#include "server/module/module.hpp"
#include "server/modules/roster/roster_module.hpp"
#include "server/storage/storage_thread.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::roster {

using namespace server;
using xmpp::StanzaErrorCondition;

namespace {
constexpr std::string_view roster_ver_ns = "urn:xmpp:features:rosterver";
}

RosterModule::RosterModule(ModuleContext& ctx, const Options& options) : ctx_{ctx}, options_{options} {
    ctx.iq().on_get(ns::roster, "query", To::account, [this](IqRequest& r) { return get(r); });
    ctx.iq().on_set(ns::roster, "query", To::account, [this](IqRequest& r) { return set(r); });
    // RFC 6121 §2.6.1 and §3.4: versioning and pre-approval are stream features.
    ctx.on<StreamFeaturesOffered>([](StreamFeaturesOffered& e) {
        e.features.add_child("ver", std::string(roster_ver_ns));
        e.features.add_child("sub", "urn:xmpp:features:pre-approval");
    });
    ctx.on<ResourceUnbound>([this](ResourceUnbound& e) {
        unavailable_after_disconnect(e.jid);
        auto it = interested_.find(e.jid.bare());
        if (it == interested_.end()) return;
        it->second.erase(std::string(e.jid.resource()));
        if (it->second.empty()) interested_.erase(it);
    });
    register_presence_handlers();
    ctx.provide<server::PresenceSubscriptions>(*this);
}

namespace {
bool own_account(const IqRequest& r) { return r.from().bare() == r.stanza().to()->bare(); }
}  // namespace

xml::Element RosterModule::item_element(const RosterItem& item) {
    xml::Element e{"item", std::string(ns::roster)};
    e.set_attribute("jid", item.jid);
    if (item.removed) {
        e.set_attribute("subscription", "remove");
        return e;
    }
    if (!item.name.empty()) e.set_attribute("name", item.name);
    e.set_attribute("subscription", item.subscription);
    if (item.ask) e.set_attribute("ask", "subscribe");
    if (item.approved) e.set_attribute("approved", "true");
    for (const auto& g : item.groups) e.add_child("group", std::string(ns::roster)).add_text(g);
    return e;
}

// RFC 6121 §2.1.6: one push per change, to each interested resource of the account.
void RosterModule::push(const xmpp::BareJid& account, const RosterItem& item, std::int64_t version,
                        const std::set<std::string>& only) {
    auto it = interested_.find(account);
    if (it == interested_.end()) return;
    for (const auto& resource : only.empty() ? it->second : only) {
        auto to = account.with_resource(resource);
        if (!to) continue;
        xml::Element iq{"iq", std::string(ns::client)};
        iq.set_attribute("type", "set");
        iq.set_attribute("id", "push-" + random::id(8));
        auto& query = iq.add_child("query", std::string(ns::roster));
        query.set_attribute("ver", std::to_string(version));
        query.add_child(item_element(item));
        ctx_.send(xmpp::Stanza{xmpp::StanzaKind::iq, std::move(iq), account.jid(), *to});
    }
}

Task<void> RosterModule::get(IqRequest& request) {
    if (!own_account(request)) co_return request.error(StanzaErrorCondition::forbidden);
    const xmpp::Jid& from = request.from();
    xmpp::BareJid account = from.bare();
    const std::string* client_ver = request.payload().find_attribute("ver");
    server::stores::Owner user = server::stores::Owner::of(account);
    std::int64_t since = -1;
    if (client_ver && !client_ver->empty() && client_ver->size() < 19 &&
        client_ver->find_first_not_of("0123456789") == std::string::npos)
        since = std::stoll(*client_ver);

    struct Answer {
        std::int64_t version;
        std::vector<RosterItem> items;
        bool incremental;
    };
    auto load = [user, since](storage::Database& db) {
        RosterStore store{db};
        std::int64_t version = store.version(user);
        // §2.6.3: a version we know gets an empty result and pushes of what changed.
        if (since >= 0 && since <= version) return Answer{version, store.changes_since(user, since), true};
        return Answer{version, store.items(user), false};
    };
    Answer answer = co_await ctx_.storage().run(std::move(load));
    // The resource may have gone while the roster was loading (§2.1.6: pushes only to
    // resources that asked, and still exist).
    auto bound = ctx_.resources_of(account);
    if (std::find(bound.begin(), bound.end(), from) != bound.end())
        interested_[account].insert(std::string(from.resource()));
    if (answer.incremental) {
        request.reply();
        for (const auto& item : answer.items) push(account, item, item.version, {std::string(from.resource())});
        co_return;
    }
    xml::Element query{"query", std::string(ns::roster)};
    // §2.6.3: with versioning advertised, every result carries the version, also for a
    // client whose get had none (it can cache the roster from now on).
    query.set_attribute("ver", std::to_string(answer.version));
    for (const auto& item : answer.items) query.add_child(item_element(item));
    request.reply(std::move(query));
}

Task<void> RosterModule::set(IqRequest& request) {
    if (!own_account(request)) co_return request.error(StanzaErrorCondition::forbidden);
    xmpp::BareJid account = request.from().bare();
    const xml::Element& query = request.payload();
    // §2.3.3: exactly one item.
    if (query.child_element_count() != 1) co_return request.error(StanzaErrorCondition::bad_request, "one item");
    const xml::Element* e = query.find_child("item", ns::roster);
    if (!e) co_return request.error(StanzaErrorCondition::bad_request, "no item");
    auto jid = xmpp::Jid::parse(e->attribute("jid"));
    if (!jid || !e->has_attribute("jid")) co_return request.error(StanzaErrorCondition::jid_malformed);
    std::string contact = jid->bare().str();
    server::stores::Owner user = server::stores::Owner::of(account);

    if (e->attribute("subscription") == "remove") {
        auto remove = [user, contact](storage::Database& db) { return RosterStore{db}.remove(user, contact); };
        auto before = co_await ctx_.storage().run(std::move(remove));
        subscribers_changed(account);
        // §2.5.3
        if (!before) co_return request.error(StanzaErrorCondition::item_not_found);
        request.reply();
        RosterItem gone{contact};
        gone.removed = true;
        push(account, gone, before->version);
        // §2.5.2: the subscriptions end with the item, and the contact is told.
        xmpp::Jid contact_jid = jid->bare().jid();
        auto tell = [&](std::string_view type, const xmpp::Jid& from) {
            xml::Element p{"presence", std::string(ns::client)};
            p.set_attribute("type", type);
            ctx_.send(xmpp::Stanza{xmpp::StanzaKind::presence, std::move(p), from, contact_jid});
        };
        bool to = before->subscription == "to" || before->subscription == "both";
        bool from = before->subscription == "from" || before->subscription == "both";
        if (to || before->ask) tell("unsubscribe", account.jid());
        if (from || before->pending_in) tell("unsubscribed", account.jid());
        if (from)
            for (const auto& resource : ctx_.resources_of(account)) tell("unavailable", resource);
        co_return;
    }

    RosterItem item{contact};
    item.name = std::string(e->attribute("name"));
    if (item.name.size() > options_.max_name_bytes)
        co_return request.error(StanzaErrorCondition::not_acceptable, "name too long");
    std::set<std::string> seen;
    for (const auto& child : e->children()) {
        if (!child.element || !child.element->is("group", ns::roster)) continue;
        std::string group = child.element->text();
        // §2.3.3: empty or oversized groups are not acceptable, duplicates a bad request.
        if (group.empty() || group.size() > options_.max_name_bytes)
            co_return request.error(StanzaErrorCondition::not_acceptable, "bad group name");
        if (!seen.insert(group).second) co_return request.error(StanzaErrorCondition::bad_request, "duplicate group");
        item.groups.push_back(std::move(group));
    }
    // The client sets only name and groups; subscription state is the server's (§2.1.2.5).
    auto max_items = options_.max_items;
    auto store = [user, item, max_items](storage::Database& db) mutable -> std::optional<RosterItem> {
        RosterStore roster{db};
        if (auto existing = roster.item(user, item.jid)) {
            item.subscription = existing->subscription;
            item.ask = existing->ask;
            item.pending_in = existing->pending_in;
            item.approved = existing->approved;
            item.request = existing->request;  // the pending request, as it came
        } else if (roster.count(user) >= max_items) {
            return std::nullopt;
        }
        roster.put(user, item);
        return item;
    };
    auto stored = co_await ctx_.storage().run(std::move(store));
    if (!stored) co_return request.error(StanzaErrorCondition::resource_constraint, "the roster is full");
    request.reply();
    push(account, *stored, stored->version);
}


const config::ModuleOptionsOf<Options> options{config::OptionSet<Options>{}
    .add("max_items", &Options::max_items, "Items one roster may hold; a set beyond gets resource-constraint")
    .add("max_name_bytes", &Options::max_name_bytes, "Longest item name or group name, in bytes")
    .add("iq_needs_shared_presence", &Options::iq_needs_shared_presence,
         "Answer service-unavailable to an iq get/set for one of a user's resources from someone who "
         "shares no presence with the user (RFC 6121 §8.5.3.1; hides who is online, but also stops disco, "
         "version and Jingle between non-contacts)")};

extern const ModuleInfo info{
    .name = "roster",
    .description = "Contact lists, with versioning and pushes to every interested resource",
    .rfcs = {{"RFC 6121 §2", "Roster management, with versioning (§2.6)"},
             {"RFC 6121 §3", "Presence subscriptions (Appendix A state machine, pre-approval)"},
             {"RFC 6121 §4", "Presence broadcast, probes, directed presence"}},
    .options = &options,
    .create = create_module_with_options<RosterModule, Options>,
    .prepare_tables = [](storage::Database& db) { RosterStore{db}; },
    .remove_account = &RosterStore::remove_account,
};

}  // namespace starling::roster
