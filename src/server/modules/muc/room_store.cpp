#include "server/modules/muc/room_store.hpp"

#include <charconv>

#include "xml/parse_element.hpp"
#include "xml/writer.hpp"

namespace starling::muc {

namespace {

constexpr std::string_view document_ns = "urn:starling:muc:room";

}  // namespace

std::string to_document(const Room& room) {
    xml::Element doc{"room", std::string(document_ns)};
    xml::Element form = config_form(room.config, room.jid.str());
    form.set_attribute("type", "submit");
    doc.add_child(std::move(form));
    for (const auto& [jid, affiliation] : room.affiliations) {
        auto& a = doc.add_child("affiliation", std::string(document_ns));
        a.set_attribute("jid", jid.str()).set_attribute("value", to_string(affiliation));
        if (auto nick = room.reserved_nicks.find(jid); nick != room.reserved_nicks.end()) a.set_attribute("nick", nick->second);
    }
    auto& subject = doc.add_child("subject", std::string(document_ns));
    subject.set_attribute("by", room.subject_by);
    if (room.subject_when) subject.set_attribute("when", std::to_string(room.subject_when));
    subject.add_text(room.subject);
    return xml::to_string(doc);
}

std::optional<Room> from_document(const xmpp::BareJid& jid, std::string_view text) {
    auto doc = xml::parse_element(text);
    if (!doc || !doc->is("room", document_ns)) return std::nullopt;
    const xml::Element* form = doc->find_child("x", data_ns);
    if (!form) return std::nullopt;
    auto config = apply_form(RoomConfig{}, *form);
    if (!config) return std::nullopt;
    Room room{jid};
    room.locked = false;
    room.config = std::move(config).value();
    for (const auto& node : doc->children()) {
        if (node.is_text() || !node.element->is("affiliation", document_ns)) continue;
        auto who = xmpp::BareJid::parse(node.element->attribute("jid"));
        auto affiliation = affiliation_named(node.element->attribute("value"));
        if (!who || !affiliation || *affiliation == Affiliation::none) continue;
        room.affiliations[*who] = *affiliation;
        if (std::string_view nick = node.element->attribute("nick"); !nick.empty()) room.reserved_nicks[*who] = std::string(nick);
    }
    if (const xml::Element* subject = doc->find_child("subject", document_ns)) {
        room.subject = subject->text();
        room.subject_by = std::string(subject->attribute("by"));
        std::string_view when = subject->attribute("when");
        std::from_chars(when.data(), when.data() + when.size(), room.subject_when);  // absent: 0
    }
    return room;
}

}  // namespace starling::muc
