#include "server/modules/pubsub/node_config.hpp"

#include <algorithm>
#include <charconv>

#include "xmpp/data_form.hpp"

namespace starling::pubsub {

namespace {

void add_options(xml::Element& field, std::initializer_list<std::string_view> values) {
    for (auto v : values) xmpp::add_form_option(field, v);
}

std::string_view name(AccessModel m) {
    switch (m) {
        case AccessModel::open: return "open";
        case AccessModel::presence: return "presence";
        case AccessModel::roster: return "roster";
        case AccessModel::authorize: return "authorize";
        case AccessModel::whitelist: return "whitelist";
    }
    return "open";
}

std::string_view name(PublishModel m) {
    switch (m) {
        case PublishModel::publishers: return "publishers";
        case PublishModel::subscribers: return "subscribers";
        case PublishModel::open: return "open";
    }
    return "publishers";
}

std::string_view name(SendLast s) {
    switch (s) {
        case SendLast::never: return "never";
        case SendLast::on_sub: return "on_sub";
        case SendLast::on_sub_and_presence: return "on_sub_and_presence";
    }
    return "never";
}

}  // namespace

xml::Element config_form(const NodeConfig& c, const std::vector<std::string>* children) {
    xml::Element form{"x", std::string(data_ns)};
    form.set_attribute("type", "form");
    xmpp::add_form_field(form, "FORM_TYPE", "hidden", "", node_config_form);
    xmpp::add_form_field(form, "pubsub#title", "text-single", "A friendly name for the node", c.title);
    xmpp::add_form_field(form, "pubsub#description", "text-single", "A description of the node", c.description);
    xmpp::add_form_field(form, "pubsub#max_items", "text-single", "Most items kept", std::to_string(c.max_items));
    xmpp::add_form_field(form, "pubsub#deliver_payloads", "boolean", "Deliver payloads with event notifications",
              c.deliver_payloads ? "1" : "0");
    xmpp::add_form_field(form, "pubsub#notify_retract", "boolean", "Notify subscribers when items are removed",
              c.notify_retract ? "1" : "0");
    xmpp::add_form_field(form, "pubsub#notify_config", "boolean", "Notify subscribers when the configuration changes",
              c.notify_config ? "1" : "0");
    xmpp::add_form_field(form, "pubsub#notify_delete", "boolean", "Notify subscribers when the node is deleted",
              c.notify_delete ? "1" : "0");
    add_options(xmpp::add_form_field(form, "pubsub#access_model", "list-single", "Who may subscribe and retrieve items",
                          name(c.access_model)),
                {"open", "presence", "roster", "authorize", "whitelist"});
    auto& groups = form.add_child("field", std::string(data_ns));
    groups.set_attribute("var", "pubsub#roster_groups_allowed").set_attribute("type", "list-multi");
    groups.set_attribute("label", "Roster groups allowed to subscribe (roster access model)");
    for (const auto& g : c.roster_groups_allowed) groups.add_child("value", std::string(data_ns)).add_text(g);
    add_options(xmpp::add_form_field(form, "pubsub#publish_model", "list-single", "Who may publish", name(c.publish_model)),
                {"publishers", "subscribers", "open"});
    xmpp::add_form_field(form, "pubsub#persist_items", "boolean", "Keep items (else only notify)", c.persist_items ? "1" : "0");
    add_options(xmpp::add_form_field(form, "pubsub#send_last_published_item", "list-single",
                          "When subscribers get the last published item", name(c.send_last)),
                {"never", "on_sub", "on_sub_and_presence"});
    // XEP-0248 §7.2.1.
    add_options(xmpp::add_form_field(form, "pubsub#node_type", "list-single", "Whether the node is a leaf or a collection",
                                     c.collection ? "collection" : "leaf"),
                {"leaf", "collection"});
    auto multi = [&form](std::string_view var, std::string_view label, const std::vector<std::string>& values) {
        auto& field = form.add_child("field", std::string(data_ns));
        field.set_attribute("var", var).set_attribute("type", "text-multi").set_attribute("label", label);
        for (const auto& v : values) field.add_child("value", std::string(data_ns)).add_text(v);
    };
    multi("pubsub#collection", "The collections this node is in", c.collections);
    if (children) multi("pubsub#children", "The nodes in this collection", *children);
    return form;
}

Result<NodeConfig, std::string> apply_form(const NodeConfig& current, const xml::Element& submitted,
                                           std::uint32_t items_limit, std::string_view form_type) {
    NodeConfig next = current;
    for (const auto& node : submitted.children()) {
        if (node.is_text() || !node.element->is("field", data_ns)) continue;
        const xml::Element& field = *node.element;
        std::string var{field.attribute("var")};
        std::string value = field.child_text("value", data_ns);
        auto flag = [&](bool& out) {
            auto b = xmpp::form_boolean(value);
            if (b) out = *b;
            return b.has_value();
        };
        bool ok = true;
        if (var == "FORM_TYPE") ok = value.empty() || value == form_type;
        else if (var == "pubsub#title") next.title = value;
        else if (var == "pubsub#description") next.description = value;
        else if (var == "pubsub#deliver_payloads") ok = flag(next.deliver_payloads);
        else if (var == "pubsub#notify_retract") ok = flag(next.notify_retract);
        else if (var == "pubsub#notify_config") ok = flag(next.notify_config);
        else if (var == "pubsub#notify_delete") ok = flag(next.notify_delete);
        else if (var == "pubsub#persist_items") ok = flag(next.persist_items);
        else if (var == "pubsub#roster_groups_allowed") {
            next.roster_groups_allowed.clear();
            for (const auto& v : field.children())
                if (!v.is_text() && v.element->is("value", data_ns)) next.roster_groups_allowed.push_back(v.element->text());
        }
        else if (var == "pubsub#node_type") {
            ok = value == "leaf" || value == "collection";
            next.collection = value == "collection";
        }
        else if (var == "pubsub#collection") {
            // An empty value is the root node (XEP-0248 §7.2.1), which every node is under anyway.
            next.collections.clear();
            for (const auto& v : field.children())
                if (!v.is_text() && v.element->is("value", data_ns) && !v.element->text().empty() &&
                    std::find(next.collections.begin(), next.collections.end(), v.element->text()) == next.collections.end())
                    next.collections.push_back(v.element->text());
        }
        else if (var == "pubsub#send_last_published_item") {
            if (value == "never") next.send_last = SendLast::never;
            else if (value == "on_sub") next.send_last = SendLast::on_sub;
            else if (value == "on_sub_and_presence") next.send_last = SendLast::on_sub_and_presence;
            else ok = false;
        }
        else if (var == "pubsub#max_items") {
            if (value == "max") {  // XEP-0060 §7.1.3.6 / publish-options: as many as allowed
                next.max_items = items_limit;
            } else {
                auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), next.max_items);
                ok = ec == std::errc{} && end == value.data() + value.size() && next.max_items >= 1 &&
                     next.max_items <= items_limit;
            }
        } else if (var == "pubsub#access_model") {
            if (value == "open") next.access_model = AccessModel::open;
            else if (value == "presence") next.access_model = AccessModel::presence;
            else if (value == "roster") next.access_model = AccessModel::roster;
            else if (value == "authorize") next.access_model = AccessModel::authorize;
            else if (value == "whitelist") next.access_model = AccessModel::whitelist;
            else ok = false;
        } else if (var == "pubsub#publish_model") {
            if (value == "publishers") next.publish_model = PublishModel::publishers;
            else if (value == "subscribers") next.publish_model = PublishModel::subscribers;
            else if (value == "open") next.publish_model = PublishModel::open;
            else ok = false;
        }
        if (!ok) return Failure{"the value of " + var + " is not valid here"};
    }
    return next;
}

std::optional<std::string> unmet_precondition(const NodeConfig& node, const xml::Element& options,
                                              std::uint32_t items_limit) {
    // What the node's own form names is what a precondition may name (§7.1.5: anything else
    // is rejected).
    xml::Element known = config_form(node);
    for (const auto& child : options.children()) {
        if (child.is_text() || !child.element->is("field", data_ns)) continue;
        std::string_view var = child.element->attribute("var");
        if (var == "FORM_TYPE") continue;
        bool found = false;
        for (const auto& k : known.children())
            if (!k.is_text() && k.element->attribute("var") == var) found = true;
        if (!found) return "the node has no option " + std::string(var);
    }
    auto wanted = apply_form(node, options, items_limit, publish_options_form);
    if (!wanted) return wanted.error();
    if (!(wanted.value() == node)) return std::string("the node's configuration differs from the publish-options");
    return std::nullopt;
}

}  // namespace starling::pubsub
