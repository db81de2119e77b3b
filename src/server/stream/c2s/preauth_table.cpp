#include "server/stream/c2s/preauth_table.hpp"

namespace starling::server {

std::vector<PreauthTable::Connection> PreauthTable::admit(Connection connection, const std::string& address) {
    std::lock_guard lock{mutex_};
    std::vector<Connection> evicted;
    if (auto it = by_address_.find(address); per_address_ && it != by_address_.end() && it->second.size() >= per_address_)
        evicted.push_back(evict(*it->second.begin()));
    if (total_ && all_.size() >= total_) evicted.push_back(evict(*all_.begin()));
    Entry entry{connection.shard, address, PreauthProgress::connected, next_admission_++};
    Rank rank = rank_of(connection.id, entry);
    all_.insert(rank);
    by_address_[address].insert(rank);
    entries_.insert_or_assign(connection.id, std::move(entry));
    return evicted;
}

PreauthTable::Connection PreauthTable::evict(Rank rank) {
    std::uint64_t id = std::get<2>(rank);
    auto it = entries_.find(id);
    Connection gone{id, it->second.shard};
    auto by = by_address_.find(it->second.address);
    by->second.erase(rank);
    if (by->second.empty()) by_address_.erase(by);
    all_.erase(rank);
    entries_.erase(it);
    return gone;
}

void PreauthTable::advance(std::uint64_t id, PreauthProgress progress) {
    std::lock_guard lock{mutex_};
    auto it = entries_.find(id);
    if (it == entries_.end() || progress <= it->second.progress) return;
    Entry& e = it->second;
    Rank before = rank_of(id, e);
    e.progress = progress;
    Rank after = rank_of(id, e);
    // Nodes moved, not freed and allocated again: this runs three times per login.
    auto moved = all_.extract(before);
    moved.value() = after;
    all_.insert(std::move(moved));
    auto& mine = by_address_[e.address];
    auto mine_moved = mine.extract(before);
    mine_moved.value() = after;
    mine.insert(std::move(mine_moved));
}

void PreauthTable::remove(std::uint64_t id) {
    std::lock_guard lock{mutex_};
    auto it = entries_.find(id);
    if (it != entries_.end()) evict(rank_of(id, it->second));
}

std::size_t PreauthTable::size() const {
    std::lock_guard lock{mutex_};
    return entries_.size();
}

std::size_t PreauthTable::size_of(const std::string& address) const {
    std::lock_guard lock{mutex_};
    auto it = by_address_.find(address);
    return it == by_address_.end() ? 0 : it->second.size();
}

}  // namespace starling::server
