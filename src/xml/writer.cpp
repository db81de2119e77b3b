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

// Namespaces declared once, with a prefix, on the element being written, for a tree whose
// default-namespace form would declare them over and over (see write()).
struct Hoisted {
    std::vector<std::pair<std::string_view, std::string>> prefixes;  // uri, prefix
    std::string_view find(std::string_view uri) const {
        for (const auto& [u, prefix] : prefixes)
            if (u == uri) return prefix;
        return {};
    }
};

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
        if (!stream_prefixed && prefix.empty() && e.xmlns() != parent_ns) {
            out_.push_back(' ');
            declare("xmlns", e.xmlns());
            scope = e.xmlns();
        }
        if (root && hoisted_)
            for (const auto& [uri, p] : hoisted_->prefixes) {
                out_.append(" xmlns:").append(p);
                out_.append("='");
                escape<true>(out_, uri);
                out_.push_back('\'');
            }
        int extra = 0;
        for (const auto& a : e.attributes()) {
            out_.push_back(' ');
            if (!a.name.empty() && a.name.front() == '{') {
                auto close = a.name.find('}');
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
Hoisted hoist(const Element& root, const WriteContext& ctx) {
    std::vector<std::pair<std::string_view, std::size_t>> counts;
    auto count = [&](std::string_view uri) {
        if (uri.empty() || uri == ctx.prefixed_ns) return;  // xmlns:p='' is not XML 1.0
        for (auto& [u, n] : counts)
            if (u == uri) return void(++n);
        counts.emplace_back(uri, 1);
    };
    std::vector<std::pair<const Element*, std::string_view>> todo{{&root, ctx.inherited_ns}};
    while (!todo.empty()) {
        auto [e, parent_ns] = todo.back();
        todo.pop_back();
        std::string_view scope = parent_ns;
        if (e->xmlns() != parent_ns && e->xmlns() != ctx.prefixed_ns) {
            if (e != &root) count(e->xmlns());
            scope = e->xmlns();
        }
        for (const auto& a : e->attributes())
            if (!a.name.empty() && a.name.front() == '{') count(std::string_view(a.name).substr(1, a.name.find('}') - 1));
        for (const auto& child : e->children())
            if (child.element) todo.emplace_back(child.element.get(), scope);
    }
    Hoisted hoisted;
    for (const auto& [uri, n] : counts)
        if (n > 1) hoisted.prefixes.emplace_back(uri, "h" + std::to_string(hoisted.prefixes.size() + 1));
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
