#include "server/routing/pending_iqs.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>

#include "base/random.hpp"

namespace starling::server {

namespace {
// "sq<shard>-<counter>-<random>": the random part keeps ids unguessable across restarts.
constexpr std::string_view id_prefix = "sq";
}  // namespace

struct PendingIqs::Waiter {
    explicit Waiter(boost::asio::io_context& context) : timer{context} {}
    boost::asio::steady_timer timer;
    xmpp::Stanza request{xmpp::StanzaKind::iq, {}, std::nullopt, std::nullopt};
    std::optional<xmpp::Stanza> reply;
    bool cancelled = false;
};

PendingIqs::PendingIqs(boost::asio::io_context& context, std::size_t shard) : context_{context}, shard_{shard} {}
PendingIqs::~PendingIqs() = default;

std::optional<std::size_t> PendingIqs::shard_of(std::string_view id) {
    if (!id.starts_with(id_prefix)) return std::nullopt;
    id.remove_prefix(id_prefix.size());
    std::size_t shard = 0;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), shard);
    if (ec != std::errc{} || end == id.data() + id.size() || *end != '-') return std::nullopt;
    return shard;
}

std::string PendingIqs::add(xmpp::Stanza& request, std::chrono::milliseconds timeout) {
    std::string id = std::string(id_prefix) + std::to_string(shard_) + "-" + std::to_string(++next_) + "-" + random::id(8);
    request.element().set_attribute("id", id);
    auto waiter = std::make_shared<Waiter>(context_);
    waiter->request = request;
    waiter->timer.expires_after(timeout);
    waiting_.emplace(id, std::move(waiter));
    return id;
}

Task<xmpp::Stanza> PendingIqs::wait(std::string id) {
    auto it = waiting_.find(id);
    if (it == waiting_.end()) throw std::logic_error("wait() for an iq that was never added");
    std::shared_ptr<Waiter> waiter = it->second;
    if (!waiter->reply && !waiter->cancelled) {
        boost::system::error_code ec;
        co_await waiter->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
    waiting_.erase(id);
    if (waiter->reply) co_return std::move(*waiter->reply);
    co_return waiter->request.error_reply({xmpp::StanzaErrorCondition::remote_server_timeout,
                                           waiter->cancelled ? "The request was withdrawn" : "No answer in time"});
}

std::size_t PendingIqs::cancel_from(const xmpp::Jid& from) {
    std::size_t n = 0;
    for (auto& [id, waiter] : waiting_)
        if (!waiter->reply && !waiter->cancelled && waiter->request.from() == from) {
            waiter->cancelled = true;  // no reply: wait() answers remote-server-timeout
            waiter->timer.cancel();
            ++n;
        }
    return n;
}

bool PendingIqs::complete(const xmpp::Stanza& reply) {
    auto it = waiting_.find(std::string(reply.id()));
    if (it == waiting_.end() || it->second->reply || it->second->cancelled) return false;
    Waiter& waiter = *it->second;
    // Only the addressee may answer; anyone else guessing the id is ignored.
    if (reply.from() != waiter.request.to()) return false;
    waiter.reply = reply;
    waiter.timer.cancel();
    return true;
}

}  // namespace starling::server
