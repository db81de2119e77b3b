#include "server/testing/test_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <fmt/format.h>

#include <future>
#include <stdexcept>

#include "base/base64.hpp"
#include "base/log.hpp"
#include "server/config/config.hpp"
#include "server/config/options.hpp"
#include "server/module/module.hpp"
#include "server/modules/catalog.hpp"
#include "server/server.hpp"
#include "server/storage/accounts/account_store.hpp"
#include "server/storage/storage_thread.hpp"
#include "xml/writer.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::server::testing {

namespace {

std::string describe(const xml::Element& e) { return xml::to_string(e, {ns::client, ns::streams, "stream"}); }

}  // namespace

ElementMatch has_id(std::string id) {
    return [id = std::move(id)](const xml::Element& e) { return e.attribute("id") == id; };
}
ElementMatch is(std::string name, std::string type) {
    return [name = std::move(name), type = std::move(type)](const xml::Element& e) {
        return e.name() == name && (type == "*" || e.attribute("type") == type);
    };
}
ElementMatch from(std::string jid) {
    return [jid = std::move(jid)](const xml::Element& e) { return e.attribute("from") == jid; };
}
ElementMatch all_of(std::vector<ElementMatch> matches) {
    return [matches = std::move(matches)](const xml::Element& e) {
        for (const auto& m : matches)
            if (!m(e)) return false;
        return true;
    };
}

// --- TestClient -------------------------------------------------------------------------

TestClient::TestClient(std::shared_ptr<FakeChannel> channel, std::string domain)
    : channel_{std::move(channel)}, domain_{std::move(domain)} {}

TestClient::~TestClient() { channel_->hang_up(); }

void TestClient::send(std::string xml) { channel_->send_bytes(std::move(xml)); }

void TestClient::hang_up() { channel_->hang_up(); }

bool TestClient::pull(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        auto w = channel_->next_written(std::max(left, std::chrono::milliseconds{0}));
        if (!w) return false;
        if (w->kind == Written::Kind::closed) closed_ = true;
        if (w->kind != Written::Kind::element) continue;
        unread_.push_back(std::move(w->element));
        return true;
    }
}

std::optional<xml::Element> TestClient::next(std::chrono::milliseconds timeout) {
    if (unread_.empty() && !pull(timeout)) return std::nullopt;
    xml::Element e = std::move(unread_.front());
    unread_.erase(unread_.begin());
    return e;
}

xml::Element TestClient::expect(const ElementMatch& match, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t checked = 0;
    for (;;) {
        for (; checked < unread_.size(); ++checked)
            if (match(unread_[checked])) {
                xml::Element e = std::move(unread_[checked]);
                unread_.erase(unread_.begin() + static_cast<std::ptrdiff_t>(checked));
                return e;
            }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !pull(left)) break;
    }
    std::string seen;
    for (const auto& e : unread_) seen += "\n  " + describe(e);
    throw std::runtime_error(fmt::format("{}: the expected element did not come; unread:{}",
                                         jid_.empty() ? "client" : jid_, seen.empty() ? " nothing" : seen));
}

std::vector<xml::Element> TestClient::drain(std::chrono::milliseconds quiet) {
    while (pull(quiet)) {
    }
    return std::exchange(unread_, {});
}

xml::Element TestClient::query(std::string_view type, std::string_view to, std::string_view payload) {
    std::string id = fmt::format("q{}", ++next_id_);
    send(fmt::format("<iq type='{}' id='{}'{}>{}</iq>", type, id, to.empty() ? "" : fmt::format(" to='{}'", to),
                     payload));
    return expect(has_id(id));
}

void TestClient::sync() {
    auto reply = query("get", domain_, "<ping xmlns='urn:xmpp:ping'/>");
    if (reply.attribute("type") != "result") throw std::runtime_error("sync: ping refused: " + describe(reply));
}

bool TestClient::closed(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        auto w = channel_->next_written(std::max(left, std::chrono::milliseconds{0}));
        if (!w) return false;
        if (w->kind == Written::Kind::closed) closed_ = true;
        if (w->kind == Written::Kind::element) unread_.push_back(std::move(w->element));
    }
    return true;
}

