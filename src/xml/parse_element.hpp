#pragma once
// parse_element: one element back from the text xml::to_string wrote for it (a stored
// document, e.g. a vCard). It goes through StreamParser, so stored text meets the same
// restrictions and limits as a stanza. Header-only: a few lines over StreamParser.
#include <cstddef>
#include <optional>
#include <string_view>

#include "xml/stream_parser.hpp"

namespace starling::xml {

// The element, or nullopt unless `text` is exactly one well-formed element. `text` must
// declare its own namespaces, as to_string does with an empty WriteContext: the stand-in
// root declares no default namespace. The stand-in root is {urn:starling:document}document,
// which no stored element may be.
inline std::optional<Element> parse_element(std::string_view text, std::size_t max_depth = ParserLimits{}.max_depth) {
    // No byte limit beyond the text's own size: it was written by us, from an element that
    // passed the limits when it arrived. Depth counts the stand-in root, as in a stream.
    StreamParser parser{ParserLimits{.max_element_bytes = text.size(), .max_depth = max_depth}};
    // Prefixed, so the root declares no default namespace for `text` to inherit.
    parser.feed("<starling:document xmlns:starling='urn:starling:document'>");
    parser.feed(text);
    parser.feed("</starling:document>");
    std::optional<Element> element;
    bool closed = false;
    while (auto event = parser.next()) {
        // Anything after the close: `text` closed the stand-in root itself and went on.
        if (closed) return std::nullopt;
        switch (event->kind) {
            case StreamEvent::Kind::opened: break;
            case StreamEvent::Kind::element:
                if (element) return std::nullopt;  // more than one
                element = std::move(event->element);
                break;
            case StreamEvent::Kind::closed: closed = true; break;
            case StreamEvent::Kind::error: return std::nullopt;
        }
    }
    if (!closed) return std::nullopt;  // `text` left an element open
    return element;
}

}  // namespace starling::xml
