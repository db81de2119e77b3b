#include "xmpp/data_form.hpp"

namespace starling::xmpp {

xml::Element& add_form_field(xml::Element& form, std::string_view var, std::string_view type, std::string_view label,
                             std::string_view value) {
    auto& field = form.add_child("field", std::string(data_ns));
    field.set_attribute("var", var).set_attribute("type", type);
    if (!label.empty()) field.set_attribute("label", label);
    field.add_child("value", std::string(data_ns)).add_text(value);
    return field;
}

void add_form_option(xml::Element& field, std::string_view value, std::string_view label) {
    auto& option = field.add_child("option", std::string(data_ns));
    if (!label.empty()) option.set_attribute("label", label);
    option.add_child("value", std::string(data_ns)).add_text(value);
}

std::optional<std::string> form_value(const xml::Element& form, std::string_view var) {
    for (const auto& node : form.children())
        if (!node.is_text() && node.element->is("field", data_ns) && node.element->attribute("var") == var)
            return node.element->child_text("value", data_ns);
    return std::nullopt;
}

bool has_form_type(const xml::Element& form, std::string_view form_type) {
    return form.is("x", data_ns) && form_value(form, "FORM_TYPE") == form_type;
}

std::optional<bool> form_boolean(std::string_view v) {
    if (v == "1" || v == "true") return true;
    if (v == "0" || v == "false") return false;
    return std::nullopt;
}

}  // namespace starling::xmpp
