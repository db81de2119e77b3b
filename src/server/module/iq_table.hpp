#pragma once
// IqTable: exact-match dispatch of iq get/set requests by (type, payload namespace, payload
// name, addressee). A second handler for the same key is a start-up error, not a silent
// override. One table per (host, shard). RFC 6120 §8.2.3: every request gets exactly one
// reply; IqRequest enforces it.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "xml/element.hpp"
#include "xmpp/stanza.hpp"

namespace starling::server {

// Who the request is addressed to: the server's domain, or an account's bare JID (the
// server answers on the account's behalf, e.g. vCard, roster).
enum class To { host, account };

class IqRequest {
public:
    using Send = std::function<void(xmpp::Stanza)>;
    IqRequest(const xmpp::Stanza& stanza, Send send) : stanza_{stanza}, send_{std::move(send)} {}
    ~IqRequest();  // an unanswered request gets internal-server-error
    IqRequest(const IqRequest&) = delete;
    IqRequest& operator=(const IqRequest&) = delete;

    const xmpp::Stanza& stanza() const { return stanza_; }
    const xml::Element& payload() const { return *stanza_.payload(); }
    // The requesting entity (always set: the stream stamped it).
    const xmpp::Jid& from() const { return *stanza_.from(); }

    void reply(std::optional<xml::Element> payload = std::nullopt);
    void error(xmpp::StanzaError error);
    void error(xmpp::StanzaErrorCondition condition, std::string text = {}) {
        error(xmpp::StanzaError{condition, std::move(text)});
    }
    bool answered() const { return answered_; }

private:
    const xmpp::Stanza& stanza_;
    Send send_;
    bool answered_ = false;
};

class IqTable {
public:
    using Handler = std::function<void(IqRequest&)>;

    // Throws std::logic_error if the key is taken.
    void on(std::string_view type, std::string_view xmlns, std::string_view name, To to, Handler handler);
    void on_get(std::string_view xmlns, std::string_view name, To to, Handler handler) {
        on("get", xmlns, name, to, std::move(handler));
    }
    void on_set(std::string_view xmlns, std::string_view name, To to, Handler handler) {
        on("set", xmlns, name, to, std::move(handler));
    }
    const Handler* find(std::string_view type, std::string_view xmlns, std::string_view name, To to) const;

private:
    using Key = std::tuple<std::string, std::string, std::string, To>;
    std::map<Key, Handler, std::less<>> handlers_;
};

}  // namespace starling::server
