#include "server/transport/http/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <filesystem>

#include "base/log.hpp"
#include "base/number.hpp"
#include "base/random.hpp"
#include "net/call_on.hpp"
#include "server/server.hpp"
#include "server/transport/bosh/bosh_session.hpp"
#include "server/transport/http/http_stream.hpp"
#include "server/transport/websocket/websocket_channel.hpp"
#include "xml/writer.hpp"

namespace starling::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view websocket_path = "/xmpp-websocket";
constexpr std::string_view bosh_path = "/http-bind";

// Who is asking, as far as this connection can tell: the peer, or the client behind a
// trusted proxy (its X-Forwarded-For and X-Forwarded-Proto).
struct Peer {
    std::string address;
    bool secure = false;
};

Peer peer_of(const config::HttpSection& cfg, const std::string& socket_address, bool tls, const HttpRequest& request) {
    Peer peer{socket_address, tls};
    if (std::find(cfg.trusted_proxies.begin(), cfg.trusted_proxies.end(), socket_address) == cfg.trusted_proxies.end())
        return peer;
    // The last address is the one the proxy saw (RFC 7239 §5.2 for the older header too).
    std::string_view forwarded = request["X-Forwarded-For"];
    if (auto comma = forwarded.rfind(','); comma != std::string_view::npos) forwarded.remove_prefix(comma + 1);
    while (!forwarded.empty() && forwarded.front() == ' ') forwarded.remove_prefix(1);
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(std::string(forwarded), ec);
    if (!forwarded.empty() && !ec) peer.address = ip.to_string();
    if (request["X-Forwarded-Proto"] == "https") peer.secure = true;
    return peer;
}

// CORS (the Fetch standard): which origin may read the answer, if the request names one.
void allow_origin(const config::HttpSection& cfg, const HttpRequest& request, http::fields& response) {
    std::string_view origin = request[http::field::origin];
    if (origin.empty()) return;
    bool any = std::find(cfg.cors_origins.begin(), cfg.cors_origins.end(), "*") != cfg.cors_origins.end();
    if (any) {
        response.set(http::field::access_control_allow_origin, "*");
    } else if (std::find(cfg.cors_origins.begin(), cfg.cors_origins.end(), origin) != cfg.cors_origins.end()) {
        response.set(http::field::access_control_allow_origin, origin);
        response.set(http::field::vary, "Origin");
    }
}

http::message_generator text(http::status status, const HttpRequest& request, std::string body) {
    http::response<http::string_body> response{status, request.version()};
    response.set(http::field::server, "Starling");
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = std::move(body);
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    return response;
}

// XEP-0156 §3: where the web transports are, as the client reached us.
http::message_generator host_meta(const HttpRequest& request, const Peer& peer, bool json,
                                  const config::HttpSection& cfg) {
    std::string host{request[http::field::host]};
    std::string websocket = (peer.secure ? "wss://" : "ws://") + host + std::string(websocket_path);
    std::string bosh = (peer.secure ? "https://" : "http://") + host + std::string(bosh_path);
    http::response<http::string_body> response{http::status::ok, request.version()};
    response.set(http::field::server, "Starling");
    allow_origin(cfg, request, response);
    if (json) {
        boost::json::object link{{"rel", "urn:xmpp:alt-connections:websocket"}, {"href", websocket}};
        boost::json::object bosh_link{{"rel", "urn:xmpp:alt-connections:xbosh"}, {"href", bosh}};
        boost::json::object meta{{"links", boost::json::array{link, bosh_link}}};
        response.set(http::field::content_type, "application/json");
        response.body() = boost::json::serialize(meta);
    } else {
        xml::Element xrd{"XRD", "http://docs.oasis-open.org/ns/xri/xrd-1.0"};
        xrd.add_child("Link", "http://docs.oasis-open.org/ns/xri/xrd-1.0")
            .set_attribute("rel", "urn:xmpp:alt-connections:websocket")
            .set_attribute("href", websocket);
        xrd.add_child("Link", "http://docs.oasis-open.org/ns/xri/xrd-1.0")
            .set_attribute("rel", "urn:xmpp:alt-connections:xbosh")
            .set_attribute("href", bosh);
        response.set(http::field::content_type, "application/xrd+xml");
        response.body() = "<?xml version='1.0' encoding='utf-8'?>\n" + xml::to_string(xrd) + "\n";
    }
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    return response;
}

