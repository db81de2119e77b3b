#pragma once
// Task<T>: the coroutine type used everywhere (Asio's awaitable).
#include <boost/asio/awaitable.hpp>

namespace starling {

template <class T = void>
using Task = boost::asio::awaitable<T>;

}  // namespace starling
