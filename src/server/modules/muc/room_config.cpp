#include "server/modules/muc/room_config.hpp"

#include <charconv>

#include "xml/parse_element.hpp"
#include "xml/writer.hpp"

namespace starling::muc {


xml::Element config_form(const RoomConfig& config, std::string_view room) {
    xml::Element form{"x", std::string(data_ns)};
    form.set_attribute("type", "form");
    form.add_child("title", std::string(data_ns)).add_text("Configuration of " + std::string(room));
    xmpp::add_form_field(form, "FORM_TYPE", "hidden", "", roomconfig_form);
    xmpp::add_form_field(form, "muc#roomconfig_roomname", "text-single", "Name", config.name);
    xmpp::add_form_field(form, "muc#roomconfig_roomdesc", "text-single", "Description", config.description);
    xmpp::add_form_field(form, "muc#roomconfig_persistentroom", "boolean", "Keep the room when it is empty",
              config.persistent ? "1" : "0");
    xmpp::add_form_field(form, "muc#roomconfig_publicroom", "boolean", "List the room publicly", config.public_room ? "1" : "0");
    xmpp::add_form_field(form, "muc#roomconfig_passwordprotectedroom", "boolean", "Require a password to enter",
              config.password_protected ? "1" : "0");
    xmpp::add_form_field(form, "muc#roomconfig_roomsecret", "text-private", "Password", config.secret);
    xmpp::add_form_field(form, "muc#roomconfig_membersonly", "boolean", "Only members may enter", config.members_only ? "1" : "0");
    xmpp::add_form_field(form, "muc#roomconfig_moderatedroom", "boolean", "Only occupants with voice may speak",
              config.moderated ? "1" : "0");
    {
        auto& broadcast = form.add_child("field", std::string(data_ns));
        broadcast.set_attribute("var", "muc#roomconfig_presencebroadcast").set_attribute("type", "list-multi");
        broadcast.set_attribute("label", "Roles whose presence is broadcast");
        for (auto [role, on] : {std::pair{"moderator", config.broadcast_moderator},
                                std::pair{"participant", config.broadcast_participant},
                                std::pair{"visitor", config.broadcast_visitor}})
            if (on) broadcast.add_child("value", std::string(data_ns)).add_text(role);
        xmpp::add_form_option(broadcast, "moderator", "Moderator");
        xmpp::add_form_option(broadcast, "participant", "Participant");
        xmpp::add_form_option(broadcast, "visitor", "Visitor");
    }
    xmpp::add_form_field(form, "muc#roomconfig_whois", "list-single", "Who may see real JIDs",
              config.non_anonymous ? "anyone" : "moderators");
    auto& whois = *form.children().back().element;
    xmpp::add_form_option(whois, "moderators", "Moderators only");
    xmpp::add_form_option(whois, "anyone", "Anyone");
    xmpp::add_form_field(form, "muc#roomconfig_maxusers", "text-single", "Most occupants at once (0: no limit)",
              std::to_string(config.max_users));
    xmpp::add_form_field(form, "muc#roomconfig_changesubject", "boolean", "Let participants change the subject",
              config.change_subject ? "1" : "0");
    xmpp::add_form_field(form, "muc#roomconfig_allowinvites", "boolean", "Let participants invite others",
              config.allow_invites ? "1" : "0");
    xmpp::add_form_field(form, "muc#roomconfig_historylength", "text-single", "Messages of history sent on entry (at most 1000)",
              std::to_string(config.history_length));
    return form;
}

Result<RoomConfig, std::string> apply_form(const RoomConfig& current, const xml::Element& submitted) {
    RoomConfig next = current;
    for (const auto& node : submitted.children()) {
        if (node.is_text() || !node.element->is("field", data_ns)) continue;
        const xml::Element& field = *node.element;
        std::string var{field.attribute("var")};
        std::string value = field.child_text("value", data_ns);
        auto flag = [&](bool& out) -> bool {
            auto b = xmpp::form_boolean(value);
            if (b) out = *b;
            return b.has_value();
        };
        bool ok = true;
        if (var == "FORM_TYPE") ok = value.empty() || value == roomconfig_form;
        else if (var == "muc#roomconfig_roomname") next.name = value;
        else if (var == "muc#roomconfig_roomdesc") next.description = value;
        else if (var == "muc#roomconfig_persistentroom") ok = flag(next.persistent);
        else if (var == "muc#roomconfig_publicroom") ok = flag(next.public_room);
        else if (var == "muc#roomconfig_passwordprotectedroom") ok = flag(next.password_protected);
        else if (var == "muc#roomconfig_roomsecret") next.secret = value;
        else if (var == "muc#roomconfig_changesubject") ok = flag(next.change_subject);
        else if (var == "muc#roomconfig_allowinvites") ok = flag(next.allow_invites);
        else if (var == "muc#roomconfig_membersonly") ok = flag(next.members_only);
        else if (var == "muc#roomconfig_moderatedroom") ok = flag(next.moderated);
        else if (var == "muc#roomconfig_presencebroadcast") {
            next.broadcast_moderator = next.broadcast_participant = next.broadcast_visitor = false;
            for (const auto& v : field.children()) {
                if (v.is_text() || !v.element->is("value", data_ns)) continue;
                std::string role = v.element->text();
                if (role == "moderator") next.broadcast_moderator = true;
                else if (role == "participant") next.broadcast_participant = true;
                else if (role == "visitor") next.broadcast_visitor = true;
                else ok = false;
            }
        }
        else if (var == "muc#roomconfig_whois") {
            ok = value == "anyone" || value == "moderators";
            next.non_anonymous = value == "anyone";
        } else if (var == "muc#roomconfig_historylength") {
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), next.history_length);
            ok = ec == std::errc{} && end == value.data() + value.size() && next.history_length <= 1000;
        } else if (var == "muc#roomconfig_maxusers") {
            std::uint32_t n = 0;
            if (value == "none" || value.empty()) {
                next.max_users = 0;
            } else {
                auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
                ok = ec == std::errc{} && end == value.data() + value.size();
                next.max_users = n;
            }
        }
        if (!ok) return Failure{"the value of " + var + " is not valid"};
    }
    if (next.password_protected && next.secret.empty())
        return Failure{std::string("a password-protected room needs a password (muc#roomconfig_roomsecret)")};
    return next;
}

std::string serialize(const RoomConfig& config) {
    xml::Element form = config_form(config, "");
    form.set_attribute("type", "submit");
    return xml::to_string(form);
}

std::optional<RoomConfig> deserialize(std::string_view text) {
    auto form = xml::parse_element(text);
    if (!form || !form->is("x", data_ns)) return std::nullopt;
    auto config = apply_form(RoomConfig{}, *form);
    if (!config) return std::nullopt;
    return std::move(config).value();
}

}  // namespace starling::muc
