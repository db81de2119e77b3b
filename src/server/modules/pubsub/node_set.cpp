// The parts of the engine that are about the set as a whole: finding a request's node, and
// what spans nodes (names, counts).
#include "server/modules/pubsub/node_set.hpp"

namespace starling::pubsub {

using xmpp::StanzaErrorCondition;

Node* NodeSet::find(const Request& request, Outcome& outcome) {
    auto it = nodes_.find(std::string(request.op.attribute("node")));
    if (it == nodes_.end()) {
        outcome.error = pubsub_error(StanzaErrorCondition::item_not_found, {}, "no such node");
        return nullptr;
    }
    return &it->second;
}

const Node* NodeSet::node(const std::string& name) const {
    auto it = nodes_.find(name);
    return it == nodes_.end() ? nullptr : &it->second;
}

std::vector<std::string> NodeSet::node_names() const {
    std::vector<std::string> out;
    for (const auto& [name, node] : nodes_) out.push_back(name);
    return out;
}

std::size_t NodeSet::nodes_owned_by(const xmpp::BareJid& who) const {
    std::size_t n = 0;
    for (const auto& [name, node] : nodes_) n += node.affiliation_of(who) == Affiliation::owner;
    return n;
}

}  // namespace starling::pubsub
