// RosterModule, part two: presence subscriptions (RFC 6121 §3, Appendix A) and presence
// broadcast and probes (§4). Runs on the account's owner shard; each state change is one
// read-modify-write inside one storage-thread call, then pushes and routing here.
#include <boost/asio/co_spawn.hpp>

#include "base/log.hpp"
#include "server/modules/roster/roster_module.hpp"
#include "server/storage/storage_thread.hpp"
#include "xml/parse_element.hpp"
#include "xml/writer.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::roster {

using namespace server;
using xmpp::Stanza;
using xmpp::StanzaKind;

namespace {

std::optional<SubscriptionType> type_of(std::string_view t) {
    if (t == "subscribe") return SubscriptionType::subscribe;
    if (t == "subscribed") return SubscriptionType::subscribed;
    if (t == "unsubscribe") return SubscriptionType::unsubscribe;
    if (t == "unsubscribed") return SubscriptionType::unsubscribed;
    return std::nullopt;
}

// 'from' or 'both': the contact gets the user's presence.
bool sees_presence(const RosterItem& i) { return i.subscription == "from" || i.subscription == "both"; }

SubscriptionState state_of(const RosterItem& i) {
    return {i.subscription == "to" || i.subscription == "both", sees_presence(i),
            i.ask, i.pending_in, i.approved};
}

void apply(RosterItem& i, const SubscriptionState& s) {
    i.subscription = std::string(s.subscription());
    i.ask = s.pending_out;
    i.pending_in = s.pending_in;
    i.approved = s.approved;
    if (!i.pending_in) i.request.clear();
}

// Nothing left that the user asked for or agreed to: a hidden item has no reason to exist.
bool empty_hidden(const RosterItem& i) { return i.hidden && !i.pending_in && !i.approved && i.subscription == "none"; }

Stanza presence(std::string_view type, const xmpp::Jid& from, const xmpp::Jid& to) {
    xml::Element e{"presence", std::string(ns::client)};
    if (!type.empty()) e.set_attribute("type", type);
    return Stanza{StanzaKind::presence, std::move(e), from, to};
}

// A stranger's request is stored until answered, so its size is bounded; the extensions
// clients put there (a nick, a pre-auth token) are a few hundred bytes.
constexpr std::size_t max_stored_request_bytes = 4096;

// The subscribe request to keep for redelivery at the user's next login (§3.1.3), with its
// extension elements; "" when it is too large to keep whole (the request itself is kept).
std::string stored_request(const Stanza& subscribe) {
    std::string text = xml::to_string(subscribe.element());
    return text.size() <= max_stored_request_bytes ? text : std::string{};
}

// The request again, as the contact sent it, addressed to the resource that logged in.
Stanza pending_request(const RosterItem& item, const xmpp::Jid& contact, const xmpp::Jid& to) {
    if (!item.request.empty())
        if (auto element = xml::parse_element(item.request); element && element->is("presence", ns::client))
            return Stanza{StanzaKind::presence, std::move(*element), contact, to};
    return presence("subscribe", contact, to);
}

struct Change {
    Transition transition;
    RosterItem item;
    bool pushed = false;     // the visible roster changed: push it
    bool lost_from = false;  // the contact no longer gets the user's presence
};

}  // namespace

void RosterModule::spawn(Task<void> task) { ctx_.spawn(std::move(task)); }

