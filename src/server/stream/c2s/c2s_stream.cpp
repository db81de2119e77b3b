#include "server/stream/c2s/c2s_stream.hpp"

#include "base/log.hpp"
#include "base/random.hpp"
#include "server/module/events.hpp"
#include "server/server.hpp"
#include "server/stream/c2s/delivery_hold.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server {

using xmpp::StreamErrorCondition;
using Clock = std::chrono::steady_clock;

namespace {
StreamErrorCondition condition_for(xml::ParseError e) {
    switch (e) {
        case xml::ParseError::not_well_formed: return StreamErrorCondition::not_well_formed;
        case xml::ParseError::restricted_xml: return StreamErrorCondition::restricted_xml;
        case xml::ParseError::bad_namespace_prefix: return StreamErrorCondition::bad_namespace_prefix;
        case xml::ParseError::unsupported_encoding: return StreamErrorCondition::unsupported_encoding;
        case xml::ParseError::too_large: return StreamErrorCondition::policy_violation;
        case xml::ParseError::too_deep: return StreamErrorCondition::policy_violation;
        case xml::ParseError::nested_root: return StreamErrorCondition::bad_format;
    }
    return StreamErrorCondition::not_well_formed;
}
}  // namespace

C2sStream::C2sStream(Server& server, ShardContext& shard, std::shared_ptr<ElementChannel> channel, std::uint64_t id,
                     bool direct_tls)
    : server_{server}, shard_{shard}, channel_{std::move(channel)}, id_{id}, direct_tls_{direct_tls} {}

C2sStream::~C2sStream() = default;

std::string C2sStream::log_prefix() const {
    return fmt::format("c={} ip={}{}", id_, channel_->remote_address(), jid_ ? " jid=" + jid_->str() : std::string{});
}

bool C2sStream::is_secure() const { return channel_->is_secure(); }
const std::string& C2sStream::remote_address() const { return channel_->remote_address(); }

// RFC 6120 §5.3.1: with TLS mandatory, nothing but STARTTLS is offered before it.
bool C2sStream::offers_authentication() const {
    return channel_->is_secure() || !server_.config().c2s.require_encryption;
}

Task<void> C2sStream::run() {
    auto self = shared_from_this();
    std::string transport = channel_->transport();
    if (transport.empty()) transport = direct_tls_ ? "direct TLS" : "STARTTLS port";
    log::info("{} connected on {}", log_prefix(), transport);
    server_.evict(server_.preauth().admit({id_, shard_.index}, channel_->remote_address()));
    try {
        co_await serve();
    } catch (const std::exception& e) {
        // A bug or a storage failure: this stream ends, the server and other streams go on,
        // and finish() still releases everything the stream held.
        log::error("{} internal error: {}", log_prefix(), e.what());
        fail(StreamErrorCondition::internal_server_error);
    }
    finish();
}

Task<void> C2sStream::serve() {
    const auto& cfg = server_.config();
    channel_->set_parser_limits({cfg.limits.max_stanza_size_preauth, 4096, cfg.limits.max_depth});
    channel_->set_read_deadline(Clock::now() + cfg.limits.preauth_timeout);
    if (direct_tls_) channel_->start_tls({});  // the client names the domain in SNI

    for (;;) {
        ChannelEvent ev = co_await channel_->read();
        using K = ChannelEvent::Kind;
        if (ev.kind == K::disconnected) {
            channel_->abort();
            break;
        }
        if (state_ == State::closing) {
            if (ev.kind == K::timed_out || ev.kind == K::closed || ev.kind == K::overflow) break;
            continue;  // RFC 6120 §4.4: nothing more is processed once we closed
        }
        switch (ev.kind) {
            case K::opened: co_await on_open(ev); break;
            case K::element: co_await on_element(std::move(ev.element)); break;
            case K::closed:
                log::info("{} closed the stream", log_prefix());
                state_ = State::closing;
                channel_->close_stream();
                break;
            case K::parse_error:
                log::info("{} sent bad XML: {}", log_prefix(), xml::describe(ev.parse_error));
                fail(condition_for(ev.parse_error));
                break;
            case K::timed_out:
                log::info("{} timed out", log_prefix());
                fail(StreamErrorCondition::connection_timeout);
                break;
            case K::overflow:
                channel_->abort();
                state_ = State::closing;
                break;
            case K::disconnected: break;
        }
    }
}

