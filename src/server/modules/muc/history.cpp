// A room's history (XEP-0045 §7.2.14): the last groupchat messages, sent to a newcomer after
// the presences and before the subject, each with a XEP-0203 delay, as much as its
// <history maxchars maxstanzas seconds since/> asks. Every room keeps the last
// muc#roomconfig_historylength messages in memory; a persistent room also appends each to
// its archive (store "muc", owner (service domain, room)), which its history is loaded from
// at start-up and which MAM will page through.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>

#include "base/log.hpp"
#include "server/modules/muc/muc_module.hpp"
#include "xml/parse_element.hpp"
#include "xml/writer.hpp"
#include "xmpp/datetime.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::muc {

using xmpp::StanzaKind;

namespace {

constexpr std::string_view delay_ns = "urn:xmpp:delay";

std::int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::optional<std::size_t> count_attribute(const xml::Element& e, std::string_view name) {
    std::string_view v = e.attribute(name);
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size()) return std::nullopt;  // not a count: ignored
    return n;
}

}  // namespace

void MucModule::remember(Room& room, const Occupant& sender, const xml::Element& message) {
    if (room.config.history_length == 0) return;
    HistoryEntry entry{now_us(), sender.nick, message};
    room.history.push_back(entry);
    while (room.history.size() > room.config.history_length) room.history.pop_front();
    if (!room.config.persistent) return;
    storage::ArchiveItem item{{}, entry.when, sender.nick, xml::to_string(message)};
    server::stores::Owner owner{service_.domain.str(), std::string(room.jid.local())};
    ctx_.spawn([](server::stores::Archive archive, server::stores::Owner owner, storage::ArchiveItem item,
                  std::size_t quota) -> Task<void> {
        Task<std::string> append = archive.append(std::move(owner), std::move(item), quota);
        co_await std::move(append);
    }(archive_, std::move(owner), std::move(item), options_.kept_per_room));
}

void MucModule::send_history(const Room& room, const Stanza& join) {
    if (room.history.empty()) return;
    // §7.2.14: what the newcomer asked for; all of it (the room's length) when it did not.
    std::optional<std::size_t> maxchars, maxstanzas;
    std::optional<std::int64_t> not_before;
    if (const xml::Element* x = join.element().find_child("x", muc_ns))
        if (const xml::Element* h = x->find_child("history", muc_ns)) {
            maxchars = count_attribute(*h, "maxchars");
            maxstanzas = count_attribute(*h, "maxstanzas");
            if (auto seconds = count_attribute(*h, "seconds"))
                not_before = now_us() - static_cast<std::int64_t>(*seconds) * 1'000'000;
            if (auto since = xmpp::parse_datetime(h->attribute("since")))
                not_before = std::max(not_before.value_or(*since), *since);
        }
    // Newest first, until a limit is reached; then sent oldest first.
    std::vector<Stanza> chosen;
    std::size_t chars = 0;
    for (auto it = room.history.rbegin(); it != room.history.rend(); ++it) {
        if (not_before && it->when < *not_before) break;
        if (maxstanzas && chosen.size() >= *maxstanzas) break;
        xml::Element message = it->message;
        auto& delay = message.add_child("delay", std::string(delay_ns));
        delay.set_attribute("from", room.jid.str());  // §7.2.14: the room, not the sender
        delay.set_attribute("stamp", xmpp::datetime(it->when));
        Stanza stanza{StanzaKind::message, std::move(message), room.occupant_jid(it->nick), *join.from()};
        if (maxchars) {
            chars += xml::to_string(stanza.element()).size();  // the whole stanza, 'from' and 'to' too
            if (chars > *maxchars) break;
        }
        chosen.push_back(std::move(stanza));
    }
    for (auto it = chosen.rbegin(); it != chosen.rend(); ++it) ctx_.send(std::move(*it));
}

Task<void> MucModule::load_history(xmpp::BareJid jid) {
    auto it = rooms_.find(jid);
    if (it == rooms_.end()) co_return;
    storage::ArchiveRange newest{.newest = true, .max = it->second.config.history_length};
    server::stores::Owner owner{service_.domain.str(), std::string(jid.local())};
    Task<std::optional<storage::ArchivePage>> query = archive_.query(std::move(owner), std::move(newest));
    std::optional<storage::ArchivePage> page = co_await std::move(query);
    it = rooms_.find(jid);  // the map may have changed while the store answered
    if (!page || it == rooms_.end()) co_return;
    for (const auto& item : page->items) {
        auto message = xml::parse_element(item.payload);
        if (!message) {
            log::warn("muc: a message in the archive of {} is unreadable; left out of its history", jid.str());
            continue;
        }
        it->second.history.push_back({item.when, item.with, std::move(*message)});
    }
}

}  // namespace starling::muc
