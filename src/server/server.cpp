#include "server/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <stdexcept>

#include "base/log.hpp"
#include "base/random.hpp"
#include "server/module/account_deletion.hpp"
#include "server/module/events.hpp"
#include "server/module/database_schema.hpp"
#include "server/storage/storage_thread.hpp"
#include "server/stream/c2s/c2s_stream.hpp"
#include "server/transport/http/http_server.hpp"
#include "server/transport/tcp/tcp_channel.hpp"

namespace starling::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::atomic<std::uint64_t> next_connection_id{1};

std::vector<xmpp::Jid> parse_domains(const config::Config& config) {
    std::vector<xmpp::Jid> out;
    for (const auto& host : config.hosts) {
        auto jid = xmpp::Jid::parse(host.domain);
        std::string key = host.section == "server" ? "server.domain" : host.section;
        if (!jid || !jid->is_domain()) throw std::runtime_error(key + ": \"" + host.domain + "\" is not a valid domain");
        for (const auto& other : out)
            if (other == *jid) throw std::runtime_error(key + ": " + jid->str() + " is listed twice");
        out.push_back(*jid);
    }
    return out;
}

// Accepts connections on one shard's listening socket and hands each to `take`.
template <class Take>
Task<void> accept_each(std::shared_ptr<tcp::acceptor> acceptor, Take take) {
    for (;;) {
        auto [ec, socket] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
        if (ec) {
            // Out of file descriptors, usually: pause instead of spinning.
            log::warn("accept failed: {}", ec.message());
            asio::steady_timer pause{acceptor->get_executor(), std::chrono::milliseconds{100}};
            co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        take(std::move(socket));
    }
}

Task<void> accept_loop(Server& server, ShardContext& shard, std::shared_ptr<tcp::acceptor> acceptor, bool direct_tls) {
    const auto& cfg = server.config();
    TcpChannelOptions options{{cfg.limits.max_stanza_size_preauth, 4096, cfg.limits.max_depth},
                              cfg.limits.max_outbound_queue,
                              cfg.c2s.keepalive_interval};
    auto executor = acceptor->get_executor();
    return accept_each(std::move(acceptor), [&server, &shard, options, direct_tls, executor](tcp::socket socket) {
        auto channel = std::make_shared<TcpChannel>(std::move(socket), server.tls(), options);
        channel->start();
        std::uint64_t id = next_connection_id++;
        auto stream = std::make_shared<C2sStream>(server, shard, channel, id, direct_tls);
        shard.streams[id] = stream;
        asio::co_spawn(executor, [stream] { return stream->run(); }, asio::detached);
    });
}

Task<void> accept_http_loop(Server& server, ShardContext& shard, std::shared_ptr<tcp::acceptor> acceptor, bool tls) {
    auto executor = acceptor->get_executor();
    return accept_each(std::move(acceptor), [&server, &shard, tls, executor](tcp::socket socket) {
        asio::co_spawn(executor, serve_http(server, shard, std::move(socket), tls), asio::detached);
    });
}

}  // namespace

Server::Server(config::Config config, const std::vector<const ModuleInfo*>& catalog)
    : config_{std::move(config)},
      catalog_{catalog},
      domains_{parse_domains(config_)},
      auth_throttle_{config_.sasl.failures_before_delay, config_.sasl.failure_window, config_.sasl.max_delay},
      preauth_{config_.limits.max_preauth_per_ip, config_.limits.max_preauth},
      secret_{random::bytes(32)} {}

Server::~Server() {
    // Joined here, not in run(): stop() may still be starting it on another thread when the
    // shards have already run out of work.
    if (stop_watchdog_.joinable()) stop_watchdog_.join();
    contexts_.clear();
    if (storage_) storage_->stop();
}

std::size_t Server::owner_of(const xmpp::BareJid& jid) const {
    return shards_->owner_of(std::hash<xmpp::BareJid>{}(jid));
}

