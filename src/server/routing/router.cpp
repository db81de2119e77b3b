#include "server/routing/router.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "base/log.hpp"
#include "server/storage/accounts/account_store.hpp"
#include "server/storage/storage_thread.hpp"
#include "server/module/events.hpp"
#include "server/routing/host.hpp"
#include "server/module/service.hpp"
#include "server/server.hpp"
#include "server/stream/c2s/c2s_stream.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server {

using xmpp::Stanza;
using xmpp::StanzaErrorCondition;
using xmpp::StanzaKind;

Router::Router(Server& server, const std::vector<std::unique_ptr<Host>>& hosts, std::size_t shard)
    : server_{server}, hosts_{hosts}, shard_{shard}, pending_{server.shards().at(shard).context(), shard} {}

Host* Router::host_of(std::string_view domain) const {
    // A few domains per server: a scan of their canonical names beats hashing the name.
    for (const auto& host : hosts_)
        if (host->domain().domain() == domain) return host.get();
    return nullptr;
}

void Router::add_service(Service& service) {
    if (!services_.emplace(service.domain.str(), &service).second || host_of(service.domain.domain()))
        throw std::logic_error("two services for " + service.domain.str());
}

Service* Router::service_for(std::string_view domain) const {
    auto it = services_.find(std::string(domain));
    return it == services_.end() ? nullptr : it->second;
}

Task<Stanza> Router::query(Stanza iq, std::chrono::milliseconds timeout) {
    std::string id = pending_.add(iq, timeout);
    route(std::move(iq));
    Stanza reply = co_await pending_.wait(std::move(id));
    co_return reply;
}

// A result or error for an iq a module sent (its id names the waiting shard), addressed to
// the host, a service or entity, or an account's bare JID: carried to that shard. Replies to
// an account's resources are theirs, whatever their id.
bool Router::take_reply(const Stanza& stanza) {
    auto owner = PendingIqs::shard_of(stanza.id());
    if (!owner || *owner >= server_.shards().size()) return false;
    if (*owner == shard_) {
        pending_.complete(stanza);
        return true;
    }
    server_.shards().post(*owner, [&server = server_, owner = *owner, s = stanza] {
        server.shard(owner).router.pending_.complete(s);
    });
    return true;
}

void Router::bounce(const Stanza& stanza, StanzaErrorCondition condition, std::string text) {
    // RFC 6120 §8.3.1: never answer an error with an error; results are not requests either.
    if (stanza.is_error() || (stanza.kind() == StanzaKind::iq && stanza.type() == "result")) return;
    // RFC 6121 §4.3, §8.5: presence is dropped, but a subscription request that cannot be
    // routed gets an error (§3.1.2), or the user would wait for an answer forever.
    if (stanza.kind() == StanzaKind::presence && stanza.type() != "subscribe") return;
    Stanza reply = stanza.error_reply({condition, std::move(text)});
    if (!reply.from()) {
        // The stanza had no 'to': it was for the sender's own server.
        Host* own = stanza.from() ? host_of(stanza.from()->domain()) : nullptr;
        reply.set_from((own ? *own : *hosts_.front()).domain());
    }
    route(std::move(reply));
}

void Router::route(Stanza stanza) {
    const auto& to = stanza.to();
    if (!to) {
        // RFC 6120 §10.3.3: no 'to' means the sender's own account: the server handles it
        // as if addressed to the bare JID (and answers from it).
        if (!stanza.from() || !stanza.from()->has_local()) return;
        if (stanza.kind() == StanzaKind::presence) return own_presence(std::move(stanza));
        stanza.set_to(stanza.from()->bare().jid());
        return route(std::move(stanza));
    }
    Host* local = host_of(to->domain());
    Service* service = local ? nullptr : service_for(to->domain());
    // A reply to a module's query: to the host, a service or an entity, or to an account's
    // bare JID (PEP asks a contact's client from the account; a client never gets a reply at
    // its bare JID, RFC 6121 §8.5.2.1.3, so nothing is taken from one).
    if (stanza.kind() == StanzaKind::iq && !stanza.is_iq_request() &&
        (service || (local && (!to->has_local() || !to->has_resource()))) && take_reply(stanza))
        return;
    if (service) {
        if (!to->has_local()) return handle_for_service(*service, std::move(stanza));
        std::size_t owner = server_.owner_of(to->bare());
        if (owner == shard_) return deliver_to_entity(std::move(stanza));
        server_.shards().post(owner, [&server = server_, owner, s = std::move(stanza)]() mutable {
            server.shard(owner).router.deliver_to_entity(std::move(s));
        });
        return;
    }
    if (!local) {
        // No federation yet: S2S will slot in here (docs/architecture.md).
        return bounce(stanza, StanzaErrorCondition::remote_server_not_found);
    }
    if (!to->has_local()) return handle_for_host(*local, std::move(stanza));
    std::size_t owner = server_.owner_of(to->bare());
    if (owner == shard_) return deliver_local(std::move(stanza));
    server_.shards().post(owner, [&server = server_, owner, s = std::move(stanza)]() mutable {
        server.shard(owner).router.deliver_local(std::move(s));
    });
}

