#include "xmpp/sasl/plain.hpp"

#include <gtest/gtest.h>

#include <string>

namespace starling::xmpp::sasl {
namespace {

using namespace std::string_literals;

SaslCondition error_of(std::string_view message) {
    const auto result = parse_plain(message);
    EXPECT_FALSE(result.ok());
    return result.ok() ? SaslCondition::aborted : result.error();
}

TEST(Plain, parses_message_without_authzid) {
    const auto result = parse_plain("\0tim\0tanstaaftanstaaf"s);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->authzid, "");
    EXPECT_EQ(result->authcid, "tim");
    EXPECT_EQ(result->password, "tanstaaftanstaaf");
}

// RFC 4616 §4 example.
TEST(Plain, parses_message_with_authzid) {
    const auto result = parse_plain("Ursel\0Kurt\0xipj3plmq"s);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->authzid, "Ursel");
    EXPECT_EQ(result->authcid, "Kurt");
    EXPECT_EQ(result->password, "xipj3plmq");
}

TEST(Plain, keeps_non_ascii_utf8_and_punctuation) {
    const auto result = parse_plain("\0j\xc3\xbcrgen\0p\xc3\xa4ss w=,rd"s);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->authcid, "j\xc3\xbcrgen");
    EXPECT_EQ(result->password, "p\xc3\xa4ss w=,rd");
}

TEST(Plain, wrong_number_of_fields_is_malformed_request) {
    EXPECT_EQ(error_of(""), SaslCondition::malformed_request);
    EXPECT_EQ(error_of("timpassword"), SaslCondition::malformed_request);
    EXPECT_EQ(error_of("tim\0password"s), SaslCondition::malformed_request);
    EXPECT_EQ(error_of("\0tim\0pass\0word"s), SaslCondition::malformed_request);
}

TEST(Plain, empty_authcid_or_password_is_malformed_request) {
    EXPECT_EQ(error_of("\0\0password"s), SaslCondition::malformed_request);
    EXPECT_EQ(error_of("\0tim\0"s), SaslCondition::malformed_request);
    EXPECT_EQ(error_of("\0\0"s), SaslCondition::malformed_request);
}

TEST(Plain, field_over_255_octets_is_malformed_request) {
    const std::string max(255, 'a');
    const std::string over(256, 'a');
    EXPECT_TRUE(parse_plain(max + '\0' + max + '\0' + max).ok());
    EXPECT_EQ(error_of(over + "\0tim\0pw"s), SaslCondition::malformed_request);
    EXPECT_EQ(error_of("\0"s + over + "\0pw"s), SaslCondition::malformed_request);
    EXPECT_EQ(error_of("\0tim\0"s + over), SaslCondition::malformed_request);
}

TEST(Plain, invalid_utf8_is_malformed_request) {
    EXPECT_EQ(error_of("\0tim\0\xff"s), SaslCondition::malformed_request);
    EXPECT_EQ(error_of("\0t\xc3\0pw"s), SaslCondition::malformed_request);          // truncated
    EXPECT_EQ(error_of("\0t\xc0\xaf\0pw"s), SaslCondition::malformed_request);      // overlong '/'
    EXPECT_EQ(error_of("\0t\xed\xa0\x80\0pw"s), SaslCondition::malformed_request);  // surrogate
    EXPECT_EQ(error_of("\xf4\x90\x80\x80\0tim\0pw"s),
              SaslCondition::malformed_request);  // > U+10FFFF
}

}  // namespace
}  // namespace starling::xmpp::sasl