std::string_view content_type(const std::filesystem::path& file) {
    static const std::pair<std::string_view, std::string_view> types[] = {
        {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"}, {".json", "application/json"}, {".map", "application/json"},
        {".svg", "image/svg+xml"}, {".png", "image/png"}, {".jpg", "image/jpeg"}, {".gif", "image/gif"},
        {".ico", "image/x-icon"}, {".webp", "image/webp"}, {".woff", "font/woff"}, {".woff2", "font/woff2"},
        {".ttf", "font/ttf"}, {".wasm", "application/wasm"}, {".txt", "text/plain; charset=utf-8"},
        {".mp3", "audio/mpeg"}, {".ogg", "audio/ogg"}};
    std::string ext = file.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    for (const auto& [e, type] : types)
        if (e == ext) return type;
    return "application/octet-stream";
}

// A file under static_dir: its path, or nullopt when the target names none (or escapes).
std::optional<std::filesystem::path> static_file(const std::filesystem::path& root, std::string_view target) {
    auto url = boost::urls::parse_origin_form(target);
    if (!url) return std::nullopt;
    std::filesystem::path path = root;
    for (auto segment : url->segments()) {
        // Decoded: "%2e%2e" is ".." too; a decoded '/' or NUL would split a name.
        if (segment.empty() || segment == "." || segment == ".." || segment.find('/') != std::string::npos ||
            segment.find('\0') != std::string::npos || segment.front() == '.')
            return std::nullopt;
        path /= segment;
    }
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) path /= "index.html";
    if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
    return path;
}

http::message_generator serve_file(const HttpRequest& request, const std::filesystem::path& path,
                                   const config::HttpSection& cfg) {
    http::file_body::value_type body;
    beast::error_code ec;
    body.open(path.c_str(), beast::file_mode::scan, ec);
    if (ec) return text(http::status::not_found, request, "Not found.\n");
    http::response<http::file_body> response{std::piecewise_construct, std::make_tuple(std::move(body)),
                                             std::make_tuple(http::status::ok, request.version())};
    response.set(http::field::server, "Starling");
    response.set(http::field::content_type, content_type(path));
    response.set("X-Content-Type-Options", "nosniff");
    allow_origin(cfg, request, response);
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    if (request.method() == http::verb::head) {
        http::response<http::empty_body> head{response.base()};
        return head;
    }
    return response;
}

http::message_generator answer(const HttpRequest& request, const Peer& peer, const config::HttpSection& cfg) {
    std::string_view target = request.target();
    std::string_view path = target.substr(0, target.find('?'));
    if (request.method() == http::verb::options) {
        // A CORS preflight.
        http::response<http::empty_body> response{http::status::no_content, request.version()};
        response.set(http::field::server, "Starling");
        allow_origin(cfg, request, response);
        response.set(http::field::access_control_allow_methods, "GET, HEAD, POST, OPTIONS");
        response.set(http::field::access_control_allow_headers, "Content-Type");
        response.set(http::field::access_control_max_age, "86400");
        response.keep_alive(request.keep_alive());
        return response;
    }
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
        auto refusal = text(http::status::method_not_allowed, request, "Only GET and HEAD here.\n");
        return refusal;
    }
    if (path == "/.well-known/host-meta") return host_meta(request, peer, false, cfg);
    if (path == "/.well-known/host-meta.json") return host_meta(request, peer, true, cfg);
    if (path == websocket_path)
        return text(http::status::upgrade_required, request, "XMPP over WebSocket (RFC 7395) lives here: upgrade.\n");
    if (path == bosh_path)
        return text(http::status::method_not_allowed, request, "XMPP over BOSH (XEP-0206) lives here: POST <body/> wrappers.\n");
    if (!cfg.static_dir.empty())
        if (auto file = static_file(cfg.static_dir, path)) return serve_file(request, *file, cfg);
    return text(http::status::not_found, request, "Not found.\n");
}

// A request's <body/> wrapper (XEP-0124 §6): its attributes and payloads; nullopt when it is
// not one (not XML, another root, text or partial elements, a DTD: the parser's rules).
std::optional<BoshBody> parse_body(std::string_view text, std::size_t max_depth) {
    // The wrapper is parsed as one element under a stand-in root (a stream parser's root is
    // a header, and <body/> is often empty); an XML declaration before it is allowed.
    if (text.starts_with("<?xml")) {
        auto end = text.find("?>");
        if (end == std::string_view::npos) return std::nullopt;
        text.remove_prefix(end + 2);
    }
    xml::StreamParser parser{xml::ParserLimits{.max_element_bytes = text.size() + 1, .max_depth = max_depth + 1}};
    parser.feed("<starling:bosh xmlns:starling='urn:starling:bosh'>");
    parser.feed(text);
    parser.feed("</starling:bosh>");
    std::optional<xml::Element> wrapper;
    bool closed = false;
    while (auto ev = parser.next()) {
        if (closed) return std::nullopt;
        switch (ev->kind) {
            case xml::StreamEvent::Kind::opened: break;
            case xml::StreamEvent::Kind::element:
                if (wrapper) return std::nullopt;  // one <body/> and nothing else
                wrapper = std::move(ev->element);
                break;
            case xml::StreamEvent::Kind::closed: closed = true; break;
            case xml::StreamEvent::Kind::error: return std::nullopt;
        }
    }
    if (!closed || !wrapper || !wrapper->is("body", httpbind_ns)) return std::nullopt;
    BoshBody body;
    for (const auto& child : wrapper->children()) {
        if (child.is_text()) return std::nullopt;  // §6: no character data in the wrapper
        body.payloads.push_back(*child.element);
    }
    body.wrapper = xml::Element{"body", std::string(httpbind_ns)};
    for (const auto& a : wrapper->attributes()) body.wrapper.set_attribute(a.name, a.value);
    return body;
}