void Router::from_session(Stanza stanza) {
    if (stanza.kind() == StanzaKind::presence && stanza.to()) {
        if (is_subscription(stanza.type()) && stanza.type() != "probe") {
            // RFC 6121 §3.1.2: subscription stanzas are the account's, not one resource's,
            // and change its roster before they leave.
            stanza.set_from(stanza.from()->bare().jid());
            stanza.set_to(stanza.to()->bare().jid());
            return outbound_subscription(std::move(stanza));
        }
        // RFC 6121 §4.6: directed presence (an error or probe from a client goes on as is).
        if (stanza.type().empty() || stanza.type() == "unavailable") return directed_presence(std::move(stanza));
    }
    route(std::move(stanza));
}

bool Router::dispatch_iq(const IqTable& table, const Stanza& stanza, To to) {
    const xml::Element* payload = stanza.payload();
    if (!payload) return false;
    const auto* handler = table.find(stanza.type(), payload->xmlns(), payload->name(), to);
    if (!handler) return false;
    auto send = [this](Stanza reply) { route(std::move(reply)); };
    if (handler->sync) {
        IqRequest request{stanza, send};
        try {
            handler->sync(request);
        } catch (const std::exception& e) {
            log::error("iq handler for {{{}}}{} failed on id {}: {}", payload->xmlns(), payload->name(), stanza.id(),
                       e.what());
            request.error(StanzaErrorCondition::internal_server_error);
        }
        return true;
    }
    auto request = std::make_shared<IqRequest>(stanza, send);
    auto run = [request, handler]() -> Task<void> {
        try {
            co_await handler->async(*request);
        } catch (const std::exception& e) {
            const auto& p = request->payload();
            log::error("iq handler for {{{}}}{} failed on id {}: {}", p.xmlns(), p.name(), request->stanza().id(), e.what());
            request->error(StanzaErrorCondition::internal_server_error);
        }
    };
    boost::asio::co_spawn(server_.shards().at(shard_).context(), std::move(run), boost::asio::detached);
    return true;
}

void Router::handle_for_host(Host& host, Stanza stanza) {
    // Stanzas to the domain (or domain/resource) are the server's own business.
    if (stanza.kind() == StanzaKind::iq) {
        if (!stanza.is_iq_request()) return;  // a reply nobody waits for (any longer)
        if (dispatch_iq(host.iq(), stanza, To::host)) return;
        // RFC 6120 §8.4: a payload the server does not understand.
        return bounce(stanza, StanzaErrorCondition::service_unavailable);
    }
    // Messages and presence to the server itself go to the modules; untaken, they are
    // dropped, as RFC 6120 §10.3.1 allows for a domain without such a service.
    StanzaToHost event{stanza};
    host.hooks().fire(event);
}

void Router::handle_for_service(Service& service, Stanza stanza) {
    if (stanza.kind() == StanzaKind::iq) {
        if (!stanza.is_iq_request()) return;
        if (dispatch_iq(service.iq, stanza, To::host)) return;
        return bounce(stanza, StanzaErrorCondition::service_unavailable);
    }
    if (service.on_domain_stanza) return service.on_domain_stanza(std::move(stanza));
    if (stanza.kind() == StanzaKind::message) bounce(stanza, StanzaErrorCondition::service_unavailable);
}

void Router::deliver_to_entity(Stanza stanza) {
    Service* service = service_for(stanza.to()->domain());
    stanza.release_hold();  // the entity has it
    // The entity's IqTable answers for the entity itself (its bare JID); a request to one of
    // its resources (a room occupant) is the entity handler's to forward or refuse.
    if (service && stanza.is_iq_request() && !stanza.to()->has_resource() && dispatch_iq(service->iq, stanza, To::entity))
        return;
    if (service && service->on_entity_stanza) return service->on_entity_stanza(std::move(stanza));
    // RFC 6120 §10.5.3.2-like: no such entity. Presence is dropped (bounce() knows).
    bounce(stanza, StanzaErrorCondition::service_unavailable);
}

