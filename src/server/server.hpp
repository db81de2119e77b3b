#pragma once
// Server: builds everything from a Config (shards, hosts, storage, TLS, listeners), runs it,
// and stops it gracefully (every stream closed with <system-shutdown/>). Shared, read-only
// after start(), by all shards; per-shard state lives in ShardContext.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "net/shard.hpp"
#include "net/task.hpp"
#include "net/tls_domains.hpp"
#include "server/config/config.hpp"
#include "server/module/caps_cache.hpp"
#include "server/routing/host.hpp"
#include "server/routing/router.hpp"
#include "server/stream/c2s/auth_throttle.hpp"
#include "server/stream/c2s/preauth_table.hpp"

namespace starling::storage { class StorageThread; }

namespace starling::server {

class C2sStream;
class BoshSession;
class ElementChannel;

// What one shard owns. Touched only on that shard.
struct ShardContext {
    ShardContext(Server& server, const config::Config& config, const std::vector<xmpp::Jid>& domains,
                 std::size_t index);
    // The Host of a served domain on this shard (hosts[0]: the first domain).
    Host& host(std::size_t i = 0) { return *hosts[i]; }
    std::size_t index;
    std::vector<std::unique_ptr<Host>> hosts;  // one per served domain, in config order
    Router router;
    std::unordered_map<std::uint64_t, std::weak_ptr<C2sStream>> streams;
    // BOSH sessions made on this shard, by sid (which names the shard: any shard finds it).
    std::unordered_map<std::string, std::shared_ptr<BoshSession>> bosh;
    std::uint64_t next_connection = 0;
    std::vector<std::shared_ptr<void>> listeners;
};

class Server {
public:
    Server(config::Config config, const std::vector<const ModuleInfo*>& catalog);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    struct StartOptions {
        bool listen = true;              // load TLS and bind the configured ports
        bool in_memory_storage = false;  // SQLite ":memory:" instead of data_dir/starling.db
        bool handle_signals = true;      // SIGTERM/SIGINT stop the server
    };
    // Opens storage, loads TLS (making a self-signed certificate if none is configured),
    // builds the shards and binds the ports. Throws std::runtime_error with a readable cause.
    // In-process tests start with {.listen = false, .in_memory_storage = true}.
    void start() { start(StartOptions{}); }
    void start(StartOptions options);
    // Runs until stop() (or SIGTERM/SIGINT unless start() was told otherwise).
    void run();
    // Any thread, after start(): a new c2s stream over `channel` on `shard`, as if accepted
    // there (the channel's executor must be that shard's). Its id is returned.
    std::uint64_t open_stream(std::size_t shard, std::shared_ptr<ElementChannel> channel);
    // Thread-safe: closes every stream with <system-shutdown/>, then stops.
    void stop();

    const config::Config& config() const { return config_; }
    // The first served domain ([server] domain).
    const xmpp::Jid& domain() const { return domains_.front(); }
    // Every served domain, canonical (RFC 7622), in config order.
    const std::vector<xmpp::Jid>& domains() const { return domains_; }
    // The served domain a name stands for (as a stream's 'to' or a JID's domainpart names
    // it), or null if this server does not serve it.
    const xmpp::Jid* served(std::string_view domain) const;
    net::ShardSet& shards() { return *shards_; }
    ShardContext& shard(std::size_t index) { return *contexts_[index]; }
    std::size_t owner_of(const xmpp::BareJid& jid) const;
    // A module instance on a shard, for that shard's use only (ModuleContext::on_shard).
    // Throws std::logic_error if the domain does not load it there.
    Module& module_on(std::size_t shard, const xmpp::Jid& domain, std::string_view name);
    storage::StorageThread& storage() { return *storage_; }
    // For CPU-heavy work that must not stall a shard or the storage thread: PBKDF2 of a
    // PLAIN login.
    boost::asio::thread_pool& hashing() { return hashing_; }
    // What entities that send presence to accounts can do (XEP-0115), for every shard.
    CapsCache& caps() { return caps_; }
    // Every served domain's certificate (the TLS of new connections).
    const net::TlsDomains& tls() const { return tls_; }
    // Any shard: deletes an account and everything every module stored for it (the same
    // deletion as `starling user del`), on the storage thread. False if there was none.
    Task<bool> remove_account(xmpp::BareJid account);
    AuthThrottle& auth_throttle() { return auth_throttle_; }
    PreauthTable& preauth() { return preauth_; }
    // Any thread: closes connections the pre-auth table evicted, each on its own shard.
    void evict(const std::vector<PreauthTable::Connection>& connections);
    // Per-process random secret (fake SCRAM credentials for unknown accounts).
    const std::string& secret() const { return secret_; }

    // Binding results, for `serve` to print ("127.0.0.1:5222 (STARTTLS)").
    const std::vector<std::string>& listening() const { return listening_; }

private:
    void start_shards();
    // What a listening port speaks.
    enum class Port { starttls, direct_tls, http, https };
    void listen(ShardContext& shard, const std::string& address, std::uint16_t port, Port kind);
    void shutdown_gracefully();

    config::Config config_;
    const std::vector<const ModuleInfo*>& catalog_;
    std::vector<xmpp::Jid> domains_;
    std::unique_ptr<net::ShardSet> shards_;
    std::vector<std::unique_ptr<ShardContext>> contexts_;
    std::unique_ptr<storage::StorageThread> storage_;
    boost::asio::thread_pool hashing_{1};
    CapsCache caps_;
    net::TlsDomains tls_;
    AuthThrottle auth_throttle_;
    PreauthTable preauth_;
    std::string secret_;
    std::vector<std::string> listening_;
    StartOptions options_;
    std::atomic<bool> stopping_{false};
    std::unique_ptr<boost::asio::signal_set> signals_;
    std::thread stop_watchdog_;
    std::mutex stop_mutex_;
    std::condition_variable stop_cv_;
    bool stopped_ = false;
};

}  // namespace starling::server
