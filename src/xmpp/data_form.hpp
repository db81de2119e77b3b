#pragma once
// XEP-0004 data forms, the few steps every form-using module takes: a field with one value,
// a list option, a field's value, a form's FORM_TYPE (XEP-0068) and a boolean's reading.
#include <optional>
#include <string>
#include <string_view>

#include "xml/element.hpp"

namespace starling::xmpp {

inline constexpr std::string_view data_ns = "jabber:x:data";

// <field var type [label]><value>value</value></field> added to `form`.
xml::Element& add_form_field(xml::Element& form, std::string_view var, std::string_view type, std::string_view label,
                             std::string_view value);
// <option [label]><value>value</value></option> added to a list field.
void add_form_option(xml::Element& field, std::string_view value, std::string_view label = {});
// The first value of the field `var`; nullopt without such a field.
std::optional<std::string> form_value(const xml::Element& form, std::string_view var);
// Whether `form` is a jabber:x:data form whose FORM_TYPE is `form_type`.
bool has_form_type(const xml::Element& form, std::string_view form_type);
// §3.3: "1"/"true" or "0"/"false"; nullopt for anything else.
std::optional<bool> form_boolean(std::string_view value);

}  // namespace starling::xmpp