void C2sStream::finish() {
    // Flushes what is queued (a stream error, say), then closes; the channel outlives us
    // for that long.
    channel_->close_stream();
    leave_preauth();
    shard_.streams.erase(id_);
    if (jid_) {
        auto owner = server_.owner_of(jid_->bare());
        server_.shards().post(owner, [&server = server_, owner, jid = *jid_, id = id_] {
            server.shard(owner).router.unbind(jid, id);
        });
    }
    log::info("{} disconnected", log_prefix());
}

void C2sStream::evict() {
    if (!preauth_ || state_ == State::closing) return;
    preauth_ = false;  // the table has forgotten us already
    log::info("{} closed to make room: the oldest unauthenticated connection with the least progress", log_prefix());
    // Before its header (or its TLS handshake on the direct TLS port) a peer expects nothing
    // in XML from us; a stream gets its error.
    if (!header_sent_ || (direct_tls_ && !channel_->is_secure())) {
        state_ = State::closing;
        channel_->abort();
        return;
    }
    fail(StreamErrorCondition::policy_violation, "Too many unauthenticated connections; try again");
}

void C2sStream::leave_preauth() {
    if (preauth_) server_.preauth().remove(id_);
    preauth_ = false;
}

void C2sStream::advance(PreauthProgress progress) {
    if (preauth_) server_.preauth().advance(id_, progress);
}

void C2sStream::fail(StreamErrorCondition condition, std::string text) {
    if (state_ == State::closing) return;
    if (!header_sent_) {
        // RFC 6120 §4.9.1.2: an error before our header still needs a header first.
        xml::Element header{"stream", std::string(ns::client)};
        header.set_attribute("from", domain().str());
        header.set_attribute("version", "1.0");
        channel_->open_stream(header);
        header_sent_ = true;
    }
    log::info("{} stream error {}{}", log_prefix(), xmpp::to_string(condition), text.empty() ? "" : ": " + text);
    channel_->write(xmpp::StreamError{condition, std::move(text)}.to_element());
    state_ = State::closing;
    channel_->close_stream();
}

void C2sStream::close(xmpp::StreamError error) { fail(error.condition, std::move(error.text)); }

Host& C2sStream::host() const { return shard_.host(host_); }
const xmpp::Jid& C2sStream::domain() const { return host().domain(); }

Task<void> C2sStream::on_open(const ChannelEvent& ev) {
    const xml::Element& h = ev.element;
    std::string_view version = h.attribute("version");
    // RFC 6120 §4.9.3.6: we serve the configured domains only. The stream is for the one its
    // 'to' names, from here on, and our header says so (§4.7.1); once authenticated, a
    // restarted stream stays with the account's domain.
    const xmpp::Jid* to = server_.served(h.attribute("to"));
    bool fixed = !username_.empty();
    if (to && !fixed) {
        for (std::size_t i = 0; i < shard_.hosts.size(); ++i)
            if (shard_.hosts[i]->domain() == *to) host_ = i;
    }
    xml::Element header{"stream", std::string(ns::client)};
    header.set_attribute("from", domain().str());
    stream_id_ = random::id(16);
    header.set_attribute("id", stream_id_);
    if (auto from = xmpp::Jid::parse(h.attribute("from")); from && !h.attribute("from").empty())
        header.set_attribute("to", from->str());
    header.set_attribute("version", "1.0");
    header.set_attribute("xml:lang", "en");
    channel_->open_stream(header);
    header_sent_ = true;

    // RFC 6120 §4.8.1 / §4.9.3.10: wrong stream or content namespace.
    if (!h.is("stream", ns::streams) || ev.default_ns != ns::client) co_return fail(StreamErrorCondition::invalid_namespace);
    if (!to || *to != domain()) co_return fail(StreamErrorCondition::host_unknown);
    // RFC 6120 §4.7.5: version 1.0 or a higher minor version.
    if (version.empty() || !version.starts_with("1.")) co_return fail(StreamErrorCondition::unsupported_version);
    if (state_ == State::wait_header) state_ = State::negotiating;
    advance(channel_->is_secure() ? PreauthProgress::encrypted : PreauthProgress::stream_opened);
    send_features();
}

