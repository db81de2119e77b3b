#pragma once
// Element: an XML element as the server sees it. Most payloads are forwarded without being
// looked at, so this generic tree is the canonical form; typed payloads exist only where code
// interprets them. Children are shared_ptr so a stanza copy (for fan-out, retargeting) shares
// its subtrees; treat an element as immutable once another owner may hold it.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace starling::xml {

// Attribute names: "name" for unqualified ones, "xml:lang" for the XML namespace, and
// "{uri}name" for any other namespace (rare in XMPP; the writer declares a prefix for it).
struct Attribute {
    std::string name;
    std::string value;
};

class Element;
using ElementPtr = std::shared_ptr<Element>;

// A child is either an element or a run of text.
struct Node {
    ElementPtr element;
    std::string text;
    bool is_text() const { return element == nullptr; }
};

class Element {
public:
    Element() = default;
    Element(std::string name, std::string xmlns) : name_{std::move(name)}, xmlns_{std::move(xmlns)} {}

    const std::string& name() const { return name_; }
    const std::string& xmlns() const { return xmlns_; }
    bool is(std::string_view name, std::string_view xmlns) const {
        return name_ == name && xmlns_ == xmlns;
    }

    // Attributes
    const std::vector<Attribute>& attributes() const { return attributes_; }
    const std::string* find_attribute(std::string_view name) const;
    std::string_view attribute(std::string_view name) const;  // "" if absent
    bool has_attribute(std::string_view name) const { return find_attribute(name) != nullptr; }
    Element& set_attribute(std::string_view name, std::string_view value);  // replaces
    void remove_attribute(std::string_view name);

    // Children
    const std::vector<Node>& children() const { return children_; }
    std::vector<Node>& children() { return children_; }
    Element& add_child(Element child);                // returns the added child
    Element& add_child(ElementPtr child);
    Element& add_child(std::string name, std::string xmlns) { return add_child(Element{std::move(name), std::move(xmlns)}); }
    Element& add_text(std::string_view text);        // returns *this; merges adjacent text
    const Element* find_child(std::string_view name, std::string_view xmlns) const;
    const Element* first_child_element() const;
    std::size_t child_element_count() const;
    void remove_children(std::string_view name, std::string_view xmlns);
    // The concatenated text directly inside this element.
    std::string text() const;
    // Text of the first matching child, "" if none.
    std::string child_text(std::string_view name, std::string_view xmlns) const;

private:
    std::string name_;
    std::string xmlns_;
    std::vector<Attribute> attributes_;
    std::vector<Node> children_;
};

}  // namespace starling::xml
