// One account's PEP nodes: loaded from the store on the account's owner shard when a request
// or a presence needs them, written back one change at a time, let go when the account has
// no bound resource. Two map stores owned by the account, so that they go with it when it is
// deleted: "pep_nodes" (node name → the node's document) and "pep_items" (node and item id →
// the item).
#include <algorithm>

#include "base/log.hpp"
#include "server/modules/pep/pep_module.hpp"
#include "server/modules/pubsub/node_store.hpp"

namespace starling::pep {

using namespace server;

// XEP-0163 §5: the presence access model, the last item to every newly available resource
// (on_sub_and_presence), one item per node unless the publisher asks for more.
pubsub::NodeConfig pep_defaults() {
    pubsub::NodeConfig config;
    config.access_model = pubsub::AccessModel::presence;
    config.send_last = pubsub::SendLast::on_sub_and_presence;
    config.max_items = 1;
    return config;
}

AccountNodes::AccountNodes(PepModule& module, xmpp::BareJid account)
    : nodes{*this, account.jid(),
            pubsub::Limits{module.options_.max_items_per_node, module.options_.max_payload_bytes, false, false, false},
            pep_defaults(),
            true},
      module_{module},
      account_{std::move(account)} {}

void AccountNodes::notify(const pubsub::Node& node, const xml::Element& message, const xmpp::Jid* publisher) {
    module_.notify(account_, node, message, publisher);
}

void AccountNodes::deliver(const xml::Element& message, const xmpp::Jid& to) {
    module_.ctx_.send(xmpp::Stanza{xmpp::StanzaKind::message, message, account_.jid(), to});
}

void AccountNodes::store_node(const pubsub::Node& node) {
    module_.ctx_.spawn(module_.stored_nodes_.set(stores::Owner::of(account_), node.name, pubsub::node_to_document(node)));
}

void AccountNodes::store_item(const pubsub::Node& node, const pubsub::Item& item) {
    module_.ctx_.spawn(module_.stored_items_.set(stores::Owner::of(account_), PepModule::item_key(node.name, item.id),
                                                 pubsub::item_to_value(item)));
}

void AccountNodes::forget_item(const pubsub::Node& node, const std::string& id) {
    auto removing = [](stores::Map items, stores::Owner owner, std::string key) -> Task<void> {
        Task<bool> removal = items.remove(std::move(owner), std::move(key));
        co_await std::move(removal);
    };
    module_.ctx_.spawn(removing(module_.stored_items_, stores::Owner::of(account_), PepModule::item_key(node.name, id)));
}

void AccountNodes::forget_items(const pubsub::Node& node) {
    for (const auto& item : node.items) forget_item(node, item.id);
}

void AccountNodes::forget_node(const std::string& name) {
    if (const pubsub::Node* node = nodes.node(name)) forget_items(*node);
    auto removing = [](stores::Map store, stores::Owner owner, std::string key) -> Task<void> {
        Task<bool> removal = store.remove(std::move(owner), std::move(key));
        co_await std::move(removal);
    };
    module_.ctx_.spawn(removing(module_.stored_nodes_, stores::Owner::of(account_), name));
}

// The node's name with its length first, so that no name and id can be read two ways.
std::string PepModule::item_key(std::string_view node, std::string_view id) {
    std::string key = std::to_string(node.size());
    key += ':';
    key += node;
    key += id;
    return key;
}

AccountNodes* PepModule::loaded(const xmpp::BareJid& account) {
    auto it = loaded_.find(account);
    return it == loaded_.end() ? nullptr : it->second.get();
}

Task<void> PepModule::load(xmpp::BareJid account) {
    if (loaded(account)) co_return;
    stores::Owner owner = stores::Owner::of(account);
    Task<std::vector<std::pair<std::string, std::string>>> reading_nodes = stored_nodes_.entries(owner);
    auto documents = co_await std::move(reading_nodes);
    Task<std::vector<std::pair<std::string, std::string>>> reading_items = stored_items_.entries(owner);
    auto items = co_await std::move(reading_items);
    // Another task may have loaded them meanwhile; theirs is as new as this (writes go to the
    // storage thread in order, before these reads).
    if (loaded(account)) co_return;
    auto set = std::make_unique<AccountNodes>(*this, account);
    std::map<std::string, pubsub::Node> nodes;
    for (const auto& [name, document] : documents) {
        auto node = pubsub::node_from_document(name, document);
        if (!node) {
            log::warn("pep: the stored node {} of {} is unreadable; left in the store as it is", name, account.str());
            continue;
        }
        nodes.emplace(name, std::move(*node));
    }
    for (const auto& [key, value] : items) {
        auto colon = key.find(':');
        std::size_t length = 0;
        try {
            length = std::stoul(key.substr(0, colon));
        } catch (...) {
            continue;
        }
        if (colon == std::string::npos || colon + 1 + length > key.size()) continue;
        auto node = nodes.find(key.substr(colon + 1, length));
        if (node == nodes.end()) continue;
        if (auto item = pubsub::item_from_value(key.substr(colon + 1 + length), value))
            node->second.items.push_back(std::move(*item));
    }
    for (auto& [name, node] : nodes) {
        std::sort(node.items.begin(), node.items.end(),
                  [](const pubsub::Item& a, const pubsub::Item& b) { return a.seq < b.seq; });
        for (const auto& item : node.items) node.next_seq = std::max(node.next_seq, item.seq + 1);
        set->nodes.restore(std::move(node));
    }
    loaded_.emplace(account, std::move(set));
}

void PepModule::let_go(const xmpp::BareJid& account) {
    if (ctx_.resources_of(account).empty()) loaded_.erase(account);
}

}  // namespace starling::pep
