#pragma once
// XEP-0082 date-times (UTC), as XEP-0203 delay stamps and XEP-0045 <history since=''/> use
// them: microseconds since the epoch to "2026-12-07T04:17:00Z", and back from any offset.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace starling::xmpp {

std::string datetime(std::int64_t micros);
// CCYY-MM-DDThh:mm:ss[.sss](Z|(+|-)hh:mm); nullopt for anything else.
std::optional<std::int64_t> parse_datetime(std::string_view text);

}  // namespace starling::xmpp
