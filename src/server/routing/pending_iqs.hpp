#pragma once
// PendingIqs: the iq requests modules sent from one shard, waiting for their result or error.
// Each request gets an id that names this shard, so a reply that reaches the server on any
// shard is carried back here (Router::route); it resumes its waiting task only if it comes
// from the JID the request went to (RFC 6120 §8.2.3: the addressee answers). A request with no
// reply in time resumes with remote-server-timeout, as if the addressee had said so. Owned by
// the shard's Router; on that shard only.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/io_context.hpp>

#include "net/task.hpp"
#include "xmpp/stanza.hpp"

namespace starling::server {

class PendingIqs {
public:
    PendingIqs(boost::asio::io_context& context, std::size_t shard);
    ~PendingIqs();

    // Gives `request` a fresh id and registers it; then the caller routes it and awaits
    // wait(). Registering first lets an answer given at once, while routing, find its slot.
    std::string add(xmpp::Stanza& request, std::chrono::milliseconds timeout);
    Task<xmpp::Stanza> wait(std::string id);
    // A result or error to one of ours: true if it was awaited (and is taken).
    bool complete(const xmpp::Stanza& reply);
    // Ends at once every wait for a request sent from `from` (an entity or session that is
    // going away): each resumes with remote-server-timeout. Returns how many.
    std::size_t cancel_from(const xmpp::Jid& from);
    // The shard an id of ours names, or nullopt for an id we did not make.
    static std::optional<std::size_t> shard_of(std::string_view id);
    std::size_t size() const { return waiting_.size(); }

private:
    struct Waiter;
    boost::asio::io_context& context_;
    std::size_t shard_;
    std::uint64_t next_ = 0;
    std::unordered_map<std::string, std::shared_ptr<Waiter>> waiting_;
};

}  // namespace starling::server
