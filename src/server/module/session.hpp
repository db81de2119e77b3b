#pragma once
// Session: one client's session as the router, events and modules see it, whatever carries
// it. Today C2sStream (XML over TCP) is the only one; BOSH and WebSocket sessions, and a
// stream-management session that outlives its connection (XEP-0198), are the next. Lives on
// its connection shard, and every call is made there; other shards reach it through posts
// (SessionRef). Modules keep per-session state here (module_state), which lives as long as
// the session, not as long as one connection.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <typeindex>
#include <utility>
#include <vector>

#include "xmpp/jid.hpp"
#include "xmpp/stanza.hpp"
#include "xmpp/stream_error.hpp"

namespace starling::server {

class Session {
public:
    virtual ~Session() = default;

    virtual std::uint64_t id() const = 0;
    // The bound full JID; empty before binding.
    virtual const std::optional<xmpp::Jid>& jid() const = 0;
    virtual const std::string& remote_address() const = 0;
    // Whether what the client sends is protected (TLS, or a transport that is).
    virtual bool is_secure() const = 0;

    // Hands a stanza to the client (through StanzaToClient).
    virtual void deliver(xmpp::Stanza stanza) = 0;
    // Ends the session with a stream error.
    virtual void close(xmpp::StreamError error) = 0;
    // Writes an element that is no stanza (stream management's <a/>, <enabled/>), in order
    // with the stanzas around it.
    virtual void write_element(const xml::Element& element) = 0;
    // Answers a PreAuthIq; dropped once the session is past authentication.
    virtual void send_preauth(const xmpp::Stanza& stanza) = 0;
    // Keeps the session alive across a task that outlives the current call.
    virtual std::shared_ptr<Session> shared() = 0;

    // Per-session state a module keeps here, keyed by its own type T (made on first use).
    template <class T>
    T& module_state() {
        for (auto& [type, state] : module_state_)
            if (type == typeid(T)) return *static_cast<T*>(state.get());
        auto state = std::make_shared<T>();
        module_state_.emplace_back(typeid(T), state);
        return *state;
    }

private:
    std::vector<std::pair<std::type_index, std::shared_ptr<void>>> module_state_;
};

}  // namespace starling::server
