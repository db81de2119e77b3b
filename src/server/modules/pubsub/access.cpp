// Who may do what with a node (XEP-0060 §4.5 access models, pubsub#publish_model): an
// outcast nothing; affiliated entities (owner, publisher, member) may always subscribe and
// retrieve; others as the access model says: open, presence (those who receive an owner's
// presence, RFC 6121), roster (those among them in an allowed roster group), whitelist (only
// the affiliated).
#include <algorithm>

#include "server/modules/pubsub/node_set.hpp"

namespace starling::pubsub {

using xmpp::StanzaErrorCondition;

std::optional<xmpp::StanzaError> NodeSet::access_refusal(const Node& node, const Request& request) const {
    return access_refusal(node, request.from.bare(), request.receives_owner_presence, request.roster_groups);
}

std::optional<xmpp::StanzaError> NodeSet::access_refusal(const Node& node, const xmpp::BareJid& who,
                                                         bool receives_owner_presence,
                                                         const std::vector<std::string>& roster_groups) const {
    switch (node.affiliation_of(who)) {
        case Affiliation::outcast:  // §6.1.3.8, §6.5.9.x
            return pubsub_error(StanzaErrorCondition::forbidden, {}, "you are banned from this node");
        case Affiliation::owner:
        case Affiliation::publisher:
        case Affiliation::member: return std::nullopt;
        case Affiliation::none: break;
    }
    switch (node.config.access_model) {
        case AccessModel::open: return std::nullopt;
        case AccessModel::presence:  // §6.1.3.2
            if (receives_owner_presence) return std::nullopt;
            return pubsub_error(StanzaErrorCondition::not_authorized, "presence-subscription-required");
        case AccessModel::roster:  // §6.1.3.3: subscribed to the owner's presence, in an allowed group
            if (receives_owner_presence)
                for (const auto& group : roster_groups)
                    if (std::find(node.config.roster_groups_allowed.begin(), node.config.roster_groups_allowed.end(),
                                  group) != node.config.roster_groups_allowed.end())
                        return std::nullopt;
            return pubsub_error(StanzaErrorCondition::not_authorized, "not-in-roster-group");
        case AccessModel::authorize:  // §6.5.9.3: an approved subscription (subscribing itself asks, §6.1.4)
            if (node.subscribed(who)) return std::nullopt;
            return pubsub_error(StanzaErrorCondition::not_authorized, "not-subscribed");
        case AccessModel::whitelist:  // §6.1.3.4
            return pubsub_error(StanzaErrorCondition::not_allowed, "closed-node", {}, "cancel");
    }
    return std::nullopt;
}

bool NodeSet::may_publish(const Node& node, const xmpp::Jid& who) const {
    Affiliation a = node.affiliation_of(who.bare());
    if (a == Affiliation::owner || a == Affiliation::publisher) return true;
    if (a == Affiliation::outcast) return false;
    switch (node.config.publish_model) {
        case PublishModel::publishers: return false;
        case PublishModel::subscribers:
            for (const auto& s : node.subscriptions)
                if (s.jid.bare() == who.bare()) return true;
            return false;
        case PublishModel::open: return true;
    }
    return false;
}

AccessInfo NodeSet::access_info(const std::string& name) const {
    auto it = nodes_.find(name);
    if (it == nodes_.end()) return {};
    AccessInfo info{true, it->second.config.access_model, {}};
    for (const auto& [jid, a] : it->second.affiliations)
        if (a == Affiliation::owner) info.owners.push_back(jid);
    return info;
}

}  // namespace starling::pubsub
