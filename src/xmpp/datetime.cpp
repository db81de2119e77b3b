#include "xmpp/datetime.hpp"

#include <charconv>
#include <ctime>

#include <fmt/format.h>

namespace starling::xmpp {

std::string datetime(std::int64_t micros) {
    std::time_t t = static_cast<std::time_t>(micros / 1'000'000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min, tm.tm_sec);
}

namespace {

// Exactly `digits` decimal digits at text[at...].
std::optional<int> number(std::string_view text, std::size_t at, std::size_t digits) {
    if (at + digits > text.size()) return std::nullopt;
    int value = 0;
    for (std::size_t i = at; i < at + digits; ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

}  // namespace

std::optional<std::int64_t> parse_datetime(std::string_view text) {
    // CCYY-MM-DDThh:mm:ss
    auto year = number(text, 0, 4), month = number(text, 5, 2), day = number(text, 8, 2);
    auto hour = number(text, 11, 2), minute = number(text, 14, 2), second = number(text, 17, 2);
    if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' || text[7] != '-' ||
        text[10] != 'T' || text[13] != ':' || text[16] != ':')
        return std::nullopt;
    if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60)
        return std::nullopt;
    std::size_t at = 19;
    std::int64_t fraction = 0;  // microseconds
    if (at < text.size() && text[at] == '.') {
        std::size_t start = ++at;
        std::int64_t scale = 100000;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
            fraction += (text[at] - '0') * scale;
            scale /= 10;
            ++at;
        }
        if (at == start) return std::nullopt;
    }
    std::int64_t offset = 0;  // seconds east of UTC
    if (at < text.size() && text[at] == 'Z') {
        ++at;
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        auto oh = number(text, at + 1, 2), om = number(text, at + 4, 2);
        if (!oh || !om || at + 3 >= text.size() || text[at + 3] != ':' || *oh > 23 || *om > 59) return std::nullopt;
        offset = (*oh * 3600 + *om * 60) * (text[at] == '-' ? -1 : 1);
        at += 6;
    } else {
        return std::nullopt;  // XEP-0082: a time zone is required
    }
    if (at != text.size()) return std::nullopt;
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    tm.tm_sec = *second;
    std::int64_t seconds = static_cast<std::int64_t>(timegm(&tm)) - offset;
    return seconds * 1'000'000 + fraction;
}

}  // namespace starling::xmpp