bool xml_content_type(std::string_view type) {
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    std::string lower(type);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    // XEP-0124 §7.1 asks for text/xml; text/plain spares a browser the CORS preflight.
    return lower.empty() || lower == "text/xml" || lower == "application/xml" || lower == "text/plain";
}

http::message_generator bosh_answer(const HttpRequest& request, std::string body, const config::HttpSection& cfg) {
    http::response<http::string_body> response{http::status::ok, request.version()};
    response.set(http::field::server, "Starling");
    response.set(http::field::content_type, "text/xml; charset=utf-8");
    response.set(http::field::cache_control, "no-store");
    allow_origin(cfg, request, response);
    response.body() = std::move(body);
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    return response;
}

// On the session's shard: the request for an existing session, or item-not-found (§14.3).
Task<std::string> to_session(Server& server, std::size_t index, std::string sid, BoshBody body) {
    auto& sessions = server.shard(index).bosh;
    auto it = sessions.find(sid);
    if (it == sessions.end()) co_return BoshSession::terminate("item-not-found");
    std::shared_ptr<BoshSession> session = it->second;
    Task<std::string> handling = session->handle(std::move(body));
    std::string answer = co_await std::move(handling);
    co_return answer;
}

Task<std::string> bosh(Server& server, ShardContext& shard, const HttpRequest& request, const Peer& peer) {
    const auto& cfg = server.config();
    auto body = parse_body(request.body(), cfg.limits.max_depth);
    if (!body) co_return BoshSession::terminate("bad-request");  // §17.2
    std::string sid{body->wrapper.attribute("sid")};
    if (sid.empty()) {
        // §7.1: a new session, on this shard; its sid says which.
        BoshOptions options{.limits = {cfg.limits.max_stanza_size_preauth, 4096, cfg.limits.max_depth},
                            .max_outbound_queue = cfg.limits.max_outbound_queue,
                            .max_wait = cfg.http.bosh_max_wait,
                            .inactivity = cfg.http.bosh_inactivity,
                            .max_pause = cfg.http.bosh_max_pause,
                            .remote = peer.address,
                            .secure = peer.secure};
        auto session = std::make_shared<BoshSession>(server.shards().at(shard.index).executor(),
                                                     random::id(24) + "." + std::to_string(shard.index), std::move(options));
        shard.bosh[session->sid()] = session;
        session->on_finished = [&shard, sid = session->sid()] { shard.bosh.erase(sid); };
        server.open_stream(shard.index, session);
        Task<std::string> handling = session->handle(std::move(*body));
        std::string answer = co_await std::move(handling);
        co_return answer;
    }
    auto dot = sid.rfind('.');
    auto shard_index = dot == std::string::npos ? std::nullopt : parse_number<std::size_t>(std::string_view{sid}.substr(dot + 1));
    if (!shard_index || *shard_index >= server.shards().size()) co_return BoshSession::terminate("item-not-found");
    std::size_t index = *shard_index;
    auto run = [&server, index, sid, body = std::move(*body)]() mutable { return to_session(server, index, sid, std::move(body)); };
    Task<std::string> handling = net::call_task_on(server.shards().at(index).executor(), std::move(run));
    std::string answer = co_await std::move(handling);
    co_return answer;
}

}  // namespace

