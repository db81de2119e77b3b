#pragma once
// DeliveryHold: what a client's messages carry (Stanza::set_hold) while the server is still
// handing them on. The router lets go of it when a message reaches a session; offline storage
// keeps it until the message is committed. The stream handles nothing more from its client
// while a hold it gave out lives, so a message stored for an offline account is on disk
// before the sender's next stanza is answered (RFC 6121 §8.5.2.2.1, XEP-0160).
// Internal to the c2s stream.
#include <atomic>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/stream/c2s/c2s_stream.hpp"

namespace starling::server {

class DeliveryHold {
public:
    DeliveryHold(std::weak_ptr<C2sStream> stream, boost::asio::any_io_executor executor)
        : stream_{std::move(stream)}, executor_{std::move(executor)} {}
    // Any shard: the last copy of the last message holding it is gone.
    ~DeliveryHold() {
        if (!awaited.load()) return;  // nobody waits: no need to wake anyone
        boost::asio::post(executor_, [w = stream_] {
            if (auto s = w.lock()) s->hold_released();
        });
    }
    std::atomic<bool> awaited{false};

private:
    std::weak_ptr<C2sStream> stream_;
    boost::asio::any_io_executor executor_;
};

// The stream's side: where it waits.
struct HoldWaiter {
    explicit HoldWaiter(boost::asio::any_io_executor executor) : timer{std::move(executor)} {}
    boost::asio::steady_timer timer;
};

}  // namespace starling::server
