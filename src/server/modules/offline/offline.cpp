// XEP-0160 offline messages: chat and normal messages for an account with no available
// resource are stored, and delivered at its next initial presence with non-negative
// priority, each stamped with XEP-0203 delay. Bounded per account; past the bound the sender
// gets resource-constraint. Handlers run on the account's owner shard. The messages are an
// archive store, "offline", owned by the account; each is appended (with the account's
// existence and the bound checked) in one step on the storage thread.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <chrono>
#include <set>
#include <unordered_map>

#include "base/log.hpp"
#include "server/config/options.hpp"
#include "server/module/events.hpp"
#include "server/module/module.hpp"
#include "server/module/accounts.hpp"
#include "server/storage/archive/archive_store.hpp"
#include "server/storage/storage_thread.hpp"
#include "xml/parse_element.hpp"
#include "xml/writer.hpp"
#include "xmpp/datetime.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::offline {

using namespace server;
using xmpp::Stanza;
using xmpp::StanzaErrorCondition;

namespace {
constexpr std::string_view delay_ns = "urn:xmpp:delay";

struct Options {
    std::uint32_t max_messages = 1000;
};

enum class Outcome { stored, full, no_account };

constexpr std::string_view store_name = "offline";

}  // namespace

class OfflineModule final : public Module {
public:
    OfflineModule(ModuleContext& ctx, const Options& options) : ctx_{ctx}, options_{options} {
        ctx.disco().add_feature("msgoffline");
        ctx.on<MessageForOfflineAccount>([this](MessageForOfflineAccount& e) {
            // XEP-0160 §3: chat states alone (XEP-0085) are not worth keeping.
            if (!e.stanza.element().find_child("body", ns::client) && only_chat_states(e.stanza.element()))
                return Flow::stop;
            spawn(store(e.stanza));
            return Flow::stop;
        });
        ctx.on<OwnPresence>([this](OwnPresence& e) {
            const xmpp::Jid& from = *e.stanza.from();
            if (e.stanza.type() == "unavailable") return void(flushed_.erase(from));
            // XEP-0160 §3: delivered when the user is available with non-negative priority,
            // once per session: at initial presence, or when a negative priority turns positive.
            if (flushed_.contains(from)) return;
            int priority = 0;
            try {
                std::string p = e.stanza.element().child_text("priority", ns::client);
                if (!p.empty()) priority = std::stoi(p);
            } catch (...) {
            }
            if (priority < 0) return;
            flushed_.insert(from);
            // From now on (not from when the task first runs), live messages wait.
            ++flushing_[from.bare()].readers;
            spawn(deliver(from));
        });
        ctx.on<ResourceUnbound>([this](ResourceUnbound& e) { flushed_.erase(e.jid); });
        // Messages that arrive while the stored ones are being read wait for them, so the
        // older ones come first.
        ctx.on<StanzaToAccount>([this](StanzaToAccount& e) {
            if (e.stanza.kind() != xmpp::StanzaKind::message || e.stanza.is_error() || replaying_) return Flow::next;
            auto it = flushing_.find(e.stanza.to()->bare());
            if (it == flushing_.end()) return Flow::next;
            it->second.held.push_back(std::move(e.stanza));
            return Flow::stop;
        });
    }

private:
    static bool only_chat_states(const xml::Element& message) {
        for (const auto& child : message.children())
            if (child.element && child.element->xmlns() != "http://jabber.org/protocol/chatstates") return false;
        return true;
    }

    void spawn(Task<void> task) { ctx_.spawn(std::move(task)); }

