#include "xmpp/stanza.hpp"

#include "xmpp/namespaces.hpp"

namespace starling::xmpp {

std::string_view to_string(StanzaKind kind) {
    switch (kind) {
        case StanzaKind::message: return "message";
        case StanzaKind::presence: return "presence";
        case StanzaKind::iq: return "iq";
    }
    return "?";
}

std::optional<StanzaKind> Stanza::kind_of(const xml::Element& e) {
    if (e.xmlns() != ns::client && e.xmlns() != ns::server) return std::nullopt;
    if (e.name() == "message") return StanzaKind::message;
    if (e.name() == "presence") return StanzaKind::presence;
    if (e.name() == "iq") return StanzaKind::iq;
    return std::nullopt;
}

Stanza::Stanza(StanzaKind kind, xml::Element element, std::optional<Jid> from, std::optional<Jid> to)
    : kind_{kind}, element_{std::move(element)} {
    set_from(std::move(from));
    set_to(std::move(to));
}

Result<Stanza, StanzaError> Stanza::parse(xml::Element&& element) {
    auto kind = kind_of(element);
    if (!kind) return Failure{StanzaError{StanzaErrorCondition::bad_request, "not a stanza"}};
    std::optional<Jid> to, from;
    if (const std::string* t = element.find_attribute("to")) {
        to = Jid::parse(*t);
        if (!to) return Failure{StanzaError{StanzaErrorCondition::jid_malformed, "malformed 'to' address"}};
    }
    if (const std::string* f = element.find_attribute("from")) {
        from = Jid::parse(*f);
        if (!from) return Failure{StanzaError{StanzaErrorCondition::jid_malformed, "malformed 'from' address"}};
    }
    Stanza s{*kind, std::move(element), std::nullopt, std::nullopt};
    // Keep the canonical forms in the element, so what we forward is what we compared.
    s.set_from(std::move(from));
    s.set_to(std::move(to));
    return s;
}

void Stanza::set_from(std::optional<Jid> jid) {
    from_ = std::move(jid);
    if (from_) element_.set_attribute("from", from_->str());
    else element_.remove_attribute("from");
}

void Stanza::set_to(std::optional<Jid> jid) {
    to_ = std::move(jid);
    if (to_) element_.set_attribute("to", to_->str());
    else element_.remove_attribute("to");
}

Stanza Stanza::error_reply(const StanzaError& error) const {
    xml::Element reply{element_.name(), element_.xmlns()};
    if (!id().empty()) reply.set_attribute("id", id());
    reply.set_attribute("type", "error");
    // RFC 6120 §8.3.1: message and presence errors carry the original content, so the
    // sender can tell which one failed; an iq error carries only the error.
    if (kind_ != StanzaKind::iq)
        for (const auto& child : element_.children())
            if (!child.is_text()) reply.add_child(child.element);
    reply.add_child(error.to_element());
    return Stanza{kind_, std::move(reply), to_, from_};
}

Stanza Stanza::iq_result(std::optional<xml::Element> payload) const {
    xml::Element reply{"iq", element_.xmlns()};
    reply.set_attribute("id", id());
    reply.set_attribute("type", "result");
    if (payload) reply.add_child(std::move(*payload));
    return Stanza{StanzaKind::iq, std::move(reply), to_, from_};
}

}  // namespace starling::xmpp
