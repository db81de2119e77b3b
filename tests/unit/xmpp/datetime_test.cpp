// XEP-0082 date-times: what delay stamps carry and what <history since=''/> may say.
#include <gtest/gtest.h>

#include "xmpp/datetime.hpp"

namespace starling::xmpp {
namespace {

constexpr std::int64_t second = 1'000'000;

TEST(DateTime, formats_utc_with_a_z) {
    EXPECT_EQ(datetime(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(datetime(1'700'000'000 * second + 999'999), "2023-11-14T22:13:20Z");
}

TEST(DateTime, parses_utc_fractions_and_offsets_to_the_same_instant) {
    EXPECT_EQ(parse_datetime("2023-11-14T22:13:20Z"), 1'700'000'000 * second);
    EXPECT_EQ(parse_datetime("2023-11-14T22:13:20.25Z"), 1'700'000'000 * second + 250'000);
    EXPECT_EQ(parse_datetime("2023-11-15T00:13:20+02:00"), 1'700'000'000 * second);
    EXPECT_EQ(parse_datetime("2023-11-14T17:13:20-05:00"), 1'700'000'000 * second);
    EXPECT_EQ(parse_datetime(datetime(1'234'567'890 * second)), 1'234'567'890 * second);
}

TEST(DateTime, refuses_what_is_not_a_xep_0082_date_time) {
    for (const char* bad : {"", "2023-11-14", "2023-11-14T22:13:20", "2023-13-14T22:13:20Z", "2023-11-14T22:13:20+2:00",
                            "2023-11-14 22:13:20Z", "2023-11-14T22:13:20Zjunk", "2023-11-14T22:13:20.Z", "yesterday"})
        EXPECT_FALSE(parse_datetime(bad)) << bad;
}

}  // namespace
}  // namespace starling::xmpp
