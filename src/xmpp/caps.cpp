#include "xmpp/caps.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "base/base64.hpp"
#include "xml/element.hpp"
#include "xmpp/namespaces.hpp"

namespace starling::xmpp {

namespace {

constexpr std::string_view data_ns = "jabber:x:data";

std::vector<const xml::Element*> children(const xml::Element& e, std::string_view name, std::string_view xmlns) {
    std::vector<const xml::Element*> out;
    for (const auto& n : e.children())
        if (!n.is_text() && n.element->is(name, xmlns)) out.push_back(n.element.get());
    return out;
}

}  // namespace

// XEP-0115 §5.1, from a disco#info <query/>: identities, features, then extended forms,
// each sorted by octets (std::string compares as unsigned char, i;octet), then the hash and
// Base64. Text is used as it is: '&lt;' in the XML is already '<' here, and a literal
// "&lt;" stays four characters (§5.1 note).
std::optional<std::string> caps_verification(const xml::Element& query, std::string_view hash) {
    // XEP-0115 §5.1 names hashes as the IANA registry does; OpenSSL wants them without '-'.
    std::string name;
    for (char c : hash) if (c != '-') name += c;
    const EVP_MD* md = EVP_get_digestbyname(name.c_str());
    if (!md) return std::nullopt;
    std::string s;
    std::vector<std::tuple<std::string, std::string, std::string, std::string>> identities;
    for (const auto* i : children(query, "identity", ns::disco_info))
        identities.emplace_back(i->attribute("category"), i->attribute("type"), i->attribute("xml:lang"),
                                i->attribute("name"));
    std::sort(identities.begin(), identities.end());
    for (const auto& [category, type, lang, name] : identities)
        s += category + '/' + type + '/' + lang + '/' + name + '<';

    std::vector<std::string> features;
    for (const auto* f : children(query, "feature", ns::disco_info)) features.emplace_back(f->attribute("var"));
    std::sort(features.begin(), features.end());
    for (const auto& f : features) s += f + '<';

    struct Form {
        std::string type;
        std::vector<std::pair<std::string, std::vector<std::string>>> fields;  // var, values
    };
    std::vector<Form> forms;
    for (const auto* x : children(query, "x", data_ns)) {
        Form form;
        bool typed = false;
        for (const auto* field : children(*x, "field", data_ns)) {
            std::vector<std::string> values;
            for (const auto* v : children(*field, "value", data_ns)) values.push_back(v->text());
            if (field->attribute("var") == "FORM_TYPE") {
                typed = !values.empty();
                if (typed) form.type = values.front();
                continue;
            }
            std::sort(values.begin(), values.end());
            form.fields.emplace_back(std::string(field->attribute("var")), std::move(values));
        }
        if (!typed) continue;  // XEP-0128 §3: an extension form without FORM_TYPE is not one
        std::sort(form.fields.begin(), form.fields.end());
        forms.push_back(std::move(form));
    }
    std::sort(forms.begin(), forms.end(), [](const Form& a, const Form& b) { return a.type < b.type; });
    for (const auto& form : forms) {
        s += form.type + '<';
        for (const auto& [var, values] : form.fields) {
            s += var + '<';
            for (const auto& v : values) s += v + '<';
        }
    }

    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (!EVP_Digest(s.data(), s.size(), digest, &size, md, nullptr))
        throw std::runtime_error("the caps digest failed");
    return base64::encode(std::string_view(reinterpret_cast<const char*>(digest), size));
}

std::optional<Caps> caps_of(const xml::Element& presence) {
    const xml::Element* c = presence.find_child("c", caps_ns);
    if (!c || c->attribute("hash").empty() || c->attribute("ver").empty() || c->attribute("node").empty())
        return std::nullopt;
    return Caps{std::string(c->attribute("hash")), std::string(c->attribute("node")), std::string(c->attribute("ver"))};
}

}  // namespace starling::xmpp
