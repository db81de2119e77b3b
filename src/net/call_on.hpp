#pragma once
// call_on: run a function on another shard's executor and resume on ours with its result.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/task.hpp"

namespace starling::net {

// R must not be void. (Named locals rather than temporaries inside co_await: g++ 12
// destroys such temporaries twice.)
template <class Executor, class F>
auto call_on(Executor target, F f) -> Task<decltype(f())> {
    using R = decltype(f());
    auto work = [f = std::move(f)]() mutable -> Task<R> { co_return f(); };
    R result = co_await boost::asio::co_spawn(target, std::move(work), boost::asio::use_awaitable);
    co_return result;
}

}  // namespace starling::net