void RosterModule::register_presence_handlers() {
    ctx_.on<OwnPresence>([this](OwnPresence& e) { spawn(broadcast(e.stanza, e.initial, true)); });
    ctx_.on<OutboundSubscription>([this](OutboundSubscription& e) {
        spawn(outbound(e.stanza));
        return Flow::stop;
    });
    ctx_.on<DirectedPresence>([this](DirectedPresence& e) {
        // §4.6.3: whoever got directed presence hears when the resource goes away.
        auto& sent = directed_[*e.stanza.from()];
        if (e.stanza.type().empty()) sent.insert(*e.stanza.to());
        else sent.erase(*e.stanza.to());
    });
    ctx_.on<PresenceToAccount>([this](PresenceToAccount& e) {
        auto account = e.stanza.to()->bare();
        if (!changing_.contains(account)) return Flow::next;
        held_[account].push_back(e.stanza);
        return Flow::stop;
    });
    // XEP-0191 §3.3, §3.4: blocking ends the user's presence for those it reaches, and
    // unblocking gives it back.
    ctx_.on<ContactsBlocking>([this](ContactsBlocking& e) { e.work.push_back(presence_ends_for(e.account, e.added)); });
    ctx_.on<ContactsUnblocked>([this](ContactsUnblocked& e) { spawn(presence_resumes_for(e.account, e.removed)); });
    if (options_.iq_needs_shared_presence)
        ctx_.on<StanzaToAccount>([this](StanzaToAccount& e) { return guard_iq(e.stanza); });
    ctx_.on<AccountRemoving>([this](AccountRemoving& e) { e.work.push_back(subscriptions_end(e.account)); });
    ctx_.on<InboundSubscription>([this](InboundSubscription& e) {
        spawn(e.stanza.type() == "probe" ? answer_probe(e.stanza) : inbound(e.stanza));
        return Flow::stop;
    });
}

// The available resources of an account, with their last presence.
std::vector<std::pair<xmpp::Jid, const xml::Element*>> RosterModule::available_of(const xmpp::BareJid& account) const {
    std::vector<std::pair<xmpp::Jid, const xml::Element*>> out;
    auto it = last_presence_.find(account);
    if (it == last_presence_.end()) return out;
    for (const auto& [resource, element] : it->second)
        if (auto jid = account.with_resource(resource)) out.emplace_back(*jid, &element);
    return out;
}

Task<void> RosterModule::broadcast(Stanza stanza, bool initial, bool from_client) {
    const xmpp::Jid from = *stanza.from();
    const xmpp::BareJid account = from.bare();
    bool available = stanza.type().empty();
    // The subscriber list of an account going offline goes with it, after this broadcast.
    std::shared_ptr<const std::vector<xmpp::Jid>> subscribers;
    if (available) {
        last_presence_[account][std::string(from.resource())] = stanza.element();
    } else if (auto it = last_presence_.find(account); it != last_presence_.end()) {
        it->second.erase(std::string(from.resource()));
        if (it->second.empty()) {
            last_presence_.erase(it);
            if (auto s = subscribers_.find(account); s != subscribers_.end()) {
                subscribers = std::move(s->second.jids);
                subscribers_.erase(s);
            }
        }
    }

    // Taken now, not after the store call: by then a new session may have bound this
    // resource again and started its own directed presence (§4.6.3).
    std::set<xmpp::Jid> directed;
    if (!available)
        if (auto it = directed_.find(from); it != directed_.end()) {
            directed = std::move(it->second);
            directed_.erase(it);
        }
    std::vector<xmpp::Jid> own;
    for (const auto& [resource, element] : available_of(account)) own.push_back(resource);
    // §4.5.2: unavailable presence goes to the resource that generated it too. Only a
    // client's own: the one generated when a session ends has nobody to reach, and its JID
    // may already be bound again by the session that replaced it.
    if (!available && from_client) own.push_back(from);

    // §4.2.2, §4.4.2, §4.5.2: to every contact subscribed to the user's presence, and to
    // the user's own available resources. Nobody else learns anything (§3: no leaks).
    // The initial broadcast reads the roster anyway: it probes and repeats pending requests.
    std::vector<RosterItem> items, pending;
    if (const Subscribers* known = cached_subscribers(account); !subscribers && known) subscribers = known->jids;
    if (!subscribers || initial) {
        std::uint64_t generation = available ? subscribers_generation(account) : 0;
        server::stores::Owner user = server::stores::Owner::of(account);
        auto load = [user](storage::Database& db) {
            RosterStore roster{db};
            return std::pair{roster.items(user), initial_pending(roster, user)};
        };
        auto loaded = co_await ctx_.storage().run(std::move(load));
        items = std::move(loaded.first);
        pending = std::move(loaded.second);
        auto jids = std::make_shared<std::vector<xmpp::Jid>>();
        for (const auto& item : items)
            if (sees_presence(item))
                if (auto to = xmpp::Jid::parse(item.jid)) jids->push_back(std::move(*to));
        subscribers = jids;
        if (available) keep_subscribers(account, generation, std::move(jids));
    }
    for (const auto& to : *subscribers) {
        Stanza copy = stanza;
        copy.set_to(to);
        ctx_.send(std::move(copy));
    }
    for (const auto& resource : own) {
        Stanza copy = stanza;
        copy.set_to(resource);
        ctx_.send(std::move(copy));
    }
    // §4.6.3: the end of availability reaches those who got directed presence too.
    for (const auto& to : directed) {
        Stanza copy = stanza;
        copy.set_to(to);
        ctx_.send(std::move(copy));
    }
    if (!initial) co_return;
    // §4.2.1: probe the contacts the user is subscribed to; they answer with their presence.
    for (const auto& item : items)
        if (item.subscription == "to" || item.subscription == "both")
            if (auto to = xmpp::Jid::parse(item.jid)) ctx_.send(presence("probe", account.jid(), *to));
    // The user's other resources, so the new one knows them.
    for (const auto& [resource, element] : available_of(account)) {
        if (resource == from) continue;
        ctx_.send(Stanza{StanzaKind::presence, *element, resource, from});
    }
    // §3.1.3: requests the user has not answered yet come again at each login.
    for (const auto& item : pending)
        if (auto contact = xmpp::Jid::parse(item.jid)) ctx_.send(pending_request(item, *contact, from));
}

