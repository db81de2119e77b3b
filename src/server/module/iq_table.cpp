#include "server/module/iq_table.hpp"

#include <stdexcept>

namespace starling::server {

IqRequest::~IqRequest() {
    if (!answered_ && send_) error(xmpp::StanzaErrorCondition::internal_server_error);
}

void IqRequest::reply(std::optional<xml::Element> payload) {
    if (answered_) return;
    answered_ = true;
    send_(stanza_.iq_result(std::move(payload)));
}

void IqRequest::error(xmpp::StanzaError error) {
    if (answered_) return;
    answered_ = true;
    send_(stanza_.error_reply(error));
}

void IqTable::add(std::string_view type, std::string_view xmlns, std::string_view name, To to, IqHandler handler) {
    Key key{std::string(type), std::string(xmlns), std::string(name), to};
    if (handlers_.contains(key))
        throw std::logic_error("two handlers for iq " + std::string(type) + " {" + std::string(xmlns) + "}" +
                               std::string(name));
    handlers_.emplace(std::move(key), std::move(handler));
}

const IqTable::Handler* IqTable::find(std::string_view type, std::string_view xmlns, std::string_view name,
                                      To to) const {
    auto it = handlers_.find(Key{std::string(type), std::string(xmlns), std::string(name), to});
    return it == handlers_.end() ? nullptr : &it->second;
}

}  // namespace starling::server
