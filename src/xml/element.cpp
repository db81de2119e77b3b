#include "xml/element.hpp"

#include <algorithm>

namespace starling::xml {

const std::string* Element::find_attribute(std::string_view name) const {
    for (const auto& a : attributes_)
        if (a.name == name) return &a.value;
    return nullptr;
}

std::string_view Element::attribute(std::string_view name) const {
    const std::string* v = find_attribute(name);
    return v ? std::string_view{*v} : std::string_view{};
}

Element& Element::set_attribute(std::string_view name, std::string_view value) {
    for (auto& a : attributes_)
        if (a.name == name) {
            a.value.assign(value);
            return *this;
        }
    attributes_.push_back({std::string(name), std::string(value)});
    return *this;
}

void Element::remove_attribute(std::string_view name) {
    std::erase_if(attributes_, [&](const Attribute& a) { return a.name == name; });
}

Element& Element::add_child(Element child) {
    return add_child(std::make_shared<Element>(std::move(child)));
}

Element& Element::add_child(ElementPtr child) {
    children_.push_back(Node{std::move(child), {}});
    return *children_.back().element;
}

Element& Element::add_text(std::string_view text) {
    if (text.empty()) return *this;
    if (!children_.empty() && children_.back().is_text())
        children_.back().text.append(text);
    else
        children_.push_back(Node{nullptr, std::string(text)});
    return *this;
}

const Element* Element::find_child(std::string_view name, std::string_view xmlns) const {
    for (const auto& c : children_)
        if (c.element && c.element->is(name, xmlns)) return c.element.get();
    return nullptr;
}

const Element* Element::first_child_element() const {
    for (const auto& c : children_)
        if (c.element) return c.element.get();
    return nullptr;
}

std::size_t Element::child_element_count() const {
    return static_cast<std::size_t>(
        std::count_if(children_.begin(), children_.end(), [](const Node& n) { return !n.is_text(); }));
}

void Element::remove_children(std::string_view name, std::string_view xmlns) {
    std::erase_if(children_, [&](const Node& n) { return n.element && n.element->is(name, xmlns); });
}

std::string Element::text() const {
    std::string out;
    for (const auto& c : children_)
        if (c.is_text()) out += c.text;
    return out;
}

std::string Element::child_text(std::string_view name, std::string_view xmlns) const {
    const Element* c = find_child(name, xmlns);
    return c ? c->text() : std::string{};
}

}  // namespace starling::xml