void Server::start(StartOptions options) {
    options_ = options;
    // Storage first: a broken database should stop us before we accept anyone.
    storage_ = std::make_unique<storage::StorageThread>(options.in_memory_storage ? std::filesystem::path{":memory:"}
                                                                                   : config_.server.data_dir / "starling.db");
    std::size_t moved = 0;
    try {
        moved = prepare_database(storage_->database_for_startup(), config_.server.domain, catalog_);
    } catch (const SchemaUpgradeError& e) {
        throw std::runtime_error("storage: cannot upgrade " + (config_.server.data_dir / "starling.db").string() +
                                 " (it is left as it was): " + e.what());
    }
    if (moved)
        log::info("storage: {} row(s) of per-account data moved into the stores keyed by host ({})", moved,
                  config_.server.domain);
    if (!options.listen) {
        start_shards();
        return;
    }

    // A certificate per served domain: configured, or self-signed and made on first start.
    for (std::size_t i = 0; i < config_.hosts.size(); ++i) {
        const auto& host = config_.hosts[i];
        const std::string& domain = domains_[i].str();
        auto cert = host.certificate_path(config_.server.data_dir);
        auto key = host.key_path(config_.server.data_dir);
        if (host.certificate.empty() && !std::filesystem::exists(cert)) {
            auto made = net::TlsContext::make_self_signed(domain, cert, key);
            if (!made) throw std::runtime_error(made.error());
            log::info("made a self-signed certificate for {} at {}", domain, cert.string());
        }
        auto tls = net::TlsContext::load(cert, key);
        if (!tls) throw std::runtime_error(host.section + ": " + tls.error());
        if (!tls->covers(domain))
            log::warn("certificate {} does not name {}: clients will refuse it", cert.string(), domain);
        tls_.add(domains_[i].str(), std::move(tls).value());
    }
    tls_.enable_sni();

    start_shards();
    for (auto& ctx : contexts_)
        for (const auto& address : config_.c2s.interfaces) {
            if (config_.c2s.port) listen(*ctx, address, config_.c2s.port, Port::starttls);
            if (config_.c2s.direct_tls_port) listen(*ctx, address, config_.c2s.direct_tls_port, Port::direct_tls);
        }
    for (auto& ctx : contexts_)
        for (const auto& address : config_.http.interfaces) {
            if (config_.http.port) listen(*ctx, address, config_.http.port, Port::http);
            if (config_.http.tls_port) listen(*ctx, address, config_.http.tls_port, Port::https);
        }
    for (const auto& address : config_.c2s.interfaces) {
        if (config_.c2s.port) listening_.push_back(fmt::format("{}:{} (STARTTLS)", address, config_.c2s.port));
        if (config_.c2s.direct_tls_port)
            listening_.push_back(fmt::format("{}:{} (direct TLS)", address, config_.c2s.direct_tls_port));
    }
    for (const auto& address : config_.http.interfaces) {
        if (config_.http.port) listening_.push_back(fmt::format("{}:{} (HTTP: WebSocket, BOSH)", address, config_.http.port));
        if (config_.http.tls_port)
            listening_.push_back(fmt::format("{}:{} (HTTPS: WebSocket, BOSH)", address, config_.http.tls_port));
    }
}

ShardContext::ShardContext(Server& server, const config::Config& config, const std::vector<xmpp::Jid>& domains,
                           std::size_t index)
    : index{index}, router{server, hosts, index} {
    for (std::size_t i = 0; i < domains.size(); ++i)
        hosts.push_back(std::make_unique<Host>(config, config.hosts[i], domains[i]));
}

Module& Server::module_on(std::size_t shard, const xmpp::Jid& domain, std::string_view name) {
    Host* host = contexts_.at(shard)->router.host_of(domain.domain());
    Module* module = host ? host->module(name) : nullptr;
    if (!module) throw std::logic_error("no module " + std::string(name) + " for " + domain.str());
    return *module;
}

const xmpp::Jid* Server::served(std::string_view domain) const {
    for (const auto& d : domains_)
        if (d.domain() == domain) return &d;
    // Not canonical as given (upper case, a trailing dot): prepared as a JID's domain is.
    auto jid = xmpp::Jid::parse(domain);
    if (!jid || !jid->is_domain()) return nullptr;
    for (const auto& d : domains_)
        if (d == *jid) return &d;
    return nullptr;
}

void Server::start_shards() {
    shards_ = std::make_unique<net::ShardSet>(config_.server.shards);
    for (std::size_t i = 0; i < shards_->size(); ++i) {
        contexts_.push_back(std::make_unique<ShardContext>(*this, config_, domains_, i));
        for (auto& host : contexts_.back()->hosts) host->load_modules(*this, contexts_.back()->router, catalog_);
    }
}

std::uint64_t Server::open_stream(std::size_t index, std::shared_ptr<ElementChannel> channel) {
    std::uint64_t id = next_connection_id++;
    shards_->post(index, [this, index, id, channel = std::move(channel)]() mutable {
        auto& shard = *contexts_[index];
        auto stream = std::make_shared<C2sStream>(*this, shard, std::move(channel), id, false);
        shard.streams[id] = stream;
        asio::co_spawn(shards_->at(index).context(), [stream] { return stream->run(); }, asio::detached);
    });
    return id;
}

