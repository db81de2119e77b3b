#pragma once
// Personal Eventing Protocol (XEP-0163): every account is a PubSub service at its bare JID,
// run by the PubSub engine (pubsub/node_set.hpp). An account's nodes live on its owner shard
// (account-addressed iqs and presence events run there), loaded from the store when first
// needed and let go when none of the account's resources is online.
//   pep_module.cpp     requests to an account's bare JID, its disco (§6), what the module offers
//   account_nodes.cpp  one account's NodeSet: loading and storing its nodes, the notifications
//   interest.cpp       who hears of what: the account's own resources and the contacts that send
//                      it presence, filtered by their caps (+notify, §4.2); the last items for a
//                      newly available resource (§4.3.3)
#include <map>
#include <memory>
#include <set>
#include <string>

#include "server/module/events.hpp"
#include "server/module/module.hpp"
#include "server/modules/pubsub/node_set.hpp"
#include "xmpp/caps.hpp"
#include "xmpp/stanza.hpp"

namespace starling::pep {

struct Options {
    std::uint32_t max_items_per_node = 1000;  // the most pubsub#max_items may be ("max")
    std::uint32_t max_payload_bytes = 262144; // an item's payload, as XML (avatars are big)
    std::uint32_t max_nodes_per_account = 256;
};

class PepModule;

// A new PEP node's configuration.
pubsub::NodeConfig pep_defaults();

// One account's nodes, kept while the account is online (or a request needs them).
class AccountNodes final : public pubsub::NodeKeeper {
public:
    AccountNodes(PepModule& module, xmpp::BareJid account);
    pubsub::NodeSet nodes;

private:
    void notify(const pubsub::Node& node, const xml::Element& message, const xmpp::Jid* publisher) override;
    void deliver(const xml::Element& message, const xmpp::Jid& to) override;
    void store_node(const pubsub::Node& node) override;
    void store_item(const pubsub::Node& node, const pubsub::Item& item) override;
    void forget_item(const pubsub::Node& node, const std::string& id) override;
    void forget_items(const pubsub::Node& node) override;
    void forget_node(const std::string& name) override;

    PepModule& module_;
    xmpp::BareJid account_;
};

class PepModule final : public server::Module {
public:
    PepModule(server::ModuleContext& ctx, const Options& options);

private:
    friend class AccountNodes;
    using Stanza = xmpp::Stanza;

    // pep_module.cpp
    Task<void> on_request(server::IqRequest& request, bool owner);
    void disco_info(server::AccountDiscoInfo& event);
    void disco_items(server::AccountDiscoItems& event);
    Task<bool> receives_presence(xmpp::BareJid account, xmpp::BareJid who);
    // `who`'s roster groups in the account's roster, if it receives the account's presence.
    Task<std::optional<std::vector<std::string>>> roster_groups(xmpp::BareJid account, xmpp::BareJid who);
    Task<void> learn_groups(xmpp::BareJid account, xmpp::BareJid requester);
    std::vector<std::string> take_disco_groups(const xmpp::BareJid& account, const xmpp::BareJid& requester);

    // account_nodes.cpp
    // Loads the account's nodes if they are not here yet; then loaded_ has them.
    Task<void> load(xmpp::BareJid account);
    AccountNodes* loaded(const xmpp::BareJid& account);
    // Lets an account's nodes go when none of its resources is bound.
    void let_go(const xmpp::BareJid& account);
    static std::string item_key(std::string_view node, std::string_view id);

    // interest.cpp
    struct Interested {
        std::set<xmpp::Jid> own;       // the account's available resources
        std::set<xmpp::Jid> contacts;  // contacts' resources that sent it available presence
    };
    void own_presence(const Stanza& presence, bool initial);
    void presence_to_account(const Stanza& presence);
    Task<void> contact_available(xmpp::BareJid account, xmpp::Jid contact, std::optional<xmpp::Caps> caps);
    Task<void> own_available(xmpp::BareJid account, xmpp::Jid resource, xmpp::Caps caps, bool initial);
    // §4.3.4: the last item of each node `to` wants (+notify) and may see, to `to`.
    Task<void> send_last_items(xmpp::BareJid account, xmpp::Jid to, bool contact);
    // The notification `message` about `node` to its subscribers and those interested (§4.3).
    void notify(const xmpp::BareJid& account, const pubsub::Node& node, const xml::Element& message,
                const xmpp::Jid* publisher);
    // The same for contacts on a roster-model node: their groups come from the store first.
    Task<void> notify_by_roster(xmpp::BareJid account, std::vector<std::string> allowed, xml::Element message,
                                std::vector<xmpp::Jid> contacts);
    bool wants(const xmpp::Jid& full, const std::string& node) const;  // its caps say node+notify

    server::ModuleContext& ctx_;
    Options options_;
    server::stores::Map stored_nodes_;  // "pep_nodes": account → node name → document
    server::stores::Map stored_items_;  // "pep_items": account → item_key → item
    std::map<xmpp::BareJid, std::unique_ptr<AccountNodes>> loaded_;
    std::map<xmpp::BareJid, Interested> interested_;
    // The requester's roster groups in the account's roster, between AccountDiscoPreparing
    // and the fold (for roster-model nodes, XEP-0060 §4.5).
    std::map<std::pair<xmpp::BareJid, xmpp::BareJid>, std::vector<std::string>> disco_groups_;
};

}  // namespace starling::pep
