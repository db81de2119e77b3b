#include "client/connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include "base/base64.hpp"
#include "base/random.hpp"
#include "xml/stream_parser.hpp"
#include "xml/writer.hpp"

namespace starling::client {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr std::string_view ns_client = "jabber:client";
constexpr std::string_view ns_tls = "urn:ietf:params:xml:ns:xmpp-tls";
constexpr std::string_view ns_sasl = "urn:ietf:params:xml:ns:xmpp-sasl";
constexpr std::string_view ns_bind = "urn:ietf:params:xml:ns:xmpp-bind";
constexpr std::string_view ns_streams = "http://etherx.jabber.org/streams";

std::string_view mechanism_name(xmpp::sasl::ScramHash hash) {
    switch (hash) {
        case xmpp::sasl::ScramHash::sha1: return "SCRAM-SHA-1";
        case xmpp::sasl::ScramHash::sha256: return "SCRAM-SHA-256";
        case xmpp::sasl::ScramHash::sha512: return "SCRAM-SHA-512";
    }
    return "SCRAM-SHA-1";
}

std::string attribute_value(std::string_view text) {
    std::string out;
    xml::escape_attribute(out, text);
    return out;
}
}  // namespace

class TlsClientContext {
public:
    explicit TlsClientContext(bool verify) : context{asio::ssl::context::tls_client}, verify_peer{verify} {
        context.set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                            asio::ssl::context::no_tlsv1_1);
        if (verify) {
            context.set_default_verify_paths();
            context.set_verify_mode(asio::ssl::verify_peer);
        } else {
            context.set_verify_mode(asio::ssl::verify_none);
        }
    }
    asio::ssl::context context;
    bool verify_peer;
};

std::shared_ptr<TlsClientContext> make_tls_context(bool verify_peer) {
    return std::make_shared<TlsClientContext>(verify_peer);
}

struct Connection::Impl {
    Impl(asio::any_io_executor executor, std::shared_ptr<TlsClientContext> tls_context)
        : tls{std::move(tls_context)}, stream{executor, tls->context} {}

    std::shared_ptr<TlsClientContext> tls;
    asio::ssl::stream<tcp::socket> stream;
    bool encrypted = false;
    xml::StreamParser parser{xml::ParserLimits{1024 * 1024, 4096, 64}};
    std::string read_buffer = std::string(8192, '\0');
    std::string queued, writing;
    bool flushing = false;
    bool ended = false;
    std::string jid;
    std::string domain;
    std::uint64_t written = 0, read = 0;

    Task<std::size_t> read_some() {
        auto buffer = asio::buffer(read_buffer);
        std::size_t n = encrypted ? co_await stream.async_read_some(buffer, asio::use_awaitable)
                                  : co_await stream.next_layer().async_read_some(buffer, asio::use_awaitable);
        read += n;
        co_return n;
    }

    Task<void> write_all(std::string_view data) {
        auto buffer = asio::buffer(data);
        if (encrypted)
            co_await asio::async_write(stream, buffer, asio::use_awaitable);
        else
            co_await asio::async_write(stream.next_layer(), buffer, asio::use_awaitable);
        written += data.size();
    }

    // The next parser event, reading as needed.
    Task<xml::StreamEvent> next_event() {
        for (;;) {
            if (auto event = parser.next()) {
                if (event->kind == xml::StreamEvent::Kind::error)
                    throw ClientError(fmt::format("the server sent bad XML: {}", xml::describe(event->error)));
                co_return std::move(*event);
            }
            std::size_t n = co_await read_some();
            parser.feed(std::string_view{read_buffer.data(), n});
        }
    }

    Task<xml::Element> next_element(std::string_view during) {
        xml::StreamEvent event = co_await next_event();
        if (event.kind == xml::StreamEvent::Kind::closed)
            throw ClientError(fmt::format("the server closed the stream during {}", during));
        if (event.kind != xml::StreamEvent::Kind::element)
            throw ClientError(fmt::format("unexpected stream header during {}", during));
        if (event.element.is("error", ns_streams)) {
            const xml::Element* condition = event.element.first_child_element();
            throw ClientError(fmt::format("stream error during {}: {}", during, condition ? condition->name() : "?"));
        }
        co_return std::move(event.element);
    }

