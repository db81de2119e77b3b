#include "base/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace starling::base64 {
namespace {

using namespace std::string_literals;

// RFC 4648 §10 test vectors.
TEST(Base64, encodes_rfc4648_vectors_with_padding) {
    EXPECT_EQ(encode(""), "");
    EXPECT_EQ(encode("f"), "Zg==");
    EXPECT_EQ(encode("fo"), "Zm8=");
    EXPECT_EQ(encode("foo"), "Zm9v");
    EXPECT_EQ(encode("foob"), "Zm9vYg==");
    EXPECT_EQ(encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, decodes_rfc4648_vectors) {
    EXPECT_EQ(decode(""), "");
    EXPECT_EQ(decode("Zg=="), "f");
    EXPECT_EQ(decode("Zm8="), "fo");
    EXPECT_EQ(decode("Zm9v"), "foo");
    EXPECT_EQ(decode("Zm9vYg=="), "foob");
    EXPECT_EQ(decode("Zm9vYmE="), "fooba");
    EXPECT_EQ(decode("Zm9vYmFy"), "foobar");
}

TEST(Base64, round_trips_every_byte_value_and_length) {
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    for (std::size_t len = 0; len <= all.size(); ++len) {
        const auto bytes = all.substr(all.size() - len);
        EXPECT_EQ(decode(encode(bytes)), bytes) << "length " << len;
    }
    EXPECT_EQ(encode("\xfb\xff"s), "+/8=");
}

TEST(Base64, rejects_missing_padding) {
    EXPECT_EQ(decode("Zg"), std::nullopt);
    EXPECT_EQ(decode("Zm8"), std::nullopt);
    EXPECT_EQ(decode("Z"), std::nullopt);
}

TEST(Base64, rejects_misplaced_or_excess_padding) {
    EXPECT_EQ(decode("===="), std::nullopt);
    EXPECT_EQ(decode("Z==="), std::nullopt);
    EXPECT_EQ(decode("Z=g="), std::nullopt);
    EXPECT_EQ(decode("Zg=a"), std::nullopt);
    EXPECT_EQ(decode("Zg==Zm9v"), std::nullopt);
    EXPECT_EQ(decode("Zm9v===="), std::nullopt);
    EXPECT_EQ(decode("="), std::nullopt);
}

TEST(Base64, rejects_characters_outside_the_alphabet) {
    EXPECT_EQ(decode("Zm9-"), std::nullopt);  // URL-safe alphabet is not base64
    EXPECT_EQ(decode("Zm9_"), std::nullopt);
    EXPECT_EQ(decode("Zm9*"), std::nullopt);
    EXPECT_EQ(decode("Zm9\xc3"), std::nullopt);
    EXPECT_EQ(decode("Zm9\0"s), std::nullopt);
}

TEST(Base64, rejects_whitespace_anywhere) {
    EXPECT_EQ(decode(" Zm9v"), std::nullopt);
    EXPECT_EQ(decode("Zm9v "), std::nullopt);
    EXPECT_EQ(decode("Zm9v\nYmFy"), std::nullopt);
    EXPECT_EQ(decode("Zm 9v"), std::nullopt);
    EXPECT_EQ(decode("\r\n"), std::nullopt);
}

TEST(Base64, rejects_non_zero_trailing_bits) {
    EXPECT_EQ(decode("Zh=="), std::nullopt);  // "Zg==" with a stray low bit
    EXPECT_EQ(decode("Zm9="), std::nullopt);  // "Zm8=" with a stray low bit
    EXPECT_EQ(decode("//=="), std::nullopt);
    EXPECT_EQ(decode("/w=="), "\xff"s);
}

}  // namespace
}  // namespace starling::base64
