// The parts of the engine that are about the set as a whole: finding a request's node, and
// what spans nodes (names, counts).
#include "server/modules/pubsub/node_set.hpp"

#include "xmpp/rsm.hpp"

namespace starling::pubsub {

using xmpp::StanzaErrorCondition;

std::optional<Request> request_of(const xmpp::Jid& from, bool set, bool owner, const xml::Element& pubsub) {
    const xml::Element* op = nullptr;
    for (const auto& child : pubsub.children())
        if (!child.is_text()) {
            op = child.element.get();
            break;
        }
    if (!op) return std::nullopt;
    Request request{from, set, *op};
    if (!owner && set && op->name() == "create")
        if (const xml::Element* configure = pubsub.find_child("configure", pubsub_ns))
            if (const xml::Element* form = configure->find_child("x", data_ns)) request.configure = *form;
    if (!owner && set && op->name() == "publish")
        if (const xml::Element* options = pubsub.find_child("publish-options", pubsub_ns))
            if (const xml::Element* form = options->find_child("x", data_ns)) request.publish_options = *form;
    if (!owner && !set && op->name() == "items") {
        const xml::Element* rsm = pubsub.find_child("set", xmpp::rsm_ns);
        if (!rsm) rsm = op->find_child("set", xmpp::rsm_ns);
        if (rsm) request.rsm = *rsm;
    }
    if (!owner && set && op->name() == "subscribe")
        if (const xml::Element* options = pubsub.find_child("options", pubsub_ns)) request.subscribe_options = *options;
    return request;
}

Outcome NodeSet::handle(const Request& req, bool owner) {
    std::string_view op = req.op.name();
    bool set = req.set;
    std::string node{req.op.attribute("node")};
    if (owner && set && op == "delete") return delete_node(req);
    if (owner && set && op == "purge") return purge(req);
    if (owner && op == "configure") return configure(req);
    if (owner && op == "affiliations") return owner_affiliations(req);
    if (owner && op == "subscriptions") return owner_subscriptions(req);
    if (!owner && set && op == "create") return create(req, node);
    if (!owner && set && op == "publish") return publish(req);
    if (!owner && set && op == "retract") return retract(req);
    if (!owner && set && op == "subscribe") return subscribe(req);
    if (!owner && set && op == "unsubscribe") return unsubscribe(req);
    if (!owner && !set && op == "items") return items(req);
    if (!owner && op == "options") return options(req);
    if (!owner && !set && op == "default") return subscription_default(req);
    if (!owner && !set && (op == "subscriptions" || op == "affiliations")) {
        // §5.6, §5.7: one's own, of the node named (or of every node in this set).
        xml::Element list{std::string(op), std::string(pubsub_ns)};
        if (!node.empty()) list.set_attribute("node", node);
        auto entries = op == "subscriptions" ? subscriptions_of(req.from.bare(), node) : affiliations_of(req.from.bare(), node);
        for (auto& e : entries) list.add_child(std::move(e));
        xml::Element pubsub{"pubsub", std::string(pubsub_ns)};
        pubsub.add_child(std::move(list));
        return {std::move(pubsub), std::nullopt};
    }
    return {std::nullopt, xmpp::StanzaError{StanzaErrorCondition::feature_not_implemented, "this request is not supported (yet)"}};
}

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
