#pragma once
// Stanza: a message, presence or iq with its addressing parsed once. The element is kept
// whole, so payloads the server does not understand pass through untouched; copies share the
// children (xml::Element holds them by shared_ptr), so fan-out and retargeting are cheap.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "xml/element.hpp"
#include "xmpp/jid.hpp"
#include "xmpp/stanza_error.hpp"

namespace starling::xmpp {

enum class StanzaKind { message, presence, iq };

class Stanza {
public:
    // A top-level element from a client or server stream. Errors: bad_request for an unknown
    // kind is not reported here (caller decides: RFC 6120 §4.9.3.22 unsupported-stanza-type),
    // jid_malformed for a 'to' or 'from' that is not a valid JID.
    static std::optional<StanzaKind> kind_of(const xml::Element& element);
    // On failure `element` is left untouched, so the caller can still answer it.
    static Result<Stanza, StanzaError> parse(xml::Element&& element);
    // For stanzas the server builds itself.
    Stanza(StanzaKind kind, xml::Element element, std::optional<Jid> from, std::optional<Jid> to);

    StanzaKind kind() const { return kind_; }
    std::string_view type() const { return element_.attribute("type"); }
    std::string_view id() const { return element_.attribute("id"); }
    const std::optional<Jid>& from() const { return from_; }
    const std::optional<Jid>& to() const { return to_; }
    void set_from(std::optional<Jid> jid);
    void set_to(std::optional<Jid> jid);

    const xml::Element& element() const { return element_; }
    xml::Element& element() { return element_; }

    bool is_iq_request() const { return kind_ == StanzaKind::iq && (type() == "get" || type() == "set"); }
    bool is_error() const { return type() == "error"; }
    // The first child element (an iq's payload), or nullptr.
    const xml::Element* payload() const { return element_.first_child_element(); }

    // Something that lives while the stanza or any copy of it does: whoever sent it can
    // learn when the server is done with it (the sender's stream waits until a message is
    // handed to a session or stored). The router lets go of it once a stanza reaches a
    // session; replies and new stanzas never carry it.
    void set_hold(std::shared_ptr<const void> hold) { hold_ = std::move(hold); }
    void release_hold() { hold_.reset(); }

    // RFC 6120 §8.3.1: an error reply, addressed back to the sender, same id.
    Stanza error_reply(const StanzaError& error) const;
    // RFC 6120 §8.2.3: a result for an iq get/set; payload optional.
    Stanza iq_result(std::optional<xml::Element> payload = std::nullopt) const;

private:
    StanzaKind kind_;
    xml::Element element_;
    std::optional<Jid> from_;
    std::optional<Jid> to_;
    std::shared_ptr<const void> hold_;
};

std::string_view to_string(StanzaKind kind);

}  // namespace starling::xmpp