void Router::send_from_module(Stanza stanza) {
    const auto& from = stanza.from();
    Host* own = from && from->has_local() ? host_of(from->domain()) : nullptr;
    if (own && own->hooks().has<StanzaFromAccount>() && server_.owner_of(from->bare()) == shard_) {
        StanzaFromAccount event{stanza};
        if (own->hooks().fire(event) == Flow::stop) return;
    }
    route(std::move(stanza));
}

void Router::deliver_local(Stanza stanza) {
    Host* found = host_of(stanza.to()->domain());
    if (!found) return bounce(stanza, StanzaErrorCondition::service_unavailable);  // not served (any more)
    Host& host = *found;
    {
        StanzaToAccount event{stanza};
        if (host.hooks().fire(event) == Flow::stop) return;
    }
    const xmpp::Jid& to = *stanza.to();
    auto it = homes_.find(to.bare());
    UserHome* home = it == homes_.end() ? nullptr : &it->second;

    // RFC 6121 §8.5.3.1: a probe, to a full JID too, is the server's to answer (§4.3).
    if (to.has_resource() && stanza.kind() == StanzaKind::presence && stanza.type() == "probe") {
        InboundSubscription event{stanza};
        host.hooks().fire(event);
        return;
    }
    if (to.has_resource()) {
        if (BoundResource* r = home ? home->find(to.resource()) : nullptr) {
            to_session(r->session, std::move(stanza));
            return;
        }
        // RFC 6121 §8.5.3.2: no such resource.
        switch (stanza.kind()) {
            case StanzaKind::message:
                // §8.5.3.2.1: chat goes on as if to the bare JID; normal, headline and
                // groupchat get service-unavailable; errors are dropped.
                if (stanza.type() == "chat") return deliver_to_bare(home, std::move(stanza));
                return bounce(stanza, StanzaErrorCondition::service_unavailable);
            case StanzaKind::presence: return;  // §8.5.3.2.2 (subscriptions: the IM issue)
            case StanzaKind::iq: return bounce(stanza, StanzaErrorCondition::service_unavailable);
        }
    }
    if (stanza.kind() == StanzaKind::presence && is_subscription(stanza.type())) {
        InboundSubscription event{stanza};
        if (host.hooks().fire(event) == Flow::stop) return;
        // RFC 6121 §4.3: probes are the server's business, never the client's.
        if (stanza.type() == "probe") return;
    } else if (stanza.kind() == StanzaKind::presence) {
        PresenceToAccount event{stanza};
        if (host.hooks().fire(event) == Flow::stop) return;
    }
    if (stanza.kind() == StanzaKind::iq) {
        // RFC 6121 §8.5.1 / §8.5.2.1.3: the server answers on the account's behalf, but only
        // for an account that exists.
        if (!stanza.is_iq_request()) return;
        if (home) {
            if (!dispatch_iq(host.iq(), stanza, To::account))
                bounce(stanza, StanzaErrorCondition::service_unavailable);
            return;
        }
        return answer_for_offline_account(std::move(stanza));
    }
    deliver_to_bare(home, std::move(stanza));
}

bool Router::is_subscription(std::string_view type) {
    return type == "subscribe" || type == "subscribed" || type == "unsubscribe" || type == "unsubscribed" ||
           type == "probe";
}

void Router::own_presence(Stanza stanza) {
    const xmpp::Jid from = *stanza.from();
    std::size_t owner = server_.owner_of(from.bare());
    if (owner != shard_) {
        server_.shards().post(owner, [&server = server_, owner, s = std::move(stanza)]() mutable {
            server.shard(owner).router.own_presence(std::move(s));
        });
        return;
    }
    if (stanza.type() != "" && stanza.type() != "unavailable") return;  // §4.1: other types need a 'to'
    auto it = homes_.find(from.bare());
    BoundResource* r = it == homes_.end() ? nullptr : it->second.find(from.resource());
    if (!r || r->session.connection_id == 0) return;
    bool available = stanza.type().empty();
    bool initial = available && !r->available;
    if (!available && !r->available) return;  // unavailable twice: nothing to tell anyone
    r->available = available;
    r->priority = 0;
    r->show = 0;
    if (available) {
        std::string show = stanza.element().child_text("show", ns::client);
        for (std::uint8_t i = 1; i < std::size(presence_shows); ++i)
            if (show == presence_shows[i]) r->show = i;
        try {
            std::string p = stanza.element().child_text("priority", ns::client);
            if (!p.empty()) r->priority = std::clamp(std::stoi(p), -128, 127);
        } catch (...) {
        }
    }
    OwnPresence event{stanza, initial};
    if (Host* own = host_of(from.domain())) own->hooks().fire(event);
}

