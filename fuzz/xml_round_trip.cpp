// The XML writer on every element the parser accepts: written out and parsed again, it is
// the same tree (escaping is structural: no text or attribute value can become markup).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "xml/parse_element.hpp"
#include "xml/stream_parser.hpp"
#include "xml/writer.hpp"

namespace {

using starling::xml::Element;

// Structural equality: names, namespaces, attributes (as a set), and children in order with
// adjacent text runs merged (the parser may split text where the input was chunked).
std::string merged_text(const Element& e, std::size_t& i) {
    std::string text;
    const auto& children = e.children();
    while (i < children.size() && children[i].is_text()) text += children[i++].text;
    return text;
}

bool same(const Element& a, const Element& b) {
    if (a.name() != b.name() || a.xmlns() != b.xmlns()) return false;
    if (a.attributes().size() != b.attributes().size()) return false;
    for (const auto& attribute : a.attributes()) {
        const std::string* other = b.find_attribute(attribute.name);
        if (!other || *other != attribute.value) return false;
    }
    std::size_t i = 0, j = 0;
    for (;;) {
        if (merged_text(a, i) != merged_text(b, j)) return false;
        bool a_done = i == a.children().size(), b_done = j == b.children().size();
        if (a_done || b_done) return a_done && b_done;
        if (!same(*a.children()[i++].element, *b.children()[j++].element)) return false;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The input is what follows a client's stream header, so the fuzzer spends its time on
    // stanzas; a default namespace other than jabber:client comes from the stanzas themselves.
    starling::xml::StreamParser parser;
    parser.feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
    parser.feed(std::string_view{reinterpret_cast<const char*>(data), size});
    while (auto ev = parser.next()) {
        if (ev->kind != starling::xml::StreamEvent::Kind::element) continue;
        // Written standalone (every namespace declared), as stored documents are.
        std::string text = starling::xml::to_string(ev->element);
        auto again = starling::xml::parse_element(text);
        FUZZ_CHECK(again.has_value(), "the writer's output does not parse as one element");
        FUZZ_CHECK(same(ev->element, *again), "the element parsed back differs from the one written");
        // Written inside the stream, as stanzas are sent, it parses back the same too.
        std::string in_stream = starling::xml::to_string(ev->element, {.inherited_ns = "jabber:client"});
        starling::xml::StreamParser reader;
        reader.feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
        reader.feed(in_stream);
        std::optional<Element> read;
        while (auto back = reader.next()) {
            FUZZ_CHECK(back->kind != starling::xml::StreamEvent::Kind::error, "the writer's stanza is refused");
            if (back->kind == starling::xml::StreamEvent::Kind::element) {
                FUZZ_CHECK(!read, "one stanza written, two read");
                read = std::move(back->element);
            }
        }
        FUZZ_CHECK(read && same(ev->element, *read), "the stanza read back differs from the one written");
    }
    return 0;
}