Task<void> serve_http(Server& server, ShardContext& shard, asio::ip::tcp::socket socket, bool tls) {
    const auto& cfg = server.config();
    boost::system::error_code ec;
    auto endpoint = socket.remote_endpoint(ec);
    std::string socket_address = ec ? "unknown" : endpoint.address().to_string();
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    HttpStream stream{std::move(socket), tls ? &server.tls() : nullptr};

    // A connection that says nothing (or too slowly) within request_timeout goes.
    struct Watch {
        explicit Watch(asio::any_io_executor ex) : timer{ex} {}
        asio::steady_timer timer;
        HttpStream* stream = nullptr;  // null once the connection is a WebSocket stream or done
    };
    auto watch = std::make_shared<Watch>(stream.get_executor());
    watch->stream = &stream;
    auto guard = [](std::shared_ptr<Watch> w) -> Task<void> {
        boost::system::error_code ec;
        for (;;) {
            co_await w->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (!w->stream) co_return;
            if (!ec || w->timer.expiry() <= Clock::now()) {
                w->stream->socket().close(ec);
                co_return;
            }
        }
    };
    watch->timer.expires_after(cfg.http.request_timeout);
    asio::co_spawn(stream.get_executor(), guard(watch), asio::detached);
    struct Unwatch {
        std::shared_ptr<Watch> w;
        ~Unwatch() {
            w->stream = nullptr;
            w->timer.cancel();
        }
    } unwatch{watch};

    Task<bool> handshaking = stream.handshake();
    if (!co_await std::move(handshaking)) co_return;
    beast::flat_buffer buffer;
    for (;;) {
        watch->timer.expires_after(cfg.http.request_timeout);
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(cfg.http.max_request_bytes, 16 * 1024)));
        // A BOSH body carries stanzas: it may be as large as a stanza may be. Beast checks a
        // Content-Length as the header ends, so the larger limit is set first and the others
        // are held to theirs once the target is known.
        std::size_t bosh_limit = std::max(cfg.http.max_request_bytes, cfg.limits.max_stanza_size + 16 * 1024);
        parser.body_limit(bosh_limit);
        auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        boost::system::error_code rec = hec;
        if (!rec) {
            std::string_view head_target = parser.get().target();
            bool to_bosh = head_target.substr(0, head_target.find('?')) == bosh_path;
            auto length = parser.content_length();
            if (!to_bosh && ((length && *length > cfg.http.max_request_bytes) || parser.chunked())) rec = http::error::body_limit;
        }
        if (!rec) {
            auto [bec, bn] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
            rec = bec;
        }
        if (rec == http::error::end_of_stream || rec == asio::error::eof || rec == asio::error::operation_aborted) break;
        if (rec) {
            // Malformed or too large: say so, then hang up (the rest of the bytes mean nothing).
            HttpRequest none;
            none.version(11);
            none.keep_alive(false);  // RFC 9112 §9.6: the refusal says the connection ends
            bool too_big = rec == http::error::body_limit || rec == http::error::header_limit ||
                           rec == http::error::buffer_overflow;
            auto refusal = text(too_big ? http::status::payload_too_large : http::status::bad_request, none,
                                too_big ? "Request too large.\n" : "Bad request.\n");
            co_await beast::async_write(stream, std::move(refusal), asio::as_tuple(asio::use_awaitable));
            break;
        }
        HttpRequest request = parser.release();
        Peer peer = peer_of(cfg.http, socket_address, tls, request);
        std::string_view target = request.target();
        if (beast::websocket::is_upgrade(request) && target.substr(0, target.find('?')) == websocket_path) {
            watch->stream = nullptr;
            watch->timer.cancel();
            WebSocketChannelOptions options{{cfg.limits.max_stanza_size_preauth, 4096, cfg.limits.max_depth},
                                            cfg.limits.max_outbound_queue,
                                            cfg.c2s.keepalive_interval,
                                            peer.address,
                                            peer.secure};
            auto channel = std::make_shared<WebSocketChannel>(std::move(stream), std::move(options));
            Task<bool> accepting = channel->accept(request);
            if (co_await std::move(accepting)) server.open_stream(shard.index, channel);
            co_return;
        }
        bool keep_alive = request.keep_alive();
        if (target.substr(0, target.find('?')) == bosh_path && request.method() == http::verb::post) {
            if (!xml_content_type(request[http::field::content_type])) {
                auto refusal = text(http::status::unsupported_media_type, request, "BOSH bodies are text/xml.\n");
                auto [wec, written] = co_await beast::async_write(stream, std::move(refusal), asio::as_tuple(asio::use_awaitable));
                if (wec || !keep_alive) break;
                continue;
            }
            // A held request is the session's, not an idle connection: no request timeout.
            watch->timer.expires_at(Clock::time_point::max());
            Task<std::string> asking = bosh(server, shard, request, peer);
            std::string body = co_await std::move(asking);
            auto [wec, written] = co_await beast::async_write(stream, bosh_answer(request, std::move(body), cfg.http),
                                                              asio::as_tuple(asio::use_awaitable));
            if (wec || !keep_alive) break;
            continue;
        }
        auto response = answer(request, peer, cfg.http);
        auto [wec, written] = co_await beast::async_write(stream, std::move(response), asio::as_tuple(asio::use_awaitable));
        if (wec || !keep_alive) break;
    }
    stream.close();
}

}  // namespace starling::server