const RosterModule::Subscribers* RosterModule::cached_subscribers(const xmpp::BareJid& account) const {
    auto it = subscribers_.find(account);
    return it != subscribers_.end() && it->second.jids ? &it->second : nullptr;
}

std::uint64_t RosterModule::subscribers_generation(const xmpp::BareJid& account) {
    auto& entry = subscribers_[account];
    if (entry.generation == 0) entry.generation = ++next_generation_;
    return entry.generation;
}

void RosterModule::keep_subscribers(const xmpp::BareJid& account, std::uint64_t generation,
                                    std::shared_ptr<const std::vector<xmpp::Jid>> jids) {
    auto it = subscribers_.find(account);
    // Gone offline meanwhile, or the roster changed after this read began.
    if (it == subscribers_.end() || it->second.generation != generation || !last_presence_.contains(account)) return;
    Subscribers& entry = it->second;
    entry.bare_jids.clear();
    for (const auto& jid : *jids) entry.bare_jids.insert(jid.str());
    entry.jids = std::move(jids);
}

void RosterModule::subscribers_changed(const xmpp::BareJid& account) {
    auto it = subscribers_.find(account);
    if (it == subscribers_.end()) return;
    it->second = Subscribers{++next_generation_};
}

std::vector<RosterItem> RosterModule::initial_pending(RosterStore& roster, const server::stores::Owner& user) {
    return roster.pending_in(user);
}

Task<void> RosterModule::outbound(Stanza stanza) {
    auto type = *type_of(stanza.type());
    const xmpp::BareJid account = stanza.from()->bare();
    server::stores::Owner user = server::stores::Owner::of(account);
    std::string contact = stanza.to()->bare().str();
    auto change = [user, contact, type](storage::Database& db) {
        RosterStore roster{db};
        auto existing = roster.item(user, contact);
        RosterItem item = existing.value_or(RosterItem{contact});
        SubscriptionState before = state_of(item);
        Change c{roster::outbound(before, type), item};
        // §3.1.2: subscribing adds the contact to the roster; §3.1.5: approving a request
        // from someone not in the roster adds them too.
        bool show = (!existing || item.hidden) &&
                    (type == SubscriptionType::subscribe || (type == SubscriptionType::subscribed && c.transition.forward));
        if (!c.transition.changed(before) && !show) return c;
        apply(c.item, c.transition.next);
        if (show) c.item.hidden = false;
        if (empty_hidden(c.item)) {
            roster.forget(user, contact);
            return c;
        }
        if (!existing && c.item.hidden) c.item.hidden = false;
        roster.put(user, c.item);
        c.pushed = !c.item.hidden;
        return c;
    };
    Change c = co_await ctx_.storage().run(std::move(change));
    subscribers_changed(account);
    if (c.pushed) push(account, c.item, c.item.version);
    if (!c.transition.forward) co_return;
    auto to = *stanza.to();
    // §3.2.2: while the contact is still subscribed, before the cancellation, it hears that
    // each of the user's resources went away.
    if (type == SubscriptionType::unsubscribed)
        for (const auto& [resource, element] : available_of(account))
            ctx_.send(presence("unavailable", resource, to));
    ctx_.send(stanza);
    // §3.1.5: the contact now sees the user's presence.
    if (type == SubscriptionType::subscribed)
        for (const auto& [resource, element] : available_of(account))
            ctx_.send(Stanza{StanzaKind::presence, *element, resource, to});
}

