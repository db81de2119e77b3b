// C2sStream, part three: resource binding (RFC 6120 §7) and stanzas (RFC 6120 §8).
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/log.hpp"
#include "base/random.hpp"
#include "net/call_on.hpp"
#include "server/module/events.hpp"
#include "server/routing/account_rate.hpp"
#include "server/server.hpp"
#include "server/stream/c2s/c2s_stream.hpp"
#include "server/stream/c2s/delivery_hold.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/precis.hpp"

namespace starling::server {

using xmpp::StanzaErrorCondition;
using xmpp::StreamErrorCondition;

Task<void> C2sStream::on_bind(xmpp::Stanza iq) {
    const xml::Element* bind = iq.element().find_child("bind", ns::bind);
    std::string requested = bind->child_text("resource", ns::bind);
    std::string resource;
    if (requested.empty()) {
        resource = random::id(12);  // RFC 6120 §7.6: the server generates one
    } else if (auto prepared = xmpp::precis::opaque_string(requested)) {
        resource = *prepared;
    } else {
        // RFC 6120 §7.7.2.1: a resource the server cannot accept.
        channel_->write(iq.error_reply({StanzaErrorCondition::bad_request, "invalid resource"}).element());
        co_return;
    }
    auto jid = xmpp::Jid::from_parts(username_, domain().str(), resource);
    if (!jid) {
        channel_->write(iq.error_reply({StanzaErrorCondition::bad_request, "invalid resource"}).element());
        co_return;
    }
    SessionRef ref{shard_.index, weak_from_this(), id_};
    std::size_t owner = server_.owner_of(jid->bare());
    auto bind_on_owner = [&server = server_, owner, j = *jid, ref] { return server.shard(owner).router.bind(j, ref); };
    auto owner_executor = server_.shards().at(owner).executor();
    binding_ = true;
    auto result = co_await net::call_on(owner_executor, std::move(bind_on_owner));
    binding_ = false;
    if (state_ == State::closing) {
        // We went away while the owner bound us: undo it.
        server_.shards().post(owner, [&server = server_, owner, j = *jid, id = id_] { server.shard(owner).router.unbind(j, id); });
        co_return;
    }
    using O = Router::BindOutcome;
    if (result.outcome == O::conflict) {
        // RFC 6120 §7.7.2.2: the resource is taken and policy keeps the old session.
        channel_->write(iq.error_reply({StanzaErrorCondition::conflict, "resource in use"}).element());
        co_return;
    }
    if (result.outcome == O::too_many) {
        // RFC 6120 §7.6.2.1: too many sessions for this account.
        channel_->write(iq.error_reply({StanzaErrorCondition::resource_constraint, "too many sessions"}).element());
        co_return;
    }
    jid_ = *jid;
    rate_ = std::move(result.rate);
    shard_.streams[id_] = weak_from_this();
    xml::Element payload{"bind", std::string(ns::bind)};
    payload.add_child("jid", std::string(ns::bind)).add_text(jid_->str());
    iq.set_from(std::nullopt);
    channel_->write(iq.iq_result(std::move(payload)).element());
    state_ = State::bound;
    log::info("{} bound{}", log_prefix(), result.outcome == O::replaced ? ", replacing the older session" : "");
    auto early = std::move(early_);
    early_ = {};
    for (auto& s : early) deliver(std::move(s));
    std::vector<Task<void>> work;
    SessionBound bound{*this, work};
    host().hooks().fire(bound);
    for (auto& w : work) {
        Task<void> task = std::move(w);
        co_await std::move(task);
    }
}

// The account's aggregate stanza budget: past it, this stream waits before it handles the
// stanza (and so before it reads on), which slows the sender down through TCP and loses
// nothing.
Task<void> C2sStream::pace() {
    auto wait = rate_->spend();
    if (wait.count() <= 0) co_return;
    boost::asio::steady_timer timer{co_await boost::asio::this_coro::executor};
    timer.expires_after(wait);
    boost::system::error_code ec;
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
}

// RFC 6120 §8.1 and §8.2.3: the rules every stanza from a client must follow.
bool C2sStream::check_stanza(const xmpp::Stanza& s) {
    std::string_view type = s.type();
    switch (s.kind()) {
        case xmpp::StanzaKind::iq: {
            bool request = type == "get" || type == "set";
            bool valid = request || type == "result" || type == "error";
            if (!valid || s.id().empty() || (request && s.element().child_element_count() != 1) ||
                (type == "result" && s.element().child_element_count() > 1)) {
                if (type != "error" && type != "result")
                    channel_->write(s.error_reply({StanzaErrorCondition::bad_request}).element());
                return false;
            }
            return true;
        }
        case xmpp::StanzaKind::message: {
            static constexpr std::string_view types[] = {"", "chat", "error", "groupchat", "headline", "normal"};
            if (std::find(std::begin(types), std::end(types), type) != std::end(types)) return true;
            break;
        }
        case xmpp::StanzaKind::presence: {
            static constexpr std::string_view types[] = {"", "error", "probe", "subscribe", "subscribed",
                                                         "unavailable", "unsubscribe", "unsubscribed"};
            if (std::find(std::begin(types), std::end(types), type) != std::end(types)) return true;
            break;
        }
    }
    channel_->write(s.error_reply({StanzaErrorCondition::bad_request, "unknown type"}).element());
    return false;
}

void C2sStream::on_stanza(xml::Element element) {
    auto parsed = xmpp::Stanza::parse(std::move(element));
    if (!parsed) return reply_malformed(std::move(element), parsed.error());
    xmpp::Stanza stanza = std::move(parsed).value();
    if (!check_stanza(stanza)) return;
    // RFC 6120 §8.1.2.1: the server stamps the full JID, whatever the client claimed.
    stanza.set_from(jid_);
    if (stanza.kind() == xmpp::StanzaKind::iq && stanza.type() == "set" && stanza.payload()->is("session", ns::session) &&
        (!stanza.to() || *stanza.to() == domain())) {
        // The legacy session request (RFC 3921 §3), offered as optional: nothing to do.
        channel_->write(stanza.iq_result().element());
        return;
    }
    StanzaFromClient event{*this, stanza};
    if (host().hooks().fire(event) == Flow::stop) return;

    if (stanza.kind() == xmpp::StanzaKind::message && !stanza.is_error()) hold(stanza);
    shard_.router.from_session(std::move(stanza));
}

// Messages may be stored for later (XEP-0160): each carries the stream's hold until it has
// reached a session or the store, and the stream handles nothing more until then.
void C2sStream::hold(xmpp::Stanza& message) {
    auto h = hold_.lock();
    if (!h) {
        h = std::make_shared<DeliveryHold>(weak_from_this(), server_.shards().at(shard_.index).executor());
        hold_ = h;
    }
    message.set_hold(std::move(h));
}

Task<void> C2sStream::await_holds() {
    if (!hold_waiter_) hold_waiter_ = std::make_unique<HoldWaiter>(co_await boost::asio::this_coro::executor);
    while (auto h = hold_.lock()) {
        h->awaited = true;
        h.reset();  // if that was the last one, its wake-up is already posted
        hold_waiter_->timer.expires_at(boost::asio::steady_timer::time_point::max());
        boost::system::error_code ec;
        co_await hold_waiter_->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
}

void C2sStream::hold_released() {
    if (hold_waiter_) hold_waiter_->timer.cancel();
}

void C2sStream::reply_malformed(xml::Element element, const xmpp::StanzaError& error) {
    // RFC 6120 §8.3.3.8: jid-malformed, straight back to the client.
    element.remove_attribute("to");
    element.remove_attribute("from");
    auto kind = *xmpp::Stanza::kind_of(element);
    xmpp::Stanza bad{kind, std::move(element), std::nullopt, std::nullopt};
    if (!bad.is_error()) channel_->write(bad.error_reply(error).element());
}

void C2sStream::deliver(xmpp::Stanza stanza) {
    if (state_ == State::authenticated && binding_) {
        // The owner shard has bound us and stanzas may already be on their way here before
        // our bind coroutine resumes: keep them for a moment rather than drop them.
        early_.push_back(std::move(stanza));
        return;
    }
    if (state_ != State::bound) return;
    StanzaToClient event{*this, stanza};
    if (host().hooks().fire(event) == Flow::stop) return;
    channel_->write(stanza.element());
}

}  // namespace starling::server