    Task<void> store(Stanza stanza) {
        std::string host{stanza.to()->domain()}, account{stanza.to()->local()};
        storage::ArchiveItem item{.when = std::chrono::duration_cast<std::chrono::microseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count(),
                                  .with = stanza.from() ? stanza.from()->bare().str() : std::string{},
                                  .payload = xml::to_string(stanza.element())};  // declares its namespace
        std::size_t max = options_.max_messages;
        auto write = [host, account, item = std::move(item), max](storage::Database& db) {
            if (!accounts::exists(db, {host, account})) return Outcome::no_account;
            auto id = storage::ArchiveStore{db}.append_below({store_name, host, account}, item, max);
            return id ? Outcome::stored : Outcome::full;
        };
        Outcome outcome = co_await ctx_.storage().run(std::move(write));
        if (outcome == Outcome::stored) co_return;
        // RFC 6121 §8.5.2.2.1 for a non-existent account; XEP-0160 §3 when storage is full.
        auto condition = outcome == Outcome::full ? StanzaErrorCondition::resource_constraint
                                                  : StanzaErrorCondition::service_unavailable;
        Stanza reply = stanza.error_reply({condition, outcome == Outcome::full ? "offline storage is full" : ""});
        if (!reply.from()) reply.set_from(ctx_.domain());
        ctx_.send(std::move(reply));
    }

    Task<void> deliver(xmpp::Jid to) {
        std::string account{to.local()};
        auto still_bound = [&] {
            auto bound = ctx_.resources_of(to.bare());
            return std::find(bound.begin(), bound.end(), to) != bound.end();
        };
        const xmpp::BareJid owner = to.bare();
        if (!still_bound()) co_return release(owner);
        auto take = [host = std::string(to.domain()), account](storage::Database& db) {
            storage::Database::Transaction t{db};
            storage::ArchiveStore archive{db};
            storage::StoreOwner owner{store_name, host, account};
            // Everything, oldest first; the bound may have been lowered since they were kept.
            std::size_t all = archive.count(owner);
            std::vector<storage::ArchiveItem> out;
            if (all > 0) out = std::move(archive.query(owner, {.max = all})->items);
            archive.clear(owner);
            t.commit();
            return out;
        };
        std::vector<storage::ArchiveItem> messages;
        try {
            messages = co_await ctx_.storage().run(std::move(take));
        } catch (...) {
            release(owner);
            throw;
        }
        // The stored messages themselves go straight through (routed synchronously here, on
        // the owner shard).
        replaying_ = true;
        for (auto& m : messages) {
            auto element = xml::parse_element(m.payload);
            if (!element) continue;
            auto parsed = Stanza::parse(std::move(*element));
            if (!parsed) continue;
            Stanza s = std::move(parsed).value();
            // XEP-0203: when and by whom it was held.
            xml::Element& delay = s.element().add_child("delay", std::string(delay_ns));
            delay.set_attribute("from", ctx_.domain().str());
            delay.set_attribute("stamp", xmpp::datetime(m.when));
            delay.add_text("Offline storage");
            s.set_to(to);
            ctx_.send(std::move(s));
        }
        replaying_ = false;
        if (!messages.empty()) log::info("offline: delivered {} message(s) to {}", messages.size(), to.str());
        release(owner);
    }

    void release(const xmpp::BareJid& account) {
        auto it = flushing_.find(account);
        if (it == flushing_.end() || --it->second.readers > 0) return;
        auto held = std::move(it->second.held);
        flushing_.erase(it);
        for (auto& s : held) ctx_.route_again(std::move(s));
    }

    ModuleContext& ctx_;
    Options options_;
    std::set<xmpp::Jid> flushed_;  // owner shard: resources that got the stored messages
    struct Flush {
        int readers = 0;                // deliveries reading the store for the account
        std::vector<Stanza> held;       // messages that arrived meanwhile, in order
    };
    std::unordered_map<xmpp::BareJid, Flush> flushing_;
    bool replaying_ = false;  // deliver() is sending stored messages
};

const config::ModuleOptionsOf<Options> options{config::OptionSet<Options>{}.add(
    "max_messages", &Options::max_messages, "Messages kept for one offline account; past it the sender gets an error")};

extern const ModuleInfo info{
    .name = "offline",
    .description = "Keeps messages for offline accounts and delivers them at the next login",
    .xeps = {{160, "1.0.1", "Best Practices for Handling Offline Messages"}, {203, "2.0", "Delayed Delivery"}},
    .options = &options,
    .create = create_module_with_options<OfflineModule, Options>,
};

}  // namespace starling::offline