Task<void> RosterModule::inbound(Stanza stanza) {
    auto type = type_of(stanza.type());
    if (!type || !stanza.from()) co_return;
    const xmpp::BareJid account = stanza.to()->bare();
    const xmpp::Jid contact_jid = stanza.from()->bare().jid();
    server::stores::Owner user = server::stores::Owner::of(account);
    std::string contact = contact_jid.str();
    ++changing_[account];
    auto max_pending = options_.max_items;
    std::string request = *type == SubscriptionType::subscribe ? stored_request(stanza) : std::string{};
    auto change = [user, contact, t = *type, max_pending, request](storage::Database& db) {
        RosterStore roster{db};
        auto existing = roster.item(user, contact);
        RosterItem item = existing.value_or(RosterItem{contact});
        if (!existing) item.hidden = true;  // a stranger's request is not a roster item (§3.1.3)
        SubscriptionState before = state_of(item);
        Change c{roster::inbound(before, t), item};
        // Strangers cannot fill the store: past the bound, new requests are dropped.
        if (!existing && t == SubscriptionType::subscribe && roster.hidden_count(user) >= max_pending) {
            c.transition = Transition{before};
            return c;
        }
        c.lost_from = before.from && !c.transition.next.from;
        if (!c.transition.changed(before)) return c;
        apply(c.item, c.transition.next);
        if (c.item.pending_in && t == SubscriptionType::subscribe) c.item.request = request;
        if (empty_hidden(c.item)) {
            if (existing) roster.forget(user, contact);
            return c;
        }
        roster.put(user, c.item);
        c.pushed = !c.item.hidden;
        return c;
    };
    std::optional<Change> stored;
    try {
        stored = co_await ctx_.storage().run(std::move(change));
    } catch (...) {
        release(account);  // presence held for the account goes on, whatever happened
        throw;
    }
    Change c = std::move(*stored);
    subscribers_changed(account);
    if (c.transition.forward) {
        // Before the push it explains: a subscribe to each available resource (§3.1.3; one
        // nobody sees now stays pending), an answer or a cancellation to each interested
        // resource too, available or not (§3.1.6, §3.2.3, §3.3.3 step 1).
        stanza.set_from(contact_jid);
        std::set<xmpp::Jid> targets;
        for (const auto& [resource, element] : available_of(account)) targets.insert(resource);
        if (*type != SubscriptionType::subscribe)
            if (auto it = interested_.find(account); it != interested_.end())
                for (const auto& resource : it->second)
                    if (auto jid = account.with_resource(resource)) targets.insert(std::move(*jid));
        for (const auto& resource : targets) {
            Stanza copy = stanza;
            copy.set_to(resource);
            ctx_.send(std::move(copy));
        }
    }
    if (c.pushed) push(account, c.item, c.item.version);
    // §3.3.3: a contact that unsubscribed no longer sees the user as online.
    if (c.lost_from)
        for (const auto& [resource, element] : available_of(account))
            ctx_.send(presence("unavailable", resource, contact_jid));
    if (c.transition.reply_subscribed) {
        ctx_.send(presence("subscribed", account.jid(), contact_jid));
        for (const auto& [resource, element] : available_of(account))
            ctx_.send(Stanza{StanzaKind::presence, *element, resource, contact_jid});
    }
    if (c.transition.reply_unsubscribed) ctx_.send(presence("unsubscribed", account.jid(), contact_jid));
    release(account);
}

