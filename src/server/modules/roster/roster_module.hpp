#pragma once
// RosterModule: the roster (RFC 6121 §2, roster.cpp) and what hangs on it: presence
// subscriptions (§3, Appendix A) and presence broadcast and probes (§4) (presence.cpp).
// One instance per shard; every handler runs on the owner shard of the account concerned,
// so the per-account state below is plain members. Store calls run on the storage thread,
// and each read-modify-write of an item happens inside one call there, so two stanzas for
// one account can never interleave their updates.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "server/module/events.hpp"
#include "server/module/module.hpp"
#include "server/module/presence_subscriptions.hpp"
#include "server/modules/roster/roster_store.hpp"
#include "server/modules/roster/subscription_state.hpp"

namespace starling::roster {

struct Options {
    std::uint32_t max_items = 5000;
    std::uint32_t max_name_bytes = 1023;
    // RFC 6121 §8.5.3.1's SHOULD NOT: refuse iq get/set to a full JID from someone the user
    // shares no presence with. Off by default, as in Prosody and ejabberd (see guard_iq).
    bool iq_needs_shared_presence = false;
};

class RosterModule final : public server::Module, public server::PresenceSubscriptions {
public:
    RosterModule(server::ModuleContext& ctx, const Options& options);
    Task<bool> receives_presence(xmpp::BareJid account, xmpp::BareJid contact) override;
    Task<std::optional<std::vector<std::string>>> groups_of_subscriber(xmpp::BareJid account,
                                                                       xmpp::BareJid contact) override;

private:
    // roster.cpp
    Task<void> get(server::IqRequest& request);
    Task<void> set(server::IqRequest& request);
    void push(const xmpp::BareJid& account, const RosterItem& item, std::int64_t version,
              const std::set<std::string>& only = {});
    static xml::Element item_element(const RosterItem& item);

    // presence.cpp
    void register_presence_handlers();
    Task<void> broadcast(xmpp::Stanza presence, bool initial, bool from_client);
    Task<void> outbound(xmpp::Stanza stanza);
    Task<void> inbound(xmpp::Stanza stanza);
    Task<void> answer_probe(xmpp::Stanza probe);
    void unavailable_after_disconnect(const xmpp::Jid& resource);
    Task<std::vector<xmpp::Jid>> subscribers_matching(const xmpp::BareJid& account, const xmpp::JidMatcher& which);
    Task<void> presence_ends_for(xmpp::BareJid account, xmpp::JidMatcher blocked);
    Task<void> presence_resumes_for(xmpp::BareJid account, xmpp::JidMatcher unblocked);
    Task<void> subscriptions_end(xmpp::BareJid account);
    server::Flow guard_iq(xmpp::Stanza& stanza);
    Task<void> deliver_if_sharing(xmpp::Stanza iq);
    void spawn(Task<void> task);
    void release(const xmpp::BareJid& account);
    std::vector<std::pair<xmpp::Jid, const xml::Element*>> available_of(const xmpp::BareJid& account) const;
    static std::vector<RosterItem> initial_pending(RosterStore& roster, const server::stores::Owner& user);
    struct Subscribers;
    const Subscribers* cached_subscribers(const xmpp::BareJid& account) const;
    void keep_subscribers(const xmpp::BareJid& account, std::uint64_t generation,
                          std::shared_ptr<const std::vector<xmpp::Jid>> jids);
    std::uint64_t subscribers_generation(const xmpp::BareJid& account);
    void subscribers_changed(const xmpp::BareJid& account);

    server::ModuleContext& ctx_;
    Options options_;
    // Which resources of each account asked for the roster (§2.1.6).
    std::unordered_map<xmpp::BareJid, std::set<std::string>> interested_;
    // The last available presence of each available resource (§4.3.2 probes, §4.4 own
    // resources), and where each sent directed presence (§4.6.3).
    std::unordered_map<xmpp::BareJid, std::map<std::string, xml::Element>> last_presence_;  // by resource
    std::map<xmpp::Jid, std::set<xmpp::Jid>> directed_;
    // Who sees each available account's presence ('from' or 'both'), so that probes,
    // presence changes and §8.5.3.1 checks need no store read: a login with 100 online
    // contacts was 100 reads for their answers to its probes. Kept only while the account
    // is available. Each roster write for the account drops the list and moves its
    // generation on, so a read that began before the write cannot bring the old list back.
    struct Subscribers {
        std::uint64_t generation = 0;
        // Null until read. Shared, so a broadcast can go on sending to the list it took even
        // if a roster write replaces the entry meanwhile.
        std::shared_ptr<const std::vector<xmpp::Jid>> jids;
        std::unordered_set<std::string> bare_jids;  // the same, for lookups
    };
    std::unordered_map<xmpp::BareJid, Subscribers> subscribers_;
    std::uint64_t next_generation_ = 0;
    // Inbound subscription changes being stored, per account, and the presence that arrived
    // meanwhile: it must not overtake the 'subscribed' that makes it meaningful (§3.1.6).
    std::unordered_map<xmpp::BareJid, int> changing_;
    std::unordered_map<xmpp::BareJid, std::vector<xmpp::Stanza>> held_;
    // Requests to a full JID found to come from someone the user shares presence with, on
    // their way through the router again (§8.5.3.1), by (from, id).
    std::set<std::pair<std::string, std::string>> cleared_;
};

}  // namespace starling::roster
