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

// The same for a coroutine: f() makes a Task<R>, which runs to its end on `target`; the
// caller resumes on its own executor with R.
template <class Executor, class F>
auto call_task_on(Executor target, F f) -> decltype(f()) {
    using T = decltype(f());
    using R = typename T::value_type;
    auto work = [f = std::move(f)]() mutable -> Task<R> {
        T task = f();
        R r = co_await std::move(task);
        co_return r;
    };
    R result = co_await boost::asio::co_spawn(target, std::move(work), boost::asio::use_awaitable);
    co_return result;
}

}  // namespace starling::net