Task<bool> RosterModule::receives_presence(xmpp::BareJid account, xmpp::BareJid contact) {
    if (const Subscribers* known = cached_subscribers(account)) co_return known->bare_jids.contains(contact.str());
    auto lookup = [user = server::stores::Owner::of(account), contact = contact.str()](storage::Database& db) {
        return RosterStore{db}.item(user, contact);
    };
    std::optional<RosterItem> item = co_await ctx_.storage().run(std::move(lookup));
    co_return item && sees_presence(*item);
}

Task<std::optional<std::vector<std::string>>> RosterModule::groups_of_subscriber(xmpp::BareJid account,
                                                                               xmpp::BareJid contact) {
    auto lookup = [user = server::stores::Owner::of(account), contact = contact.str()](storage::Database& db) {
        return RosterStore{db}.item(user, contact);
    };
    std::optional<RosterItem> item = co_await ctx_.storage().run(std::move(lookup));
    if (!item || !sees_presence(*item)) co_return std::nullopt;
    co_return std::move(item->groups);
}

Task<void> RosterModule::answer_probe(Stanza probe) {
    if (!probe.from()) co_return;
    const xmpp::BareJid account = probe.to()->bare();
    const xmpp::Jid prober = probe.from()->bare().jid();
    // §4.3.2: only a subscriber learns anything, and a stranger cannot tell why not.
    bool subscribed = co_await receives_presence(account, prober.bare());
    if (!subscribed) co_return;
    auto available = available_of(account);
    // §4.3.2, §8.5.3.1: a probe to a full JID learns about that resource only.
    const xmpp::Jid& asked = *probe.to();
    if (asked.has_resource()) std::erase_if(available, [&](const auto& entry) { return entry.first != asked; });
    for (const auto& [resource, element] : available) ctx_.send(Stanza{StanzaKind::presence, *element, resource, prober});
    if (available.empty()) ctx_.send(presence("unavailable", asked, prober));
}

void RosterModule::release(const xmpp::BareJid& account) {
    auto it = changing_.find(account);
    if (it == changing_.end() || --it->second > 0) return;
    changing_.erase(it);
    auto held = held_.find(account);
    if (held == held_.end()) return;
    auto stanzas = std::move(held->second);
    held_.erase(held);
    // Through the router again, in order: PresenceToAccount fires for them as for any
    // presence (PEP learns a contact's caps from it), and nothing is held now.
    for (auto& s : stanzas) ctx_.route_again(std::move(s));
}

// Runs before the block takes effect, so these last presences still pass.
// The contacts subscribed to the account's presence ('from' or 'both') that `which` matches.
Task<std::vector<xmpp::Jid>> RosterModule::subscribers_matching(const xmpp::BareJid& account, const xmpp::JidMatcher& which) {
    server::stores::Owner user = server::stores::Owner::of(account);
    auto load = [user](storage::Database& db) { return RosterStore{db}.items(user); };
    auto items = co_await ctx_.storage().run(std::move(load));
    std::vector<xmpp::Jid> out;
    for (const auto& item : items) {
        if (!sees_presence(item)) continue;
        if (auto contact = xmpp::Jid::parse(item.jid); contact && which.matches(*contact)) out.push_back(*contact);
    }
    co_return out;
}

Task<void> RosterModule::presence_ends_for(xmpp::BareJid account, xmpp::JidMatcher blocked) {
    auto contacts = co_await subscribers_matching(account, blocked);
    for (const auto& contact : contacts)
        for (const auto& [resource, element] : available_of(account)) ctx_.send(presence("unavailable", resource, contact));
    // Directed presence too (RFC 6121 §4.6): its end is due to whoever got it.
    const std::string prefix = account.str() + "/";
    for (auto it = directed_.lower_bound(account.jid()); it != directed_.end() && it->first.str().starts_with(prefix); ++it)
        for (auto to = it->second.begin(); to != it->second.end();) {
            if (!blocked.matches(*to)) {
                ++to;
                continue;
            }
            ctx_.send(presence("unavailable", it->first, *to));
            to = it->second.erase(to);
        }
}

