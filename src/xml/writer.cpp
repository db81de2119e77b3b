#include "xml/writer.hpp"

#include <vector>

namespace starling::xml {

namespace {

template <bool attribute>
void escape(std::string& out, std::string_view s) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char* rep = nullptr;
        switch (s[i]) {
            case '&': rep = "&amp;"; break;
            case '<': rep = "&lt;"; break;
            case '>': rep = "&gt;"; break;
            case '"': if (attribute) rep = "&quot;"; break;
            case '\'': if (attribute) rep = "&apos;"; break;
            // Literal whitespace in attributes would be normalized away by the reader.
            case '\t': if (attribute) rep = "&#9;"; break;
            case '\n': if (attribute) rep = "&#10;"; break;
            case '\r': rep = "&#13;"; break;
            default: break;
        }
        if (!rep) continue;
        out.append(s.data() + start, i - start);
        out.append(rep);
        start = i + 1;
    }
    out.append(s.data() + start, s.size() - start);
}

struct Frame {
    const Element* element;
    std::size_t next_child;
    std::string_view ns_in_scope;  // default namespace inside this element
};

void write_name(std::string& out, const Element& e, const WriteContext& ctx) {
    if (!ctx.prefixed_ns.empty() && e.xmlns() == ctx.prefixed_ns) {
        out.append(ctx.prefix);
        out.push_back(':');
    }
    out.append(e.name());
}

// Writes '<name attrs' and returns the default namespace in scope inside the element.
std::string_view open_tag(std::string& out, const Element& e, std::string_view parent_ns,
                          const WriteContext& ctx) {
    out.push_back('<');
    write_name(out, e, ctx);
    std::string_view scope = parent_ns;
    bool prefixed = !ctx.prefixed_ns.empty() && e.xmlns() == ctx.prefixed_ns;
    if (!prefixed && e.xmlns() != parent_ns) {
        out.append(" xmlns='");
        escape<true>(out, e.xmlns());
        out.push_back('\'');
        scope = e.xmlns();
    }
    int extra = 0;
    for (const auto& a : e.attributes()) {
        out.push_back(' ');
        if (!a.name.empty() && a.name.front() == '{') {
            // A namespaced attribute: declare a prefix for it on this element.
            auto close = a.name.find('}');
            std::string prefix = "ns" + std::to_string(++extra);
            out.append("xmlns:").append(prefix).append("='");
            escape<true>(out, std::string_view(a.name).substr(1, close - 1));
            out.append("' ").append(prefix).push_back(':');
            out.append(a.name, close + 1);
        } else {
            out.append(a.name);
        }
        out.append("='");
        escape<true>(out, a.value);
        out.push_back('\'');
    }
    return scope;
}

}  // namespace

void escape_text(std::string& out, std::string_view text) { escape<false>(out, text); }
void escape_attribute(std::string& out, std::string_view value) { escape<true>(out, value); }

void write(std::string& out, const Element& root, const WriteContext& ctx) {
    std::vector<Frame> stack;
    auto enter = [&](const Element& e, std::string_view parent_ns) {
        std::string_view scope = open_tag(out, e, parent_ns, ctx);
        if (e.children().empty()) {
            out.append("/>");
            return;
        }
        out.push_back('>');
        stack.push_back(Frame{&e, 0, scope});
    };
    enter(root, ctx.inherited_ns);
    while (!stack.empty()) {
        Frame& top = stack.back();
        const auto& children = top.element->children();
        if (top.next_child == children.size()) {
            out.append("</");
            write_name(out, *top.element, ctx);
            out.push_back('>');
            stack.pop_back();
            continue;
        }
        const Node& child = children[top.next_child++];
        if (child.is_text())
            escape<false>(out, child.text);
        else
            enter(*child.element, top.ns_in_scope);  // may invalidate `top`
    }
}

}  // namespace starling::xml