void Router::directed_presence(Stanza stanza) {
    std::size_t owner = server_.owner_of(stanza.from()->bare());
    if (owner != shard_) {
        server_.shards().post(owner, [&server = server_, owner, s = std::move(stanza)]() mutable {
            server.shard(owner).router.directed_presence(std::move(s));
        });
        return;
    }
    DirectedPresence event{stanza};
    if (Host* own = host_of(stanza.from()->domain())) own->hooks().fire(event);
    route(std::move(stanza));
}

void Router::outbound_subscription(Stanza stanza) {
    std::size_t owner = server_.owner_of(stanza.from()->bare());
    if (owner != shard_) {
        server_.shards().post(owner, [&server = server_, owner, s = std::move(stanza)]() mutable {
            server.shard(owner).router.outbound_subscription(std::move(s));
        });
        return;
    }
    OutboundSubscription event{stanza};
    Host* own = host_of(stanza.from()->domain());
    if (own && own->hooks().fire(event) == Flow::stop) return;
    route(std::move(stanza));
}

void Router::answer_for_offline_account(Stanza stanza) {
    // Nobody online: whether the account exists is a question for the store. The lookup
    // runs on the storage thread; the answer comes back to this (the owner) shard.
    std::string host{stanza.to()->domain()}, username{stanza.to()->local()};
    auto exists = [host, username](storage::Database& db) { return storage::AccountStore{db}.exists(host, username); };
    auto task = [this, exists, s = std::move(stanza)]() mutable -> Task<void> {
        bool found = co_await server_.storage().run(std::move(exists));
        Host* host = host_of(s.to()->domain());
        if (!found || !host || !dispatch_iq(host->iq(), s, To::account))
            bounce(s, StanzaErrorCondition::service_unavailable);
    };
    boost::asio::co_spawn(server_.shards().at(shard_).context(), std::move(task), boost::asio::detached);
}

void Router::deliver_to_bare(UserHome* home, Stanza stanza) {
    std::vector<const BoundResource*> targets;
    if (home) {
        if (stanza.kind() == StanzaKind::presence) {
            // Directed presence and subscription stanzas go to every available resource.
            for (const auto& r : home->resources)
                if (r.available) targets.push_back(&r);
        } else if (stanza.type() != "groupchat" && stanza.type() != "error") {
            // RFC 6121 §8.5.2.1.1: normal and chat to the highest-priority non-negative
            // resource(s); headline to every non-negative one.
            int best = -1;
            for (const auto& r : home->resources)
                if (r.available && r.priority >= 0) best = std::max(best, r.priority);
            for (const auto& r : home->resources)
                if (r.available && r.priority >= 0 && (stanza.type() == "headline" || r.priority == best))
                    targets.push_back(&r);
        }
    }
    if (targets.empty()) {
        if (stanza.kind() != StanzaKind::message || stanza.type() == "headline") return;  // §8.5.2.1.1
        if (stanza.type() == "" || stanza.type() == "normal" || stanza.type() == "chat") {
            // §8.5.2.2.1: offline storage, if a module offers it (it also checks the account).
            MessageForOfflineAccount event{stanza};
            Host* host = host_of(stanza.to()->domain());
            if (host && host->hooks().fire(event) == Flow::stop) return;
        }
        bounce(stanza, StanzaErrorCondition::service_unavailable);
        return;
    }
    for (std::size_t i = 0; i + 1 < targets.size(); ++i) to_session(targets[i]->session, stanza);
    to_session(targets.back()->session, std::move(stanza));
}

void Router::to_session(const SessionRef& session, Stanza stanza) {
    stanza.release_hold();  // handed on: its sender may read on
    if (session.shard == shard_) {
        if (auto s = session.stream.lock()) s->deliver(std::move(stanza));
        return;
    }
    server_.shards().post(session.shard, [w = session.stream, s = std::move(stanza)]() mutable {
        if (auto stream = w.lock()) stream->deliver(std::move(s));
    });
}

