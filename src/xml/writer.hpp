#pragma once
// Writer: the only code that turns elements into bytes. Text and attribute values are
// escaped here and nowhere else, so no caller can produce markup by accident.
// Iterative (no recursion over the tree), appends to a caller-owned string.
#include <string>
#include <string_view>

#include "xml/element.hpp"

namespace starling::xml {

void escape_text(std::string& out, std::string_view text);
void escape_attribute(std::string& out, std::string_view value);

// Serializes `element`. Its namespace is declared with xmlns='' unless it equals
// `inherited_ns` (the default namespace in scope, e.g. jabber:client for a stanza).
// Elements in `prefixed_ns` are written with the prefix `prefix` (e.g. stream:error), which
// the caller has declared on the stream header.
struct WriteContext {
    std::string_view inherited_ns;
    std::string_view prefixed_ns;
    std::string_view prefix;
};
void write(std::string& out, const Element& element, const WriteContext& context = {});

inline std::string to_string(const Element& element, const WriteContext& context = {}) {
    std::string out;
    write(out, element, context);
    return out;
}

}  // namespace starling::xml
