#include "xmpp/jid.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <unordered_set>

namespace starling::xmpp {

// Found by ADL so that failing expectations print the address.
void PrintTo(const Jid& jid, std::ostream* os) { *os << jid.str(); }
void PrintTo(const BareJid& jid, std::ostream* os) { *os << jid.str(); }

namespace {

std::string parsed(std::string_view text) {
    auto jid = Jid::parse(text);
    return jid ? jid->str() : "<malformed>";
}

// 16 labels of 63 octets and 15 dots: 1023 octets, every label at its limit.
std::string domain_of_1023_octets() {
    std::string domain;
    for (int i = 0; i < 16; ++i) {
        if (i > 0) domain += '.';
        domain += std::string(63, 'a');
    }
    return domain;
}

// ---- RFC 7622 §3.5 ----

TEST(Jid, rfc7622_legal_jids_are_accepted) {
    // RFC 7622 §3.5, Table 1, examples 1 to 15.
    EXPECT_EQ(parsed("juliet@example.com"), "juliet@example.com");
    EXPECT_EQ(parsed("juliet@example.com/foo"), "juliet@example.com/foo");
    EXPECT_EQ(parsed("juliet@example.com/foo bar"), "juliet@example.com/foo bar");
    EXPECT_EQ(parsed("juliet@example.com/foo@bar"), "juliet@example.com/foo@bar");
    EXPECT_EQ(parsed("foo\\20bar@example.com"), "foo\\20bar@example.com");
    EXPECT_EQ(parsed("fussball@example.com"), "fussball@example.com");
    EXPECT_EQ(parsed("fu\u00DFball@example.com"), "fu\u00DFball@example.com");
    EXPECT_EQ(parsed("\u03C0@example.com"), "\u03C0@example.com");
    EXPECT_EQ(parsed("\u03A3@example.com/foo"), "\u03C3@example.com/foo");
    EXPECT_EQ(parsed("\u03C3@example.com/foo"), "\u03C3@example.com/foo");
    EXPECT_EQ(parsed("\u03C2@example.com/foo"), "\u03C2@example.com/foo");
    EXPECT_EQ(parsed("king@example.com/\u265A"), "king@example.com/\u265A");
    EXPECT_EQ(parsed("example.com"), "example.com");
    EXPECT_EQ(parsed("example.com/foobar"), "example.com/foobar");
    EXPECT_EQ(parsed("a.example.com/b@example.net"), "a.example.com/b@example.net");
}

TEST(Jid, rfc7622_illegal_jids_are_refused) {
    // RFC 7622 §3.5, Table 2, examples 16 to 23.
    EXPECT_EQ(Jid::parse("\"juliet\"@example.com"), std::nullopt);
    EXPECT_EQ(Jid::parse("foo bar@example.com"), std::nullopt);
    EXPECT_EQ(Jid::parse("@example.com/"), std::nullopt);
    EXPECT_EQ(Jid::parse("henry\u2163@example.com"), std::nullopt);
    EXPECT_EQ(Jid::parse("\u265A@example.com"), std::nullopt);
    EXPECT_EQ(Jid::parse("juliet@"), std::nullopt);
    EXPECT_EQ(Jid::parse("/foobar"), std::nullopt);
}

TEST(Jid, rfc7622_example_18_leading_space_in_resource_is_accepted) {
    // RFC 7622 §3.5 lists example 18 as illegal, but no rule backs it: the resourcepart is
    // OpaqueString (RFC 7622 §3.4), whose FreeformClass allows SPACE anywhere (RFC 8264
    // §4.3.1, RFC 8265 §4.3 example 12). Refusing it would also refuse addresses that other
    // PRECIS implementations accept.
    auto jid = Jid::parse("juliet@example.com/ foo");
    ASSERT_TRUE(jid);
    EXPECT_EQ(jid->resource(), " foo");
}

TEST(Jid, capital_sigma_matches_small_sigma_but_not_final_sigma) {
    // RFC 7622 §3.5, notes on examples 9, 10 and 11.
    EXPECT_EQ(Jid::parse("\u03A3@example.com/foo"), Jid::parse("\u03C3@example.com/foo"));
    EXPECT_NE(Jid::parse("\u03A3@example.com/foo"), Jid::parse("\u03C2@example.com/foo"));
    EXPECT_NE(Jid::parse("\u03C3@example.com/foo"), Jid::parse("\u03C2@example.com/foo"));
    EXPECT_EQ(parsed("\u039F\u0394\u039F\u03A3@example.com"),
              "\u03BF\u03B4\u03BF\u03C3@example.com");
}

TEST(Jid, domainpart_is_found_before_the_first_slash) {
    // RFC 7622 §3.2, example 15: the '@' after the '/' belongs to the resourcepart.
    auto jid = Jid::parse("a.example.com/b@example.net");
    ASSERT_TRUE(jid);
    EXPECT_FALSE(jid->has_local());
    EXPECT_EQ(jid->domain(), "a.example.com");
    EXPECT_EQ(jid->resource(), "b@example.net");
}

TEST(Jid, resourcepart_is_everything_after_the_first_slash) {
    auto jid = Jid::parse("juliet@example.com/foo/bar");
    ASSERT_TRUE(jid);
    EXPECT_EQ(jid->resource(), "foo/bar");
}

TEST(Jid, second_at_sign_makes_the_domainpart_malformed) {
    EXPECT_EQ(Jid::parse("a@b@example.com"), std::nullopt);
}

TEST(Jid, empty_parts_are_malformed) {
    EXPECT_EQ(Jid::parse(""), std::nullopt);
    EXPECT_EQ(Jid::parse("@example.com"), std::nullopt);
    EXPECT_EQ(Jid::parse("example.com/"), std::nullopt);
    EXPECT_EQ(Jid::parse("a@"), std::nullopt);
    EXPECT_EQ(Jid::parse("a@/r"), std::nullopt);
    EXPECT_EQ(Jid::parse("@"), std::nullopt);
}

// ---- Localpart ----

TEST(Jid, localpart_is_case_folded) {
    EXPECT_EQ(parsed("Juliet@Example.COM"), "juliet@example.com");
    EXPECT_EQ(Jid::parse("JULIET@example.com"), Jid::parse("juliet@example.com"));
}

TEST(Jid, fullwidth_localpart_is_width_mapped) {
    EXPECT_EQ(parsed("\uFF2A\uFF55\uFF4C\uFF49\uFF45\uFF54@example.com"), "juliet@example.com");
}

TEST(Jid, fullwidth_separator_in_localpart_is_refused_after_mapping) {
    // U+FF20 FULLWIDTH COMMERCIAL AT width-maps to '@' (RFC 7622 §3.1 implementation note,
    // §3.3.1).
    EXPECT_EQ(Jid::parse("a\uFF20b@example.com"), std::nullopt);
    EXPECT_EQ(Jid::parse("a\uFF0Fb@example.com"), std::nullopt);
}

TEST(Jid, localpart_refuses_the_characters_excluded_by_xmpp) {
    // RFC 7622 §3.3.1.
    for (const char* c : {"\"", "&", "'", ":", "<", ">"}) {
        EXPECT_EQ(Jid::parse(std::string{"a"} + c + "b@example.com"), std::nullopt) << c;
    }
    EXPECT_EQ(Jid::from_parts("a/b", "example.com", ""), std::nullopt);
    EXPECT_EQ(Jid::from_parts("a@b", "example.com", ""), std::nullopt);
}

TEST(Jid, rtl_localpart_is_accepted_when_it_satisfies_the_bidi_rule) {
    EXPECT_EQ(parsed("\u05E9\u05DC\u05D5\u05DD@example.com"),
              "\u05E9\u05DC\u05D5\u05DD@example.com");
}

TEST(Jid, localpart_mixing_directions_is_refused) {
    EXPECT_EQ(Jid::parse("\u05D0a@example.com"), std::nullopt);
    EXPECT_EQ(Jid::parse("a\u05D0@example.com"), std::nullopt);
}

// ---- Resourcepart ----

TEST(Jid, resource_keeps_case_and_spaces) {
    auto jid = Jid::parse("juliet@example.com/Balcony Door ");
    ASSERT_TRUE(jid);
    EXPECT_EQ(jid->resource(), "Balcony Door ");
}

TEST(Jid, resource_non_ascii_space_becomes_ascii_space) {
    EXPECT_EQ(parsed("juliet@example.com/foo\u00A0bar"), "juliet@example.com/foo bar");
}

TEST(Jid, resource_is_normalized_to_nfc) {
    EXPECT_EQ(parsed("juliet@example.com/e\u0301"), "juliet@example.com/\u00E9");
}

TEST(Jid, control_characters_are_refused_in_every_part) {
    EXPECT_EQ(Jid::parse("juliet@example.com/foo\nbar"), std::nullopt);
    EXPECT_EQ(Jid::parse("juliet@example.com/\t"), std::nullopt);
    EXPECT_EQ(Jid::parse("jul\x01iet@example.com"), std::nullopt);
    EXPECT_EQ(Jid::parse("juliet@exam\x7Fple.com"), std::nullopt);
    EXPECT_EQ(Jid::parse(std::string{"juliet@example.com/a\0b", 22}), std::nullopt);
}

TEST(Jid, invalid_utf8_is_refused_in_every_part) {
    EXPECT_EQ(Jid::parse("jul\xC3iet@example.com"), std::nullopt);
    EXPECT_EQ(Jid::parse("juliet@exa\xFFmple.com"), std::nullopt);
    EXPECT_EQ(Jid::parse("juliet@example.com/\xED\xA0\x80"), std::nullopt);
    EXPECT_EQ(Jid::parse("juliet@example.com/\xC0\xAF"), std::nullopt);
}

// ---- Size limits (RFC 7622 §3.1) ----

TEST(Jid, localpart_of_1023_octets_is_accepted_and_1024_refused) {
    EXPECT_TRUE(Jid::parse(std::string(1023, 'a') + "@example.com"));
    EXPECT_FALSE(Jid::parse(std::string(1024, 'a') + "@example.com"));
}

TEST(Jid, resourcepart_of_1023_octets_is_accepted_and_1024_refused) {
    EXPECT_TRUE(Jid::parse("example.com/" + std::string(1023, 'r')));
    EXPECT_FALSE(Jid::parse("example.com/" + std::string(1024, 'r')));
}

TEST(Jid, domainpart_of_1023_octets_is_accepted_and_1024_refused) {
    const std::string domain = domain_of_1023_octets();
    ASSERT_EQ(domain.size(), 1023u);
    EXPECT_EQ(parsed(domain), domain);
    // 15 labels of 63, one of 62 and one of 1: 1024 octets with every label legal.
    std::string longer;
    for (int i = 0; i < 15; ++i) longer += std::string(63, 'b') + '.';
    longer += std::string(62, 'b') + ".b";
    ASSERT_EQ(longer.size(), 1024u);
    EXPECT_EQ(Jid::parse(longer), std::nullopt);
}

TEST(Jid, size_limit_counts_octets_not_characters) {
    std::string local;
    for (int i = 0; i < 511; ++i) local += "\u00E9";  // two octets each
    EXPECT_TRUE(Jid::parse(local + "a@example.com"));
    EXPECT_FALSE(Jid::parse(local + "\u00E9@example.com"));
}

TEST(Jid, size_limit_applies_after_enforcement) {
    std::string fullwidth;
    for (int i = 0; i < 1023; ++i) fullwidth += "\uFF41";  // three octets, maps to 'a'
    auto jid = Jid::parse(fullwidth + "@example.com");
    ASSERT_TRUE(jid);
    EXPECT_EQ(jid->local(), std::string(1023, 'a'));
}

// ---- Domainpart ----

TEST(Jid, domainpart_is_lower_cased) {
    EXPECT_EQ(parsed("EXAMPLE.com"), "example.com");
}

TEST(Jid, one_trailing_dot_is_stripped_from_the_domainpart) {
    EXPECT_EQ(parsed("juliet@example.com./r"), "juliet@example.com/r");
    EXPECT_EQ(Jid::parse("juliet@example.com."), Jid::parse("juliet@example.com"));
    EXPECT_EQ(Jid::parse("juliet@example.com.."), std::nullopt);
    EXPECT_EQ(Jid::parse("."), std::nullopt);
    EXPECT_EQ(Jid::parse("juliet@./r"), std::nullopt);
}

TEST(Jid, empty_labels_are_refused) {
    EXPECT_EQ(Jid::parse("example..com"), std::nullopt);
    EXPECT_EQ(Jid::parse(".example.com"), std::nullopt);
}

TEST(Jid, a_label_becomes_a_u_label) {
    // RFC 7622 §3.2.1.
    EXPECT_EQ(parsed("juliet@xn--bcher-kva.example"), "juliet@b\u00FCcher.example");
    EXPECT_EQ(Jid::parse("juliet@xn--bcher-kva.example"), Jid::parse("juliet@B\u00DCcher.example"));
}

TEST(Jid, idn_domainpart_is_mapped_by_uts46) {
    EXPECT_EQ(parsed("B\u00DCCHER.example"), "b\u00FCcher.example");
    EXPECT_EQ(parsed("\uFF45\uFF58\uFF41\uFF4D\uFF50\uFF4C\uFF45.com"), "example.com");
    // Nontransitional: sharp s is kept, not turned into "ss".
    EXPECT_EQ(parsed("fa\u00DF.example"), "fa\u00DF.example");
}

TEST(Jid, label_longer_than_63_octets_is_refused) {
    EXPECT_TRUE(Jid::parse(std::string(63, 'a') + ".com"));
    EXPECT_FALSE(Jid::parse(std::string(64, 'a') + ".com"));
    // A U-label is measured in its A-label form: this one is 61 octets of UTF-8 but 70 as an
    // A-label, because alternating CJK and Latin letters make long Punycode deltas.
    const std::string label =
        "a\u4E00\u00E1\u55D0\u00E3\u5DA0\u00E5\u6570\u00E7\u6D40\u00E9\u7510\u00EB"
        "\u7CE0\u00ED\u84B0\u00EF\u8C80\u00F1\u9450\u00F3\u9C20\u00F5\uA3F0\u00F8";
    ASSERT_EQ(label.size(), 61u);
    EXPECT_FALSE(Jid::parse(label + ".example"));
    EXPECT_TRUE(Jid::parse(label.substr(0, 31) + ".example"));  // "a" and six CJK-Latin pairs
}

TEST(Jid, domainpart_breaking_std3_or_hyphen_rules_is_refused) {
    EXPECT_EQ(Jid::parse("exa mple.com"), std::nullopt);
    EXPECT_EQ(Jid::parse("-example.com"), std::nullopt);
    EXPECT_EQ(Jid::parse("example-.com"), std::nullopt);
    EXPECT_EQ(Jid::parse("ex*ample.com"), std::nullopt);
    EXPECT_EQ(Jid::parse("xn--invalid-punycode-\u00FC.com"), std::nullopt);
}

TEST(Jid, domainpart_breaking_the_bidi_rule_is_refused) {
    EXPECT_EQ(Jid::parse("\u05D0a.example"), std::nullopt);
    EXPECT_EQ(parsed("\u05D0\u05D1.example"), "\u05D0\u05D1.example");
}

TEST(Jid, ipv4_literal_is_accepted_as_is) {
    EXPECT_EQ(parsed("juliet@192.0.2.1/r"), "juliet@192.0.2.1/r");
    EXPECT_EQ(parsed("255.255.255.255"), "255.255.255.255");
}

TEST(Jid, ipv6_literal_is_accepted_in_canonical_form) {
    EXPECT_EQ(parsed("juliet@[::1]/r"), "juliet@[::1]/r");
    EXPECT_EQ(parsed("[2001:DB8:0:0:0:0:0:1]"), "[2001:db8::1]");
    EXPECT_EQ(Jid::parse("[2001:db8::1]"), Jid::parse("[2001:0db8::0:1]"));
}

TEST(Jid, malformed_ip_literal_is_refused) {
    EXPECT_EQ(Jid::parse("[::1"), std::nullopt);
    EXPECT_EQ(Jid::parse("[]"), std::nullopt);
    EXPECT_EQ(Jid::parse("[example.com]"), std::nullopt);
    EXPECT_EQ(Jid::parse("[192.0.2.1]"), std::nullopt);
    EXPECT_EQ(Jid::parse("[fe80::1%25eth0]"), std::nullopt);
    EXPECT_EQ(Jid::parse("[::1]x"), std::nullopt);
}

// ---- Accessors, BareJid, building ----

TEST(Jid, parts_are_exposed_separately) {
    auto jid = Jid::parse("Juliet@Example.com/Balcony");
    ASSERT_TRUE(jid);
    EXPECT_EQ(jid->local(), "juliet");
    EXPECT_EQ(jid->domain(), "example.com");
    EXPECT_EQ(jid->resource(), "Balcony");
    EXPECT_TRUE(jid->has_local());
    EXPECT_TRUE(jid->has_resource());
    EXPECT_FALSE(jid->is_bare());
    EXPECT_FALSE(jid->is_domain());

    auto domain = Jid::parse("example.com");
    ASSERT_TRUE(domain);
    EXPECT_EQ(domain->local(), "");
    EXPECT_EQ(domain->domain(), "example.com");
    EXPECT_EQ(domain->resource(), "");
    EXPECT_TRUE(domain->is_domain());
    EXPECT_TRUE(domain->is_bare());
}

TEST(Jid, bare_drops_the_resource) {
    auto jid = Jid::parse("juliet@example.com/balcony");
    ASSERT_TRUE(jid);
    const BareJid bare = jid->bare();
    EXPECT_EQ(bare.str(), "juliet@example.com");
    EXPECT_EQ(bare.local(), "juliet");
    EXPECT_EQ(bare.domain(), "example.com");
    EXPECT_TRUE(bare.jid().is_bare());
    EXPECT_EQ(Jid::parse("example.com/r")->bare().str(), "example.com");
}

TEST(BareJid, parse_refuses_a_resource) {
    EXPECT_EQ(BareJid::parse("juliet@example.com/balcony"), std::nullopt);
    auto bare = BareJid::parse("Juliet@Example.com");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->str(), "juliet@example.com");
    EXPECT_TRUE(bare->has_local());
    EXPECT_EQ(BareJid::parse("not a jid"), std::nullopt);
}

TEST(Jid, with_resource_enforces_the_new_resource) {
    auto jid = Jid::parse("juliet@example.com/balcony");
    ASSERT_TRUE(jid);
    EXPECT_EQ(jid->with_resource("Garden\u00A0Gate")->str(), "juliet@example.com/Garden Gate");
    EXPECT_EQ(jid->with_resource(""), std::nullopt);
    EXPECT_EQ(jid->with_resource("a\tb"), std::nullopt);
    EXPECT_EQ(jid->with_resource(std::string(1024, 'r')), std::nullopt);
    auto bare = BareJid::parse("juliet@example.com");
    ASSERT_TRUE(bare);
    auto full = bare->with_resource("phone");
    ASSERT_TRUE(full);
    EXPECT_EQ(full->str(), "juliet@example.com/phone");
    EXPECT_EQ(full->resource(), "phone");
    EXPECT_EQ(full->bare(), *bare);
}

TEST(Jid, from_parts_enforces_each_part) {
    auto jid = Jid::from_parts("Juliet", "Example.COM.", "Balcony");
    ASSERT_TRUE(jid);
    EXPECT_EQ(jid->str(), "juliet@example.com/Balcony");
    EXPECT_EQ(Jid::from_parts("", "example.com", "")->str(), "example.com");
    EXPECT_EQ(Jid::from_parts("juliet", "", "r"), std::nullopt);
    EXPECT_EQ(Jid::from_parts("juliet", "example.com/x", ""), std::nullopt);
    EXPECT_EQ(Jid::from_parts("foo bar", "example.com", ""), std::nullopt);
    EXPECT_EQ(Jid::from_parts("juliet", "example.com", "a/b@c")->resource(), "a/b@c");
}

TEST(Jid, equal_addresses_compare_and_hash_equal) {
    auto a = Jid::parse("JULIET@EXAMPLE.COM./Balcony");
    auto b = Jid::parse("juliet@example.com/Balcony");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(*a, *b);
    EXPECT_EQ(std::hash<Jid>{}(*a), std::hash<Jid>{}(*b));
    std::unordered_set<BareJid> set{a->bare()};
    EXPECT_TRUE(set.contains(b->bare()));
    EXPECT_NE(*Jid::parse("juliet@example.com/balcony"), *b);  // resources keep case
    EXPECT_LT(*Jid::parse("a@example.com"), *Jid::parse("b@example.com"));
}

}  // namespace
}  // namespace starling::xmpp
