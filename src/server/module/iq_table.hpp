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
#include <type_traits>

#include "net/task.hpp"

#include "xml/element.hpp"
#include "xmpp/stanza.hpp"

namespace starling::server {

// Who the request is addressed to: the server's domain (or a service's, in a Service's
// table), an account's bare JID (the server answers on the account's behalf, e.g. vCard,
// roster), or an entity of a service (a room, a node: name@service[/resource], in the
// Service's table, dispatched on the shard that owns the entity).
enum class To { host, account, entity };

class IqRequest {
public:
    using Send = std::function<void(xmpp::Stanza)>;
    IqRequest(xmpp::Stanza stanza, Send send) : stanza_{std::move(stanza)}, send_{std::move(send)} {}
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
    xmpp::Stanza stanza_;
    Send send_;
    bool answered_ = false;
};

// A handler is either synchronous, or a coroutine (for store calls); the router runs a
// coroutine handler on the shard it dispatched from, and the request stays alive until the
// handler ends.
struct IqHandler {
    std::function<void(IqRequest&)> sync;
    std::function<Task<void>(IqRequest&)> async;
};

class IqTable {
public:
    using Handler = IqHandler;

    // Throws std::logic_error if the key is taken. `f` is void(IqRequest&) or
    // Task<void>(IqRequest&).
    template <class F>
    void on(std::string_view type, std::string_view xmlns, std::string_view name, To to, F f) {
        if constexpr (std::is_same_v<std::invoke_result_t<F&, IqRequest&>, Task<void>>)
            add(type, xmlns, name, to, IqHandler{{}, std::move(f)});
        else
            add(type, xmlns, name, to, IqHandler{std::move(f), {}});
    }
    template <class F>
    void on_get(std::string_view xmlns, std::string_view name, To to, F f) {
        on("get", xmlns, name, to, std::move(f));
    }
    template <class F>
    void on_set(std::string_view xmlns, std::string_view name, To to, F f) {
        on("set", xmlns, name, to, std::move(f));
    }
    const Handler* find(std::string_view type, std::string_view xmlns, std::string_view name, To to) const;

private:
    void add(std::string_view type, std::string_view xmlns, std::string_view name, To to, IqHandler handler);
    using Key = std::tuple<std::string, std::string, std::string, To>;
    std::map<Key, Handler, std::less<>> handlers_;
};

}  // namespace starling::server
