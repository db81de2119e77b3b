#include "server/modules/pubsub/node_store.hpp"

#include <charconv>

#include "xml/parse_element.hpp"
#include "xml/writer.hpp"

namespace starling::pubsub {

namespace {

constexpr std::string_view document_ns = "urn:starling:pubsub:node";

std::optional<Affiliation> affiliation_named(std::string_view name) {
    for (Affiliation a : {Affiliation::owner, Affiliation::publisher, Affiliation::member, Affiliation::outcast})
        if (to_string(a) == name) return a;
    return std::nullopt;
}

template <class N>
bool number(std::string_view text, N& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

std::string node_to_document(const Node& node) {
    xml::Element doc{"node", std::string(document_ns)};
    if (!node.creator.empty()) doc.set_attribute("creator", node.creator);
    if (!node.created.empty()) doc.set_attribute("created", node.created);
    xml::Element form = config_form(node.config);
    form.set_attribute("type", "submit");
    doc.add_child(std::move(form));
    for (const auto& [jid, affiliation] : node.affiliations)
        doc.add_child("affiliation", std::string(document_ns))
            .set_attribute("jid", jid.str())
            .set_attribute("value", to_string(affiliation));
    for (const auto& s : node.subscriptions)
    {
        auto& e = doc.add_child("subscription", std::string(document_ns));
        e.set_attribute("jid", s.jid.str()).set_attribute("subid", s.subid);
        if (s.pending) e.set_attribute("state", "pending");
        if (!(s.options == SubscriptionOptions{})) {
            xml::Element options = options_form(s.options, true);
            options.set_attribute("type", "submit");
            e.add_child(std::move(options));
        }
    }
    return xml::to_string(doc);
}

std::optional<Node> node_from_document(const std::string& name, std::string_view text) {
    auto doc = xml::parse_element(text);
    if (!doc || !doc->is("node", document_ns)) return std::nullopt;
    Node node{name};
    node.creator = doc->attribute("creator");
    node.created = doc->attribute("created");
    if (const xml::Element* form = doc->find_child("x", data_ns)) {
        auto config = apply_form(NodeConfig{}, *form, 1'000'000);  // as stored: the limit applied when set
        if (!config) return std::nullopt;
        node.config = std::move(config).value();
    }
    for (const auto& child : doc->children()) {
        if (child.is_text()) continue;
        const xml::Element& e = *child.element;
        if (e.is("affiliation", document_ns)) {
            auto jid = xmpp::BareJid::parse(e.attribute("jid"));
            auto affiliation = affiliation_named(e.attribute("value"));
            if (jid && affiliation) node.affiliations[*jid] = *affiliation;
        } else if (e.is("subscription", document_ns)) {
            auto jid = xmpp::Jid::parse(e.attribute("jid"));
            if (!jid) continue;
            Subscription s{*jid, std::string(e.attribute("subid")), e.attribute("state") == "pending"};
            if (const xml::Element* form = e.find_child("x", data_ns)) {
                auto options = apply_options(SubscriptionOptions{}, *form);
                if (!options) return std::nullopt;
                s.options = std::move(options).value();
            }
            node.subscriptions.push_back(std::move(s));
        }
    }
    return node;
}

// "<seq> <publisher>\n<payload>": the order and the publisher, then the payload as XML.
std::string item_to_value(const Item& item) {
    std::string out = std::to_string(item.seq) + ' ' + item.publisher + '\n';
    if (item.payload) out += xml::to_string(*item.payload);
    return out;
}

std::optional<Item> item_from_value(const std::string& id, std::string_view value) {
    auto newline = value.find('\n');
    auto space = value.find(' ');
    if (newline == std::string_view::npos || space == std::string_view::npos || space > newline) return std::nullopt;
    Item item{id, 0, nullptr, std::string(value.substr(space + 1, newline - space - 1))};
    if (!number(value.substr(0, space), item.seq)) return std::nullopt;
    std::string_view xml_text = value.substr(newline + 1);
    if (!xml_text.empty()) {
        auto payload = xml::parse_element(xml_text);
        if (!payload) return std::nullopt;
        item.payload = std::make_shared<xml::Element>(std::move(*payload));
    }
    return item;
}

}  // namespace starling::pubsub
