// Who hears of an account's PEP events (XEP-0163 §4): its own available resources, and the
// resources of contacts that receive its presence and sent it theirs, each only for the nodes
// its caps ask for (node+notify, §4.2: filtered notifications) and, for contacts, may see by
// the node's access model. A resource that becomes available gets the last item of each node
// it wants (§4.3.3 rule 2, §4.3.4), once its caps are known (asked once per version: the
// server-wide CapsCache).
#include <algorithm>

#include "base/log.hpp"
#include "server/modules/pep/pep_module.hpp"

namespace starling::pep {

using namespace server;

bool PepModule::wants(const xmpp::Jid& full, const std::string& node) const {
    CapsFeaturesPtr features = ctx_.caps().features_of(full);
    return features && features->has(node + "+notify");
}

void PepModule::notify(const xmpp::BareJid& account, const pubsub::Node& node, const xml::Element& message,
                       const xmpp::Jid* publisher) {
    std::set<xmpp::Jid> sent;
    auto send = [&](const xmpp::Jid& to) {
        if (sent.insert(to).second) ctx_.send(Stanza{xmpp::StanzaKind::message, message, account.jid(), to});
    };
    // §4.3.1 rule 3: those who receive the account's presence learn which resource published
    // (a replyto address, XEP-0033); nobody else may.
    xml::Element with_publisher = message;
    if (publisher && publisher->has_resource())
        with_publisher.add_child("addresses", "http://jabber.org/protocol/address")
            .add_child("address", "http://jabber.org/protocol/address")
            .set_attribute("type", "replyto")
            .set_attribute("jid", publisher->str());
    auto send_to_contact = [&](const xmpp::Jid& to) {
        if (sent.insert(to).second) ctx_.send(Stanza{xmpp::StanzaKind::message, with_publisher, account.jid(), to});
    };
    // XEP-0060 subscriptions first (§4.3.2 rule 1: one notification to a subscribed JID);
    // a bare JID subscribed explicitly gets its one notification there.
    std::set<xmpp::BareJid> bare_subscribers;
    for (const auto& subscription : node.subscriptions) {
        if (subscription.pending) continue;
        send(subscription.jid);
        if (!subscription.jid.has_resource()) bare_subscribers.insert(subscription.jid.bare());
    }
    auto it = interested_.find(account);
    if (it == interested_.end()) return;
    for (const auto& resource : it->second.own)  // §4 rule 3: the account's own resources
        if (wants(resource, node.name)) send_to_contact(resource);
    const AccountNodes* nodes = loaded(account);
    std::vector<xmpp::Jid> by_roster;
    for (const auto& contact : it->second.contacts) {
        if (bare_subscribers.count(contact.bare()) || !wants(contact, node.name) || sent.count(contact)) continue;
        if (node.config.access_model == pubsub::AccessModel::roster &&
            node.affiliation_of(contact.bare()) == pubsub::Affiliation::none) {
            by_roster.push_back(contact);
            continue;
        }
        // §4 rule 2: a contact that receives the account's presence, as the access model allows.
        if (nodes && nodes->nodes.access_refusal(node, contact.bare(), true)) continue;
        send_to_contact(contact);
    }
    if (!by_roster.empty())
        ctx_.spawn(notify_by_roster(account, node.config.roster_groups_allowed, with_publisher, std::move(by_roster)));
}

Task<void> PepModule::notify_by_roster(xmpp::BareJid account, std::vector<std::string> allowed, xml::Element message,
                                       std::vector<xmpp::Jid> contacts) {
    for (const auto& contact : contacts) {
        Task<std::optional<std::vector<std::string>>> asking = roster_groups(account, contact.bare());
        auto groups = co_await std::move(asking);
        if (!groups) continue;
        bool in_allowed = std::any_of(groups->begin(), groups->end(), [&](const std::string& g) {
            return std::find(allowed.begin(), allowed.end(), g) != allowed.end();
        });
        if (in_allowed) ctx_.send(Stanza{xmpp::StanzaKind::message, message, account.jid(), contact});
    }
}

void PepModule::own_presence(const Stanza& presence, bool initial) {
    const xmpp::Jid& resource = *presence.from();
    xmpp::BareJid account = resource.bare();
    if (presence.type() == "unavailable") {
        if (auto it = interested_.find(account); it != interested_.end()) it->second.own.erase(resource);
        ctx_.caps().forget(resource);
        return;
    }
    interested_[account].own.insert(resource);
    if (auto caps = xmpp::caps_of(presence.element())) ctx_.spawn(own_available(account, resource, *caps, initial));
}

Task<void> PepModule::own_available(xmpp::BareJid account, xmpp::Jid resource, xmpp::Caps caps, bool initial) {
    Task<CapsFeaturesPtr> learning = ctx_.learn_caps(account.jid(), resource, caps);
    CapsFeaturesPtr features = co_await std::move(learning);
    if (!initial || !features) co_return;
    Task<void> sending = send_last_items(account, resource, false);
    co_await std::move(sending);
}

void PepModule::presence_to_account(const Stanza& presence) {
    if (!presence.from() || !presence.from()->has_resource()) return;
    const xmpp::Jid& contact = *presence.from();
    xmpp::BareJid account = presence.to()->bare();
    if (contact.bare() == account) return;
    if (presence.type() == "unavailable") {
        if (auto it = interested_.find(account); it != interested_.end()) {
            it->second.contacts.erase(contact);
            if (it->second.own.empty() && it->second.contacts.empty()) interested_.erase(it);
        }
        ctx_.caps().forget(contact);
        return;
    }
    if (!presence.type().empty()) return;
    auto caps = xmpp::caps_of(presence.element());
    auto it = interested_.find(account);
    bool known = it != interested_.end() && it->second.contacts.count(contact);
    // Without caps a resource wants nothing (§4.2); a known one's caps may have changed.
    if (!caps) {
        if (known) it->second.contacts.erase(contact);
        return;
    }
    ctx_.spawn(contact_available(account, contact, std::move(caps)));
}

Task<void> PepModule::contact_available(xmpp::BareJid account, xmpp::Jid contact, std::optional<xmpp::Caps> caps) {
    Task<bool> asking = receives_presence(account, contact.bare());
    if (!co_await std::move(asking)) co_return;
    bool initial = interested_[account].contacts.insert(contact).second;
    Task<CapsFeaturesPtr> learning = ctx_.learn_caps(account.jid(), contact, *caps);
    CapsFeaturesPtr features = co_await std::move(learning);
    if (!initial || !features) co_return;
    Task<void> sending = send_last_items(account, contact, true);
    co_await std::move(sending);
}

Task<void> PepModule::send_last_items(xmpp::BareJid account, xmpp::Jid to, bool contact) {
    Task<void> peeking = load(account);
    co_await std::move(peeking);
    std::vector<std::string> groups;
    if (const AccountNodes* peek = loaded(account); peek && contact) {
        bool by_roster = std::any_of(peek->nodes.nodes().begin(), peek->nodes.nodes().end(), [](const auto& entry) {
            return entry.second.config.access_model == pubsub::AccessModel::roster;
        });
        if (by_roster) {
            Task<std::optional<std::vector<std::string>>> asking = roster_groups(account, to.bare());
            auto found = co_await std::move(asking);
            if (found) groups = std::move(*found);
        }
    }
    Task<void> loading = load(account);
    co_await std::move(loading);
    AccountNodes* nodes = loaded(account);
    if (!nodes) co_return;
    for (const auto& [name, node] : nodes->nodes.nodes()) {
        if (node.items.empty() || node.config.send_last != pubsub::SendLast::on_sub_and_presence) continue;
        if (!wants(to, name)) continue;
        if (contact && nodes->nodes.access_refusal(node, to.bare(), true, groups)) continue;
        xml::Element message = pubsub::NodeSet::event_message(pubsub::NodeSet::event_items(node, node.items.back()));
        ctx_.send(Stanza{xmpp::StanzaKind::message, std::move(message), account.jid(), to});
    }
    let_go(account);
}

}  // namespace starling::pep
