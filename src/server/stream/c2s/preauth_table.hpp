#pragma once
// PreauthTable: every connection that has not authenticated yet, with how far it got. The
// caps on them (per address, and for the whole server) never turn a newcomer away: many
// real users share one address (carrier-grade NAT, offices, Tor exits), and refusing at the
// cap would let one of them lock all the others out. A newcomer over a cap instead makes
// room by evicting the connection, of that address (or of the server), that has made the
// least progress (no stream header, then no TLS, then no SASL started), the oldest first.
// A flood of idle or half-open connections thus evicts itself, while a real client, which
// moves through the stages within a second, is evicted last.
// Shared by all shards behind one mutex: admissions cost O(log n) and are per connection.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace starling::server {

// In the order a client gets through them; a connection only moves forward.
enum class PreauthProgress : std::uint8_t { connected, stream_opened, encrypted, authenticating };

class PreauthTable {
public:
    // 0 for either cap: no cap.
    PreauthTable(std::uint32_t per_address, std::uint32_t total) : per_address_{per_address}, total_{total} {}

    struct Connection {
        std::uint64_t id;
        std::size_t shard;
    };
    // Registers a new connection and returns those it displaces (now forgotten here), for
    // the caller to close on their shards.
    std::vector<Connection> admit(Connection connection, const std::string& address);
    // Records progress; a step backwards or an unknown id is ignored.
    void advance(std::uint64_t id, PreauthProgress progress);
    // The connection authenticated or closed; unknown ids (evicted already) are ignored.
    void remove(std::uint64_t id);

    std::size_t size() const;
    std::size_t size_of(const std::string& address) const;

private:
    // Eviction order: least progress, then oldest.
    using Rank = std::tuple<PreauthProgress, std::uint64_t /*admitted*/, std::uint64_t /*id*/>;
    struct Entry {
        std::size_t shard;
        std::string address;
        PreauthProgress progress;
        std::uint64_t admitted;
    };
    static Rank rank_of(std::uint64_t id, const Entry& e) { return {e.progress, e.admitted, id}; }
    Connection evict(Rank rank);  // by value: it may name an element of the sets it erases from

    std::uint32_t per_address_, total_;
    mutable std::mutex mutex_;
    std::uint64_t next_admission_ = 0;
    std::unordered_map<std::uint64_t, Entry> entries_;
    std::set<Rank> all_;
    std::unordered_map<std::string, std::set<Rank>> by_address_;
};

}  // namespace starling::server
