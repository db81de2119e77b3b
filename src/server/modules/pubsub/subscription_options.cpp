#include "server/modules/pubsub/subscription_options.hpp"

#include <algorithm>
#include <array>

#include "base/number.hpp"
#include "server/modules/pubsub/node_set.hpp"
#include "xmpp/data_form.hpp"

namespace starling::pubsub {

using xmpp::StanzaErrorCondition;

namespace {

using xmpp::data_ns;

// §16.4.2: the presence states a subscriber may pick, with <show/>'s "online" for none.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> show_states{{
    {"chat", "Want to Chat"}, {"online", "Available"}, {"away", "Away"}, {"xa", "Extended Away"}, {"dnd", "Do Not Disturb"}}};

bool known_show(std::string_view value) {
    return std::any_of(show_states.begin(), show_states.end(), [&](const auto& s) { return s.first == value; });
}

}  // namespace

bool SubscriptionOptions::shows(std::string_view show) const {
    return show_values.empty() || std::find(show_values.begin(), show_values.end(), show) != show_values.end();
}

SubscriptionOptions default_options(bool collection) {
    SubscriptionOptions options;
    options.nodes = collection;
    return options;
}

xml::Element options_form(const SubscriptionOptions& o, bool collection, std::string_view type) {
    xml::Element form{"x", std::string(data_ns)};
    form.set_attribute("type", type);
    xmpp::add_form_field(form, "FORM_TYPE", "hidden", "", subscribe_options_form);
    xmpp::add_form_field(form, "pubsub#deliver", "boolean", "Enable delivery?", o.deliver ? "1" : "0");
    auto& shows = form.add_child("field", std::string(data_ns));
    shows.set_attribute("var", "pubsub#show-values").set_attribute("type", "list-multi");
    shows.set_attribute("label", "The presence states in which to receive event notifications");
    for (const auto& [value, label] : show_states) xmpp::add_form_option(shows, value, label);
    for (const auto& [value, label] : show_states)
        if (o.shows(value)) shows.add_child("value", std::string(data_ns)).add_text(value);
    if (collection) {
        // XEP-0248 §12.2.1.
        auto& kind = xmpp::add_form_field(form, "pubsub#subscription_type", "list-single",
                                          "Notifications of items or of nodes", o.nodes ? "nodes" : "items");
        xmpp::add_form_option(kind, "items");
        xmpp::add_form_option(kind, "nodes");
        xmpp::add_form_field(form, "pubsub#subscription_depth", "text-single", "How far to traverse the node graph for notifications",
                             o.all_depths ? "all" : std::to_string(o.depth));
    }
    return form;
}

Result<SubscriptionOptions, std::string> apply_options(const SubscriptionOptions& current, const xml::Element& submitted) {
    SubscriptionOptions next = current;
    for (const auto& node : submitted.children()) {
        if (node.is_text() || !node.element->is("field", data_ns)) continue;
        const xml::Element& field = *node.element;
        std::string var{field.attribute("var")};
        std::string value = field.child_text("value", data_ns);
        bool ok = true;
        if (var == "FORM_TYPE") {
            ok = value.empty() || value == subscribe_options_form;
        } else if (var == "pubsub#deliver") {
            auto b = xmpp::form_boolean(value);
            if ((ok = b.has_value())) next.deliver = *b;
        } else if (var == "pubsub#show-values") {
            next.show_values.clear();
            for (const auto& v : field.children()) {
                if (v.is_text() || !v.element->is("value", data_ns)) continue;
                std::string show = v.element->text();
                if (!known_show(show)) return Failure{"pubsub#show-values: no presence state is called " + show};
                if (std::find(next.show_values.begin(), next.show_values.end(), show) == next.show_values.end())
                    next.show_values.push_back(std::move(show));
            }
            // Every state listed is the same as none named: no filter to apply.
            if (next.show_values.size() == show_states.size()) next.show_values.clear();
            else if (next.show_values.empty()) ok = false;  // no state at all: use pubsub#deliver
        } else if (var == "pubsub#subscription_type") {
            ok = value == "items" || value == "nodes";
            next.nodes = value == "nodes";
        } else if (var == "pubsub#subscription_depth") {
            next.all_depths = value == "all";
            if (!next.all_depths) {
                auto depth = parse_number<unsigned>(value);
                if ((ok = depth.has_value())) next.depth = *depth;
            }
        }
        if (!ok) return Failure{"the value of " + var + " is not valid here"};
    }
    return next;
}

// §6.3: a subscriber reads or submits the options of its own subscription.
Outcome NodeSet::options(const Request& request) {
    if (!limits_.subscription_options) return {std::nullopt, unsupported("subscription-options")};  // §6.3.4.6
    Outcome outcome;
    Node* node = find(request, outcome);  // §6.3.4.7
    if (!node) return outcome;
    std::string_view jid_attribute = request.op.attribute("jid");
    if (jid_attribute.empty())  // §6.3.4.3
        return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, "jid-required")};
    auto jid = xmpp::Jid::parse(jid_attribute);
    if (!jid) return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, "invalid-jid")};
    if (jid->bare() != request.from.bare())  // §6.3.4.1
        return {std::nullopt, pubsub_error(StanzaErrorCondition::forbidden, {}, "these are someone else's options")};
    Subscription* subscription = node->subscription_of(*jid);
    if (!subscription || subscription->pending)  // §6.3.4.2
        return {std::nullopt, pubsub_error(StanzaErrorCondition::unexpected_request, "not-subscribed", {}, "modify")};
    std::string_view subid = request.op.attribute("subid");
    if (!subid.empty() && subid != subscription->subid)  // §6.3.4.5
        return {std::nullopt, pubsub_error(StanzaErrorCondition::not_acceptable, "invalid-subid")};
    if (!request.set) {  // §6.3.3
        xml::Element pubsub{"pubsub", std::string(pubsub_ns)};
        auto& options = pubsub.add_child("options", std::string(pubsub_ns));
        options.set_attribute("node", node->name).set_attribute("jid", jid->str()).set_attribute("subid", subscription->subid);
        options.add_child(options_form(subscription->options, node->config.collection));
        return {std::move(pubsub), std::nullopt};
    }
    const xml::Element* form = request.op.find_child("x", data_ns);
    if (form && form->attribute("type") == "cancel") return outcome;
    if (!form || form->attribute("type") != "submit")
        return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, "invalid-options", "a form of type submit")};
    auto next = apply_options(subscription->options, *form);
    if (!next) return {std::nullopt, pubsub_error(StanzaErrorCondition::bad_request, "invalid-options", next.error())};  // §6.3.6.2
    if (next.value() != subscription->options) {
        subscription->options = std::move(next).value();
        keeper_->store_node(*node);
    }
    return outcome;
}

Outcome NodeSet::subscription_default(const Request& request) {
    if (!limits_.subscription_options) return {std::nullopt, unsupported("retrieve-default-sub")};  // §6.4.3.2
    Outcome outcome;
    Node* node = find(request, outcome);
    if (!node) return outcome;
    xml::Element pubsub{"pubsub", std::string(pubsub_ns)};
    auto& defaults = pubsub.add_child("default", std::string(pubsub_ns));
    defaults.set_attribute("node", node->name);
    defaults.add_child(options_form(default_options(node->config.collection), node->config.collection, "result"));
    return {std::move(pubsub), std::nullopt};
}

}  // namespace starling::pubsub