xml::Element TestClient::open() {
    send(fmt::format("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                     "xmlns:stream='http://etherx.jabber.org/streams' to='{}' version='1.0'>",
                     domain_));
    return expect([](const xml::Element& e) { return e.is("features", ns::streams); });
}

bool TestClient::auth_plain(std::string_view username, std::string_view password) {
    std::string message = fmt::format("{}{}{}{}", '\0', username, '\0', password);
    send(fmt::format("<auth xmlns='{}' mechanism='PLAIN'>{}</auth>", ns::sasl, base64::encode(message)));
    auto reply = expect([](const xml::Element& e) { return e.xmlns() == ns::sasl; });
    return reply.name() == "success";
}

std::string TestClient::bind(std::string_view resource) {
    open();
    send(fmt::format("<iq type='set' id='bind'><bind xmlns='{}'><resource>{}</resource></bind></iq>", ns::bind,
                     resource));
    auto reply = expect(has_id("bind"));
    const xml::Element* bound = reply.find_child("bind", ns::bind);
    if (reply.attribute("type") != "result" || !bound) throw std::runtime_error("bind refused: " + describe(reply));
    jid_ = bound->child_text("jid", ns::bind);
    return jid_;
}

// --- TestServer -------------------------------------------------------------------------

TestServer::TestServer(TestServerOptions options) {
    std::string toml = fmt::format("[server]\ndomain = \"{}\"\nshards = {}\nlog_level = \"warn\"\n", options.domain,
                                   options.shards) +
                       options.config;
    catalog_ = catalog();
    catalog_.insert(catalog_.end(), options.extra_modules.begin(), options.extra_modules.end());
    auto config = config::parse(toml, "test config", module_schemas(catalog_));
    if (!config) {
        std::string errors;
        for (const auto& e : config.error()) errors += "\n  " + e.describe();
        throw std::runtime_error("test config refused:" + errors);
    }
    domain_ = config->server.domain;
    log::set_level(config->server.log_level);
    server_ = std::make_unique<Server>(std::move(*config), catalog_);
    server_->start({.listen = false, .in_memory_storage = true, .handle_signals = false});
    runner_ = std::thread{[this] { server_->run(); }};
}

TestServer::~TestServer() {
    server_->stop();
    if (runner_.joinable()) runner_.join();
}

namespace {
// "alice" → {"alice", first}; "alice@b.test" → {"alice", "b.test"}.
std::pair<std::string, std::string> split_user(std::string_view user, const std::string& first) {
    auto at = user.find('@');
    if (at == std::string_view::npos) return {std::string(user), first};
    return {std::string(user.substr(0, at)), std::string(user.substr(at + 1))};
}
}  // namespace

void TestServer::add_user(std::string_view user, std::string_view password) {
    auto credentials = storage::AccountStore::derive_all(password, server_->config().sasl.scram_iterations);
    auto [name, host] = split_user(user, domain_);
    auto create = [host, name, credentials](storage::Database& db) {
        return storage::AccountStore{db}.create(host, name, credentials);
    };
    // From the test's thread: hop onto the storage thread and wait there.
    std::promise<bool> done;
    auto result = done.get_future();
    boost::asio::co_spawn(
        server_->shards().at(0).context(),
        [&]() -> Task<void> { done.set_value(co_await server_->storage().run(create)); }, boost::asio::detached);
    if (result.wait_for(hang_guard) != std::future_status::ready || !result.get())
        throw std::runtime_error("could not add user " + name);
}

std::unique_ptr<TestClient> TestServer::connect(std::string_view domain) {
    std::size_t shard = next_shard_++ % server_->shards().size();
    auto channel = std::make_shared<FakeChannel>(server_->shards().at(shard).context().get_executor());
    server_->open_stream(shard, channel);
    return std::make_unique<TestClient>(std::move(channel), domain.empty() ? domain_ : std::string(domain));
}

std::unique_ptr<TestClient> TestServer::login(std::string_view user, std::string_view resource,
                                              std::string_view password) {
    auto [username, host] = split_user(user, domain_);
    auto client = connect(host);
    client->open();
    if (!client->auth_plain(username, password)) throw std::runtime_error(fmt::format("login of {} refused", user));
    client->bind(resource);
    return client;
}

}  // namespace starling::server::testing
