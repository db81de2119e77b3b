#pragma once
// A decimal number that is the whole of a text ("12", not "12a", " 12" or ""): the form
// attributes, form fields and stored values take in XMPP.
#include <charconv>
#include <optional>
#include <string_view>

namespace starling {

template <class N>
std::optional<N> parse_number(std::string_view text) {
    N n{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return n;
}

}  // namespace starling