void C2sStream::send_features() {
    const auto& cfg = server_.config();
    xml::Element features{"features", std::string(ns::streams)};
    if (state_ == State::negotiating) {
        bool secure = channel_->is_secure();
        if (!secure && channel_->can_start_tls()) {
            auto& tls = features.add_child("starttls", std::string(ns::tls));
            if (cfg.c2s.require_encryption) tls.add_child("required", std::string(ns::tls));
        }
        if (offers_authentication()) {
            features.add_child(mechanisms());
            // XEP-0440: which channel-binding types -PLUS may use on this connection.
            auto types = channel_->advertised_binding_types();
            if (!types.empty()) {
                auto& cb = features.add_child("sasl-channel-binding", std::string(ns::sasl_cb));
                for (const auto& type : types)
                    cb.add_child("channel-binding", std::string(ns::sasl_cb)).set_attribute("type", type);
            }
            PreAuthFeaturesOffered ev{*this, features};
            host().hooks().fire(ev);
        }
    } else if (state_ == State::authenticated) {
        features.add_child("bind", std::string(ns::bind));
        // RFC 6121 §A / draft-cridland-xmpp-session: advertised as optional for old clients.
        features.add_child("session", std::string(ns::session)).add_child("optional", std::string(ns::session));
        StreamFeaturesOffered ev{*this, features};
        host().hooks().fire(ev);
    }
    channel_->write(features);
}

Task<void> C2sStream::on_element(xml::Element element) {
    if (state_ == State::wait_header) co_return fail(StreamErrorCondition::not_authorized);
    if (state_ == State::negotiating) {
        if (element.is("starttls", ns::tls)) co_return on_starttls();
        if (element.is("auth", ns::sasl)) co_return co_await on_auth(element);
        if (element.is("response", ns::sasl)) co_return co_await on_sasl_response(element);
        if (element.is("abort", ns::sasl)) {
            scram_.reset();
            co_return co_await sasl_failure(xmpp::sasl::SaslCondition::aborted);
        }
        if (element.is("iq", ns::client) && offers_authentication())
            co_return co_await on_preauth_iq(std::move(element));
        // RFC 6120 §4.9.3.12: stanzas before authentication.
        co_return fail(StreamErrorCondition::not_authorized);
    }
    if (!xmpp::Stanza::kind_of(element) || element.xmlns() != ns::client) {
        NonStanzaElement event{*this, element, state_ == State::bound};
        if (host().hooks().fire(event) == Flow::stop) co_return;
        // RFC 6120 §4.9.3.22; and jabber:server stanzas must never reach another client (§4.8.3).
        co_return fail(StreamErrorCondition::unsupported_stanza_type);
    }
    if (state_ == State::authenticated) {
        if (element.is("iq", ns::client) && element.attribute("type") == "set" &&
            element.find_child("bind", ns::bind)) {
            auto parsed = xmpp::Stanza::parse(std::move(element));
            if (!parsed) co_return reply_malformed(std::move(element), parsed.error());
            co_return co_await on_bind(std::move(parsed).value());
        }
        // RFC 6120 §7.1: no stanzas before a resource is bound.
        co_return fail(StreamErrorCondition::not_authorized, "bind a resource first");
    }
    if (rate_) co_await pace();
    if (!hold_.expired()) co_await await_holds();
    on_stanza(std::move(element));
}

// XEP-0077 §3.1.1: a module (in-band registration) may answer iqs before authentication.
Task<void> C2sStream::on_preauth_iq(xml::Element element) {
    auto parsed = xmpp::Stanza::parse(std::move(element));
    if (parsed && parsed->is_iq_request()) {
        PreAuthIq event{*this, parsed.value(), std::nullopt};
        if (host().hooks().fire(event) == Flow::stop) {
            if (event.work) {
                Task<void> work = std::move(*event.work);
                co_await std::move(work);
            }
            co_return;
        }
    }
    fail(StreamErrorCondition::not_authorized);
}

void C2sStream::write_element(const xml::Element& element) {
    if (state_ == State::authenticated || state_ == State::bound) channel_->write(element);
}

void C2sStream::send_preauth(const xmpp::Stanza& stanza) {
    if (state_ == State::negotiating) channel_->write(stanza.element());
}

}  // namespace starling::server