void Server::evict(const std::vector<PreauthTable::Connection>& connections) {
    for (const auto& gone : connections)
        shards_->post(gone.shard, [this, gone] {
            auto& streams = contexts_[gone.shard]->streams;
            if (auto it = streams.find(gone.id); it != streams.end())
                if (auto stream = it->second.lock()) stream->evict();
        });
}

Task<bool> Server::remove_account(xmpp::BareJid account) {
    // XEP-0077 §3.2: the account's subscriptions end, told to its contacts while its roster
    // still exists, on its owner shard (where its presence state lives).
    std::size_t owner = owner_of(account);
    auto announce = [this, owner, account]() -> Task<void> {
        std::vector<Task<void>> work;
        AccountRemoving event{account, work};
        if (Host* host = shard(owner).router.host_of(account.domain())) host->hooks().fire(event);
        for (auto& w : work) {
            Task<void> task = std::move(w);
            co_await std::move(task);
        }
    };
    co_await asio::co_spawn(shards_->at(owner).executor(), announce(), asio::use_awaitable);
    auto remove = [owner = stores::Owner::of(account), &catalog = catalog_](storage::Database& db) {
        return delete_account(db, owner, catalog);
    };
    bool removed = co_await storage_->run(std::move(remove));
    co_return removed;
}

void Server::listen(ShardContext& shard, const std::string& address, std::uint16_t port, Port kind) {
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(address, ec);
    bool http = kind == Port::http || kind == Port::https;
    if (ec) throw std::runtime_error(std::string(http ? "http" : "c2s") + ".interfaces: \"" + address + "\" is not an IP address");
    tcp::endpoint endpoint{ip, port};
    if (shard.index == 0) {
        // SO_REUSEPORT would let a second server (same user) share the port and silently take
        // half the connections; a plain bind first proves the port is ours.
        tcp::acceptor probe{shards_->at(0).context()};
        probe.open(endpoint.protocol(), ec);
        if (!ec) probe.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec) probe.bind(endpoint, ec);
        if (ec) throw std::runtime_error(fmt::format("cannot listen on {}:{}: {}", address, port, ec.message()));
    }
    auto acceptor = std::make_shared<tcp::acceptor>(shards_->at(shard.index).context());
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    // One listening socket per shard on the same port; the kernel spreads connections.
    if (!ec) {
        int one = 1;
        if (::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
            ec = boost::system::error_code(errno, boost::system::system_category());
    }
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error(fmt::format("cannot listen on {}:{}: {}", address, port, ec.message()));
    shard.listeners.push_back(acceptor);
    if (http)
        asio::co_spawn(shards_->at(shard.index).context(), accept_http_loop(*this, shard, acceptor, kind == Port::https), asio::detached);
    else
        asio::co_spawn(shards_->at(shard.index).context(), accept_loop(*this, shard, acceptor, kind == Port::direct_tls), asio::detached);
}

void Server::run() {
    if (options_.handle_signals) {
        signals_ = std::make_unique<asio::signal_set>(shards_->at(0).context(), SIGINT, SIGTERM);
        signals_->async_wait([this](const boost::system::error_code& ec, int signal) {
            if (ec) return;
            log::info("received {}, shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
            stop();
        });
    }
    std::string served;
    for (const auto& d : domains_) served += (served.empty() ? "" : ", ") + d.str();
    log::info("starling serving {} on {} shard(s)", served, shards_->size());
    shards_->run();
    {
        std::lock_guard lock{stop_mutex_};
        stopped_ = true;
    }
    stop_cv_.notify_all();
    log::info("stopped");
}

void Server::stop() {
    if (stopping_.exchange(true)) return;
    for (std::size_t i = 0; i < shards_->size(); ++i)
        shards_->post(i, [this, i] {
            auto& ctx = *contexts_[i];
            for (auto& l : ctx.listeners) {
                boost::system::error_code ec;
                std::static_pointer_cast<tcp::acceptor>(l)->close(ec);
            }
            auto streams = ctx.streams;  // closing edits the table
            for (auto& [id, weak] : streams)
                if (auto s = weak.lock()) s->close({xmpp::StreamErrorCondition::system_shutdown, "Server shutting down"});
            if (i == 0 && signals_) signals_->cancel();
        });
    // Each loop ends when its streams have flushed and closed, so nothing is destroyed while
    // another shard's pending work still refers to it. A peer that never lets us finish
    // gets a few seconds, then the loops are stopped regardless.
    shards_->release_work();
    stop_watchdog_ = std::thread{[this] {
        std::unique_lock lock{stop_mutex_};
        if (!stop_cv_.wait_for(lock, std::chrono::seconds{5}, [this] { return stopped_; })) {
            log::warn("streams still closing after 5 s; stopping anyway");
            shards_->stop();
        }
    }};
}

}  // namespace starling::server
