#include "xml/writer.hpp"

#include <string>
#include <unordered_map>
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

// Namespaces declared once, with a prefix, on the element being written, for a tree whose
// default-namespace form would declare them over and over (see write()).
struct Hoisted {
    std::vector<std::pair<std::string_view, std::string>> prefixes;  // uri, prefix, in order
    std::unordered_map<std::string_view, std::string_view> by_uri;
    std::string_view find(std::string_view uri) const {
        auto it = by_uri.find(uri);
        return it == by_uri.end() ? std::string_view{} : it->second;
    }
};

// The namespace the xml: prefix is bound to by definition; it may not be declared (XML
// Namespaces §3), so an element in it is always written with that prefix.
constexpr std::string_view xml_ns = "http://www.w3.org/XML/1998/namespace";

struct Frame {
    const Element* element;
    std::size_t next_child;
    std::string_view ns_in_scope;  // default namespace inside this element
    std::string_view prefix;       // the element's own prefix ("" for none)
};

class Pass {
public:
    Pass(std::string& out, const WriteContext& ctx, const Hoisted* hoisted)
        : out_{out}, ctx_{ctx}, hoisted_{hoisted}, start_{out.size()} {}

    // False if, without hoisting, declarations outgrew everything else (nothing is kept).
    bool write(const Element& root) {
        if (!enter(root, ctx_.inherited_ns, true)) return false;
        while (!stack_.empty()) {
            Frame& top = stack_.back();
            const auto& children = top.element->children();
            if (top.next_child == children.size()) {
                out_.append("</");
                write_name(*top.element, top.prefix);
                out_.push_back('>');
                stack_.pop_back();
                continue;
            }
            const Node& child = children[top.next_child++];
            if (child.is_text()) {
                escape<false>(out_, child.text);
            } else if (!enter(*child.element, top.ns_in_scope, false)) {  // may invalidate `top`
                return false;
            }
        }
        return true;
    }

private:
    bool enter(const Element& e, std::string_view parent_ns, bool root) {
        auto [scope, prefix] = open_tag(e, parent_ns, root);
        // A declaration a few times over is the normal shape of a stanza; declarations
        // outweighing all the rest is a tree built to multiply itself on the way out.
        if (!hoisted_ && declared_ > 1024 + (out_.size() - start_ - declared_)) {
            out_.resize(start_);
            return false;
        }
        if (e.children().empty()) {
            out_.append("/>");
            return true;
        }
        out_.push_back('>');
        stack_.push_back(Frame{&e, 0, scope, prefix});
        return true;
    }

    void write_name(const Element& e, std::string_view prefix) {
        if (!ctx_.prefixed_ns.empty() && e.xmlns() == ctx_.prefixed_ns) {
            out_.append(ctx_.prefix);
            out_.push_back(':');
        } else if (!prefix.empty()) {
            out_.append(prefix);
            out_.push_back(':');
        } else if (e.xmlns() == xml_ns) {
            out_.append("xml:");
        }
        out_.append(e.name());
    }

    void declare(std::string_view attribute, std::string_view uri) {
        std::size_t before = out_.size();
        out_.append(attribute).append("='");
        escape<true>(out_, uri);
        out_.push_back('\'');
        declared_ += out_.size() - before;
    }