Router::BindResult Router::bind(const xmpp::Jid& jid, SessionRef session) {
    Host& host = *host_of(jid.domain());  // the stream checked that its domain is served
    UserHome& home = homes_[jid.bare()];
    BindResult result{BindOutcome::bound, {}};
    if (BoundResource* existing = home.find(jid.resource())) {
        if (server_.config().c2s.resource_conflict == "reject") return {BindOutcome::conflict, {}};
        // RFC 6120 §7.7.2.2: the new session wins; the old one ends with <conflict/>. For
        // the modules the old resource is gone (its presence ends, its interests too).
        ResourceUnbound gone{existing->jid};
        host.hooks().fire(gone);
        result = {BindOutcome::replaced, existing->session};
        existing->session = session;
        existing->available = false;
        existing->priority = 0;
        server_.shards().post(result.replaced.shard, [w = result.replaced.stream] {
            if (auto s = w.lock()) s->close({xmpp::StreamErrorCondition::conflict, "Replaced by a new session"});
        });
        result.rate = home.rate;
        ResourceBound event{jid};
        host.hooks().fire(event);
        return result;
    }
    if (home.resources.size() >= server_.config().c2s.max_sessions_per_account) {
        if (home.resources.empty()) homes_.erase(jid.bare());
        if (server_.config().c2s.resource_conflict == "reject") return {BindOutcome::too_many, {}};
        // The conflict policy applies past the limit too: the oldest session gives way.
        BoundResource oldest = home.resources.front();
        home.resources.erase(home.resources.begin());
        ResourceUnbound gone{oldest.jid};
        host.hooks().fire(gone);
        server_.shards().post(oldest.session.shard, [w = oldest.session.stream] {
            if (auto s = w.lock()) s->close({xmpp::StreamErrorCondition::conflict, "Too many sessions; the oldest gives way"});
        });
        result = {BindOutcome::replaced, oldest.session};
    }
    home.resources.push_back(BoundResource{jid, std::move(session)});
    const auto& limits = server_.config().limits;
    if (!home.rate && limits.account_stanzas_per_second > 0)
        home.rate = std::make_shared<AccountRate>(limits.account_stanzas_per_second, limits.account_stanza_burst);
    result.rate = home.rate;
    ResourceBound event{jid};
    host.hooks().fire(event);
    return result;
}

void Router::unbind(const xmpp::Jid& jid, std::uint64_t connection_id) {
    auto it = homes_.find(jid.bare());
    if (it == homes_.end()) return;
    auto& resources = it->second.resources;
    auto r = std::find_if(resources.begin(), resources.end(), [&](const BoundResource& b) {
        return b.jid == jid && b.session.connection_id == connection_id;
    });
    if (r == resources.end()) return;  // replaced meanwhile: the slot is the new session's
    resources.erase(r);
    ResourceUnbound event{jid};
    if (Host* host = host_of(jid.domain())) host->hooks().fire(event);
    if (resources.empty()) homes_.erase(it);
}

void Router::close_sessions(const xmpp::BareJid& account, xmpp::StreamError error, std::optional<xmpp::Jid> keep) {
    std::size_t owner = server_.owner_of(account);
    if (owner != shard_) {
        server_.shards().post(owner, [&server = server_, owner, account, error = std::move(error),
                                      keep = std::move(keep)]() mutable {
            server.shard(owner).router.close_sessions(account, std::move(error), std::move(keep));
        });
        return;
    }
    auto it = homes_.find(account);
    if (it == homes_.end()) return;
    // Each stream unbinds itself as it finishes.
    for (const auto& r : it->second.resources)
        if (r.jid != keep) server_.shards().post(r.session.shard, [w = r.session.stream, error] {
            if (auto s = w.lock()) s->close(error);
        });
}

void Router::for_each_session(const xmpp::BareJid& account, std::function<void(Session&)> fn) const {
    auto it = homes_.find(account);
    if (it == homes_.end()) return;
    for (const auto& r : it->second.resources)
        server_.shards().post(r.session.shard, [w = r.session.stream, fn] {
            if (auto s = w.lock()) fn(*s);
        });
}

std::vector<AvailableResource> Router::available_resources(const xmpp::BareJid& account) const {
    std::vector<AvailableResource> out;
    if (auto it = homes_.find(account); it != homes_.end())
        for (const auto& r : it->second.resources)
            if (r.available) out.push_back({r.jid, presence_shows[r.show]});
    return out;
}

std::vector<xmpp::Jid> Router::resources_of(const xmpp::BareJid& account) const {
    std::vector<xmpp::Jid> out;
    if (auto it = homes_.find(account); it != homes_.end())
        for (const auto& r : it->second.resources) out.push_back(r.jid);
    return out;
}


}  // namespace starling::server
