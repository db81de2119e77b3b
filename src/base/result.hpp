#pragma once
// Result<T, E>: an expected failure as a value (std::expected is C++23; g++ 12 lacks it).
#include <cassert>
#include <utility>
#include <variant>

namespace starling {

template <class E>
struct Failure {
    E error;
};
template <class E>
Failure(E) -> Failure<E>;

template <class T, class E>
class [[nodiscard]] Result {
public:
    Result(T value) : v_{std::in_place_index<0>, std::move(value)} {}
    template <class F>
    Result(Failure<F> f) : v_{std::in_place_index<1>, E(std::move(f.error))} {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { assert(ok()); return std::get<0>(v_); }
    const T& value() const& { assert(ok()); return std::get<0>(v_); }
    T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const E& error() const { assert(!ok()); return std::get<1>(v_); }

private:
    std::variant<T, E> v_;
};

}  // namespace starling