    // Opens a stream and returns its features.
    Task<xml::Element> open_stream() {
        std::string header = fmt::format(
            "<?xml version='1.0'?><stream:stream to='{}' version='1.0' xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams'>",
            attribute_value(domain));
        co_await write_all(header);
        xml::StreamEvent opened = co_await next_event();
        if (opened.kind != xml::StreamEvent::Kind::opened) throw ClientError("no stream header from the server");
        xml::Element features = co_await next_element("stream negotiation");
        if (!features.is("features", ns_streams)) throw ClientError("no stream features from the server");
        co_return features;
    }

    Task<xml::Element> iq(std::string_view body, std::string_view id, std::string_view during) {
        co_await write_all(body);
        for (;;) {
            xml::Element reply = co_await next_element(during);
            if (!reply.is("iq", ns_client) || reply.attribute("id") != id) continue;
            if (reply.attribute("type") != "result") {
                const xml::Element* error = reply.find_child("error", ns_client);
                const xml::Element* condition = error ? error->first_child_element() : nullptr;
                throw ClientError(fmt::format("{} failed: {}", during, condition ? condition->name() : "error"));
            }
            co_return reply;
        }
    }
};

std::shared_ptr<Connection> Connection::create(asio::any_io_executor executor, std::shared_ptr<TlsClientContext> tls) {
    return std::shared_ptr<Connection>(new Connection(std::make_unique<Impl>(std::move(executor), std::move(tls))));
}

Connection::Connection(std::unique_ptr<Impl> impl) : impl_{std::move(impl)} {}
Connection::~Connection() = default;

const std::string& Connection::jid() const { return impl_->jid; }
std::uint64_t Connection::bytes_written() const { return impl_->written; }
std::uint64_t Connection::bytes_read() const { return impl_->read; }