Task<void> RosterModule::presence_resumes_for(xmpp::BareJid account, xmpp::JidMatcher unblocked) {
    auto contacts = co_await subscribers_matching(account, unblocked);
    for (const auto& contact : contacts)
        for (const auto& [resource, element] : available_of(account))
            ctx_.send(Stanza{StanzaKind::presence, *element, resource, contact});
}

// RFC 6121 §8.5.3.1 says a server SHOULD NOT deliver an iq get/set to one of the user's
// resources from someone the user shares no presence with (no 'from'/'both' subscription,
// no directed presence), but answer as if the resource were not there, so nobody learns who
// is online. By default it is delivered, as Prosody and ejabberd do: clients query the disco
// and version of a contact's resource before any subscription, and Jingle (XEP-0166, file
// transfer XEP-0234) runs between non-contacts; XEP-0191 blocking still applies either way.
// iq_needs_shared_presence follows the SHOULD NOT for operators who prefer it.
Flow RosterModule::guard_iq(Stanza& stanza) {
    if (!stanza.is_iq_request() || !stanza.from() || !stanza.to()->has_resource()) return Flow::next;
    const xmpp::Jid& from = *stanza.from();
    const xmpp::Jid& to = *stanza.to();
    // The account itself and its server need no permission.
    if (from.domain() == to.domain() && (from.is_domain() || from.local() == to.local())) return Flow::next;
    if (cleared_.contains({from.str(), std::string(stanza.id())})) return Flow::next;
    if (auto d = directed_.find(to); d != directed_.end() && (d->second.contains(from) || d->second.contains(from.bare().jid())))
        return Flow::next;
    spawn(deliver_if_sharing(std::move(stanza)));
    return Flow::stop;
}

Task<void> RosterModule::deliver_if_sharing(Stanza iq) {
    bool sharing = co_await receives_presence(iq.to()->bare(), iq.from()->bare());
    if (!sharing) {
        ctx_.route_again(iq.error_reply({xmpp::StanzaErrorCondition::service_unavailable}));
        co_return;
    }
    // Routed again here, on the owner shard, it passes guard_iq() at once.
    std::pair<std::string, std::string> key{iq.from()->str(), std::string(iq.id())};
    cleared_.insert(key);
    ctx_.route_again(std::move(iq));
    cleared_.erase(key);
}

// XEP-0077 §3.2: an account cancelled in-band ends its subscriptions, so its contacts'
// rosters stop pointing at a presence that will never come (RFC 6121 §3.2, §3.3). Its own
// roster goes with the account, so only the contacts are told.
Task<void> RosterModule::subscriptions_end(xmpp::BareJid account) {
    server::stores::Owner user = server::stores::Owner::of(account);
    auto load = [user](storage::Database& db) { return RosterStore{db}.items(user); };
    auto items = co_await ctx_.storage().run(std::move(load));
    for (const auto& item : items) {
        auto contact = xmpp::Jid::parse(item.jid);
        if (!contact) continue;
        bool from = sees_presence(item);
        if (from)
            for (const auto& [resource, element] : available_of(account))
                ctx_.send(presence("unavailable", resource, *contact));
        if (from || item.pending_in) ctx_.send(presence("unsubscribed", account.jid(), *contact));
        if (item.subscription == "to" || item.subscription == "both" || item.ask)
            ctx_.send(presence("unsubscribe", account.jid(), *contact));
    }
}

void RosterModule::unavailable_after_disconnect(const xmpp::Jid& resource) {
    // §4.5.2: a session that ends without saying goodbye still leaves with unavailable.
    auto it = last_presence_.find(resource.bare());
    if (it != last_presence_.end() && it->second.contains(std::string(resource.resource()))) {
        spawn(broadcast(presence("unavailable", resource, resource.bare().jid()), false, false));
        return;
    }
    // Never broadcast, but it may have sent directed presence (§4.6.3).
    if (auto d = directed_.find(resource); d != directed_.end()) {
        for (const auto& to : d->second) ctx_.send(presence("unavailable", resource, to));
        directed_.erase(d);
    }
}

}  // namespace starling::roster