    // Writes '<name attrs' and returns the default namespace in scope inside the element,
    // and the element's prefix.
    std::pair<std::string_view, std::string_view> open_tag(const Element& e, std::string_view parent_ns, bool root) {
        bool stream_prefixed = !ctx_.prefixed_ns.empty() && e.xmlns() == ctx_.prefixed_ns;
        std::string_view prefix;
        if (!stream_prefixed && !root && e.xmlns() != parent_ns && hoisted_) prefix = hoisted_->find(e.xmlns());
        out_.push_back('<');
        write_name(e, prefix);
        std::string_view scope = parent_ns;
        if (!stream_prefixed && prefix.empty() && e.xmlns() != parent_ns && e.xmlns() != xml_ns) {
            out_.push_back(' ');
            declare("xmlns", e.xmlns());
            scope = e.xmlns();
        }
        if (root && hoisted_)
            for (const auto& [uri, p] : hoisted_->prefixes) {
                out_.push_back(' ');
                declare("xmlns:" + p, uri);
            }
        int extra = 0;
        for (const auto& a : e.attributes()) {
            out_.push_back(' ');
            if (!a.name.empty() && a.name.front() == '{') {
                // The last '}': a namespace URI may contain one, an XML name may not.
                auto close = a.name.rfind('}');
                std::string_view uri = std::string_view(a.name).substr(1, close - 1);
                std::string_view hoisted = hoisted_ ? hoisted_->find(uri) : std::string_view{};
                if (!hoisted.empty()) {
                    out_.append(hoisted).push_back(':');
                } else {
                    // A namespaced attribute: declare a prefix for it on this element.
                    std::string own = "ns" + std::to_string(++extra);
                    declare("xmlns:" + own, uri);
                    out_.append(" ").append(own).push_back(':');
                }
                out_.append(a.name, close + 1);
            } else {
                out_.append(a.name);
            }
            out_.append("='");
            escape<true>(out_, a.value);
            out_.push_back('\'');
        }
        return {scope, prefix};
    }

    std::string& out_;
    const WriteContext& ctx_;
    const Hoisted* hoisted_;
    std::size_t start_;
    std::size_t declared_ = 0;  // bytes of namespace declarations written
    std::vector<Frame> stack_;
};

// The namespaces the default-namespace form declares more than once, each given a prefix.
// Never the content namespace: RFC 6120 §4.8.5 forbids prefixes on jabber:client and
// jabber:server elements (a peer closes the stream with bad-namespace-prefix).
Hoisted hoist(const Element& root, const WriteContext& ctx) {
    std::vector<std::pair<std::string_view, std::size_t>> counts;  // in first-seen order
    std::unordered_map<std::string_view, std::size_t> index;
    auto count = [&](std::string_view uri) {
        // xmlns:p='' is not XML 1.0, and the xml namespace is never declared.
        if (uri.empty() || uri == ctx.prefixed_ns || uri == ctx.inherited_ns || uri == xml_ns) return;
        auto [it, added] = index.try_emplace(uri, counts.size());
        if (added) counts.emplace_back(uri, 0);
        ++counts[it->second].second;
    };
    std::vector<std::pair<const Element*, std::string_view>> todo{{&root, ctx.inherited_ns}};
    while (!todo.empty()) {
        auto [e, parent_ns] = todo.back();
        todo.pop_back();
        std::string_view scope = parent_ns;
        if (e->xmlns() != parent_ns && e->xmlns() != ctx.prefixed_ns && e->xmlns() != xml_ns) {
            if (e != &root) count(e->xmlns());
            scope = e->xmlns();
        }
        for (const auto& a : e->attributes())
            if (!a.name.empty() && a.name.front() == '{') count(std::string_view(a.name).substr(1, a.name.rfind('}') - 1));
        for (const auto& child : e->children())
            if (child.element) todo.emplace_back(child.element.get(), scope);
    }
    Hoisted hoisted;
    for (const auto& [uri, n] : counts)
        if (n > 1) hoisted.prefixes.emplace_back(uri, "h" + std::to_string(hoisted.prefixes.size() + 1));
    for (const auto& [uri, prefix] : hoisted.prefixes) hoisted.by_uri.emplace(uri, prefix);
    return hoisted;
}

}  // namespace

void escape_text(std::string& out, std::string_view text) { escape<false>(out, text); }
void escape_attribute(std::string& out, std::string_view value) { escape<true>(out, value); }

// Each child in a namespace other than its parent's gets xmlns='...', the form every client
// reads. A tree can make that form arbitrarily larger than itself (a long namespace used by
// thousands of siblings, declared once with a prefix in the input): then the writer starts
// again and declares such namespaces once, with prefixes, on the element written.
void write(std::string& out, const Element& root, const WriteContext& ctx) {
    if (Pass{out, ctx, nullptr}.write(root)) return;
    Hoisted hoisted = hoist(root, ctx);
    Pass{out, ctx, &hoisted}.write(root);
}

}  // namespace starling::xml