Task<void> Connection::login(LoginOptions options) {
    Impl& c = *impl_;
    c.domain = options.domain;
    tcp::endpoint endpoint{asio::ip::make_address(options.host), options.port};
    try {
        co_await c.stream.next_layer().async_connect(endpoint, asio::use_awaitable);
    } catch (const boost::system::system_error& e) {
        throw ClientError(fmt::format("cannot connect to {}:{}: {}", options.host, options.port, e.code().message()));
    }
    c.stream.next_layer().set_option(tcp::no_delay(true));

    // RFC 6120 §5: STARTTLS first.
    xml::Element features = co_await c.open_stream();
    if (!features.find_child("starttls", ns_tls)) throw ClientError("the server does not offer STARTTLS");
    co_await c.write_all("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    xml::Element proceed = co_await c.next_element("STARTTLS");
    if (!proceed.is("proceed", ns_tls)) throw ClientError("the server refused STARTTLS");
    c.parser.reset();
    if (c.tls->verify_peer) {
        SSL_set_tlsext_host_name(c.stream.native_handle(), c.domain.c_str());
        c.stream.set_verify_callback(asio::ssl::host_name_verification(c.domain));
    }
    try {
        co_await c.stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    } catch (const boost::system::system_error& e) {
        throw ClientError(fmt::format("TLS handshake failed: {}", e.code().message()));
    }
    c.encrypted = true;

    // RFC 6120 §6: SASL with SCRAM (no channel binding: the bench compares servers on equal
    // terms, and SCRAM-SHA-1 is the one all of them offer).
    features = co_await c.open_stream();
    std::string_view mechanism = mechanism_name(options.hash);
    bool offered = false;
    if (const xml::Element* mechanisms = features.find_child("mechanisms", ns_sasl))
        for (const auto& child : mechanisms->children())
            if (child.element && child.element->text() == mechanism) offered = true;
    if (!offered) throw ClientError(fmt::format("the server does not offer {}", mechanism));
    xmpp::sasl::ScramClient scram{options.hash, options.username, options.password};
    scram.use_cache(options.scram_cache);
    std::string auth = fmt::format("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{}'>{}</auth>", mechanism,
                                   base64::encode(scram.client_first()));
    co_await c.write_all(auth);
    xml::Element challenge = co_await c.next_element("authentication");
    if (challenge.is("failure", ns_sasl)) {
        const xml::Element* condition = challenge.first_child_element();
        throw ClientError(fmt::format("authentication failed: {}", condition ? condition->name() : "?"));
    }
    if (!challenge.is("challenge", ns_sasl)) throw ClientError("no SASL challenge from the server");
    auto server_first = base64::decode(challenge.text());
    if (!server_first) throw ClientError("the SASL challenge is not base64");
    auto client_final = scram.client_final(*server_first);
    if (!client_final) throw ClientError("the server's SCRAM challenge is malformed");
    std::string response = fmt::format("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</response>",
                                       base64::encode(client_final.value()));
    co_await c.write_all(response);
    xml::Element outcome = co_await c.next_element("authentication");
    if (!outcome.is("success", ns_sasl)) {
        const xml::Element* condition = outcome.first_child_element();
        throw ClientError(fmt::format("authentication failed: {}", condition ? condition->name() : "?"));
    }
    auto server_final = base64::decode(outcome.text());
    if (!server_final || !scram.verify_server_final(*server_final))
        throw ClientError("the server's SCRAM signature does not verify (not the server we asked)");
    c.parser.reset();

    // RFC 6120 §7: bind.
    features = co_await c.open_stream();
    if (!features.find_child("bind", ns_bind)) throw ClientError("the server offers no resource binding");
    std::string resource;
    if (!options.resource.empty()) {
        resource = "<resource>";
        xml::escape_text(resource, options.resource);
        resource += "</resource>";
    }
    std::string bind = "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>" + resource +
                       "</bind></iq>";
    xml::Element bound = co_await c.iq(bind, "bind", "resource binding");
    const xml::Element* payload = bound.find_child("bind", ns_bind);
    c.jid = payload ? payload->child_text("jid", ns_bind) : std::string{};
    if (c.jid.empty()) throw ClientError("the bind result names no JID");

    if (options.fetch_roster) co_await c.iq("<iq type='get' id='roster'><query xmlns='jabber:iq:roster'/></iq>", "roster", "the roster request");
    if (options.initial_presence) co_await c.write_all("<presence/>");
}

void Connection::send(std::string_view xml) {
    impl_->queued.append(xml);
    if (impl_->flushing) return;
    impl_->flushing = true;
    asio::co_spawn(impl_->stream.get_executor(), [self = shared_from_this()]() { return self->flush(); },
                   asio::detached);
}

Task<void> Connection::flush() {
    Impl& c = *impl_;
    try {
        while (!c.queued.empty()) {
            std::swap(c.queued, c.writing);
            co_await c.write_all(c.writing);
            c.writing.clear();
        }
    } catch (const std::exception&) {
        c.ended = true;  // the reader sees the end of the connection
    }
    c.flushing = false;
}

Task<std::optional<xml::Element>> Connection::read() {
    Impl& c = *impl_;
    if (c.ended) co_return std::nullopt;
    try {
        xml::StreamEvent event = co_await c.next_event();
        if (event.kind == xml::StreamEvent::Kind::element) co_return std::move(event.element);
    } catch (const std::exception&) {
    }
    c.ended = true;
    co_return std::nullopt;
}

Task<void> Connection::close() {
    Impl& c = *impl_;
    try {
        if (!c.ended) {
            co_await c.write_all("</stream:stream>");
            // The server answers with its own closing tag; stop at that or at the end.
            for (;;) {
                xml::StreamEvent event = co_await c.next_event();
                if (event.kind == xml::StreamEvent::Kind::closed) break;
            }
        }
    } catch (const std::exception&) {
    }
    c.ended = true;
    boost::system::error_code ec;
    c.stream.next_layer().shutdown(tcp::socket::shutdown_both, ec);
    c.stream.next_layer().close(ec);
}

}  // namespace starling::client
