#include "xmpp/precis.hpp"

#include <gtest/gtest.h>

#include <string>

namespace starling::xmpp::precis {
namespace {

// ---- UsernameCaseMapped (RFC 8265 §3.3) ----

TEST(UsernameCaseMapped, rfc8265_legal_userparts_are_accepted) {
    // RFC 8265 §3.6, Table 1.
    EXPECT_EQ(username_case_mapped("juliet@example.com"), "juliet@example.com");
    EXPECT_EQ(username_case_mapped("fussball"), "fussball");
    EXPECT_EQ(username_case_mapped("fu\u00DFball"), "fu\u00DFball");
    EXPECT_EQ(username_case_mapped("\u03C0"), "\u03C0");
    EXPECT_EQ(username_case_mapped("\u03A3"), "\u03C3");
    EXPECT_EQ(username_case_mapped("\u03C3"), "\u03C3");
    EXPECT_EQ(username_case_mapped("\u03C2"), "\u03C2");
}

TEST(UsernameCaseMapped, rfc8265_illegal_userparts_are_refused) {
    // RFC 8265 §3.6, Table 2.
    EXPECT_EQ(username_case_mapped("foo bar"), std::nullopt);
    EXPECT_EQ(username_case_mapped(""), std::nullopt);
    EXPECT_EQ(username_case_mapped("henry\u2163"), std::nullopt);
    EXPECT_EQ(username_case_mapped("\u221E"), std::nullopt);
}

TEST(UsernameCaseMapped, sharp_s_is_not_folded_to_ss) {
    EXPECT_NE(username_case_mapped("fu\u00DFball"), username_case_mapped("fussball"));
}

TEST(UsernameCaseMapped, capital_sigma_maps_to_small_sigma_even_at_the_end_of_a_word) {
    // The Final_Sigma context is not applied (RFC 8265 §3.6: PRECIS gives final sigma no
    // special status), so the mapping does not depend on where the sigma stands.
    EXPECT_EQ(username_case_mapped("\u039F\u0394\u039F\u03A3"), "\u03BF\u03B4\u03BF\u03C3");
    EXPECT_EQ(username_case_mapped("\u03BF\u03B4\u03BF\u03C2"), "\u03BF\u03B4\u03BF\u03C2");
}

TEST(UsernameCaseMapped, fullwidth_and_halfwidth_forms_are_width_mapped) {
    EXPECT_EQ(username_case_mapped("\uFF2A\uFF55\uFF4C\uFF49\uFF45\uFF54"), "juliet");
    EXPECT_EQ(username_case_mapped("\uFF76"), "\u30AB");  // HALFWIDTH KATAKANA LETTER KA
}

TEST(UsernameCaseMapped, upper_and_title_case_are_lower_cased) {
    EXPECT_EQ(username_case_mapped("JuLiEt"), "juliet");
    EXPECT_EQ(username_case_mapped("\u00C9MILE"), "\u00E9mile");
    // Full mapping: U+0130 becomes "i" + COMBINING DOT ABOVE.
    EXPECT_EQ(username_case_mapped("\u0130"), "i\u0307");
}

TEST(UsernameCaseMapped, output_is_nfc) {
    EXPECT_EQ(username_case_mapped("e\u0301"), "\u00E9");
}

TEST(UsernameCaseMapped, printable_ascii_is_allowed) {
    EXPECT_EQ(username_case_mapped("!#$%()*+,-.;=?[\\]^_`{|}~"), "!#$%()*+,-.;=?[\\]^_`{|}~");
}

TEST(UsernameCaseMapped, spaces_symbols_and_punctuation_outside_ascii_are_refused) {
    EXPECT_EQ(username_case_mapped("a\u00A0b"), std::nullopt);  // NO-BREAK SPACE
    EXPECT_EQ(username_case_mapped("\u2665"), std::nullopt);     // BLACK HEART SUIT
    EXPECT_EQ(username_case_mapped("a\u00BFb"), std::nullopt);   // INVERTED QUESTION MARK
}

TEST(UsernameCaseMapped, compatibility_characters_are_refused) {
    EXPECT_EQ(username_case_mapped("\uFB01"), std::nullopt);  // LATIN SMALL LIGATURE FI
    EXPECT_EQ(username_case_mapped("x\u00B2"), std::nullopt);  // SUPERSCRIPT TWO
    // LATIN CAPITAL LETTER D WITH SMALL LETTER Z WITH CARON lower-cases to a digraph that
    // NFKC still splits.
    EXPECT_EQ(username_case_mapped("\u01C5"), std::nullopt);
}

TEST(UsernameCaseMapped, hebrew_username_satisfies_the_bidi_rule) {
    EXPECT_EQ(username_case_mapped("\u05E9\u05DC\u05D5\u05DD"), "\u05E9\u05DC\u05D5\u05DD");
    EXPECT_EQ(username_case_mapped("\u05D0\u05D1" "12"), "\u05D0\u05D1" "12");
}

TEST(UsernameCaseMapped, mixing_left_to_right_and_right_to_left_letters_is_refused) {
    EXPECT_EQ(username_case_mapped("abc\u05D0"), std::nullopt);  // RFC 5893 rule 5
    EXPECT_EQ(username_case_mapped("\u05D0abc"), std::nullopt);  // rule 2
}

TEST(UsernameCaseMapped, rtl_string_must_not_start_with_a_digit) {
    EXPECT_EQ(username_case_mapped("1\u05D0"), std::nullopt);  // RFC 5893 rule 1
}

TEST(UsernameCaseMapped, rtl_string_must_end_with_an_rtl_letter_or_digit) {
    EXPECT_EQ(username_case_mapped("\u05D0!"), std::nullopt);  // RFC 5893 rule 3
}

TEST(UsernameCaseMapped, rtl_string_must_not_mix_european_and_arabic_digits) {
    // RFC 5893 rule 4: ARABIC LETTER BEH, ARABIC-INDIC DIGIT ONE, DIGIT TWO.
    EXPECT_EQ(username_case_mapped("\u0628\u0661"), "\u0628\u0661");
    EXPECT_EQ(username_case_mapped("\u0628\u06612"), std::nullopt);
}

TEST(UsernameCaseMapped, controls_ignorables_and_unassigned_code_points_are_refused) {
    EXPECT_EQ(username_case_mapped("a\tb"), std::nullopt);
    EXPECT_EQ(username_case_mapped(std::string{"a\0b", 3}), std::nullopt);
    EXPECT_EQ(username_case_mapped("a\u00ADb"), std::nullopt);       // SOFT HYPHEN
    EXPECT_EQ(username_case_mapped("a\u034F"), std::nullopt);        // COMBINING GRAPHEME JOINER
    EXPECT_EQ(username_case_mapped("a\uFE00"), std::nullopt);        // VARIATION SELECTOR-1
    EXPECT_EQ(username_case_mapped("a\uFDD0"), std::nullopt);        // noncharacter
    EXPECT_EQ(username_case_mapped("a\u0378"), std::nullopt);        // unassigned
    EXPECT_EQ(username_case_mapped("a\uE000"), std::nullopt);        // private use
    EXPECT_EQ(username_case_mapped("\u1113\u1161"), std::nullopt);   // old Hangul jamo
    EXPECT_EQ(username_case_mapped("\u1100"), std::nullopt);          // lone conjoining jamo
}

TEST(UsernameCaseMapped, string_class_is_checked_after_normalization) {
    // RFC 8264 §7: the behavioural rules come last, so jamo that NFC composes into a
    // syllable are accepted as that syllable, and OHM SIGN is accepted as omega.
    EXPECT_EQ(username_case_mapped("\u1100\u1161"), "\uAC00");
    EXPECT_EQ(username_case_mapped("\u2126"), "\u03C9");
}

TEST(UsernameCaseMapped, invalid_utf8_is_refused) {
    EXPECT_EQ(username_case_mapped("a\xC3\x28"), std::nullopt);          // bad continuation
    EXPECT_EQ(username_case_mapped("\xC0\xAF"), std::nullopt);           // overlong '/'
    EXPECT_EQ(username_case_mapped("\xED\xA0\x80"), std::nullopt);       // surrogate D800
    EXPECT_EQ(username_case_mapped("\xF4\x90\x80\x80"), std::nullopt);   // above U+10FFFF
    EXPECT_EQ(username_case_mapped("\xE2\x82"), std::nullopt);           // truncated
    EXPECT_EQ(username_case_mapped("\xFF"), std::nullopt);
}

TEST(UsernameCaseMapped, exceptions_table_overrides_general_category) {
    // RFC 5892 §2.6: ARABIC TATWEEL is Lm but DISALLOWED; KATAKANA MIDDLE DOT and the
    // others need their contextual rule.
    EXPECT_EQ(username_case_mapped("\u0628\u0640\u0628"), std::nullopt);
    EXPECT_EQ(username_case_mapped("\u3007"), "\u3007");  // IDEOGRAPHIC NUMBER ZERO (Nl)
}

TEST(UsernameCaseMapped, middle_dot_is_allowed_only_between_two_l) {
    EXPECT_EQ(username_case_mapped("col\u00B7lega"), "col\u00B7lega");
    EXPECT_EQ(username_case_mapped("a\u00B7b"), std::nullopt);
}

TEST(UsernameCaseMapped, zero_width_joiners_need_a_virama_or_joining_context) {
    // DEVANAGARI KA, VIRAMA, ZWNJ/ZWJ, SSA.
    EXPECT_EQ(username_case_mapped("\u0915\u094D\u200C\u0937"), "\u0915\u094D\u200C\u0937");
    EXPECT_EQ(username_case_mapped("\u0915\u094D\u200D\u0937"), "\u0915\u094D\u200D\u0937");
    // ARABIC BEH (dual joining), ZWNJ, BEH: the Persian joining rule.
    EXPECT_EQ(username_case_mapped("\u0628\u200C\u0628"), "\u0628\u200C\u0628");
    EXPECT_EQ(username_case_mapped("a\u200Cb"), std::nullopt);
    EXPECT_EQ(username_case_mapped("a\u200Db"), std::nullopt);
}

TEST(UsernameCaseMapped, greek_keraia_must_precede_a_greek_letter) {
    EXPECT_EQ(username_case_mapped("\u0375\u03B1"), "\u0375\u03B1");
    EXPECT_EQ(username_case_mapped("\u0375a"), std::nullopt);
    EXPECT_EQ(username_case_mapped("\u03B1\u0375"), std::nullopt);
}

TEST(UsernameCaseMapped, hebrew_geresh_must_follow_a_hebrew_letter) {
    EXPECT_EQ(username_case_mapped("\u05D0\u05F3"), "\u05D0\u05F3");
    // OpaqueString has no bidi rule, so only the contextual rule can refuse these.
    EXPECT_EQ(opaque_string("a\u05F3"), std::nullopt);
    EXPECT_EQ(opaque_string("\u05F3"), std::nullopt);
}

TEST(UsernameCaseMapped, katakana_middle_dot_needs_japanese_script_in_the_string) {
    EXPECT_EQ(username_case_mapped("\u30AB\u30FB\u30AB"), "\u30AB\u30FB\u30AB");
    EXPECT_EQ(username_case_mapped("a\u30FBb"), std::nullopt);
}

TEST(UsernameCaseMapped, arabic_indic_and_extended_digits_cannot_be_mixed) {
    EXPECT_EQ(username_case_mapped("\u0628\u0661\u0662"), "\u0628\u0661\u0662");
    EXPECT_EQ(username_case_mapped("\u0628\u06F1\u06F2"), "\u0628\u06F1\u06F2");
    EXPECT_EQ(username_case_mapped("\u0628\u0661\u06F2"), std::nullopt);
    EXPECT_EQ(opaque_string("\u0661\u06F2"), std::nullopt);  // no bidi rule to hide behind
    EXPECT_EQ(opaque_string("\u06F2\u0661"), std::nullopt);
}

// ---- OpaqueString (RFC 8265 §4.2) ----

TEST(OpaqueString, rfc8265_legal_passwords_are_accepted) {
    // RFC 8265 §4.3, Table 3.
    EXPECT_EQ(opaque_string("correct horse battery staple"), "correct horse battery staple");
    EXPECT_EQ(opaque_string("Correct Horse Battery Staple"), "Correct Horse Battery Staple");
    EXPECT_EQ(opaque_string("\u03C0\u00DF\u00E5"), "\u03C0\u00DF\u00E5");
    EXPECT_EQ(opaque_string("Jack of \u2666s"), "Jack of \u2666s");
    EXPECT_EQ(opaque_string("foo\u1680bar"), "foo bar");  // OGHAM SPACE MARK
}

TEST(OpaqueString, rfc8265_illegal_passwords_are_refused) {
    // RFC 8265 §4.3, Table 4.
    EXPECT_EQ(opaque_string(""), std::nullopt);
    EXPECT_EQ(opaque_string("my cat is a \tby"), std::nullopt);
}

TEST(OpaqueString, case_and_width_are_preserved) {
    EXPECT_EQ(opaque_string("Balcony"), "Balcony");
    EXPECT_EQ(opaque_string("\uFF21"), "\uFF21");  // FULLWIDTH LATIN CAPITAL LETTER A
}

TEST(OpaqueString, leading_and_trailing_spaces_are_kept) {
    EXPECT_EQ(opaque_string(" foo "), " foo ");
    EXPECT_EQ(opaque_string("\u3000foo"), " foo");  // IDEOGRAPHIC SPACE
}

TEST(OpaqueString, output_is_nfc_not_nfkc) {
    EXPECT_EQ(opaque_string("e\u0301"), "\u00E9");
    EXPECT_EQ(opaque_string("\u2163"), "\u2163");  // ROMAN NUMERAL FOUR stays
}

TEST(OpaqueString, bidi_rule_does_not_apply) {
    EXPECT_EQ(opaque_string("abc\u05D0"), "abc\u05D0");
}

TEST(OpaqueString, controls_and_private_use_are_refused) {
    EXPECT_EQ(opaque_string("a\nb"), std::nullopt);
    EXPECT_EQ(opaque_string("a\x7F"), std::nullopt);
    EXPECT_EQ(opaque_string("\uE000"), std::nullopt);
    EXPECT_EQ(opaque_string("a\u200Bb"), std::nullopt);  // ZERO WIDTH SPACE is ignorable
    EXPECT_EQ(opaque_string("\u3164"), std::nullopt);    // HANGUL FILLER, ignorable though Lo
    // RFC 8264 §9.13: variation selectors are ignorable, so the emoji presentation selector
    // is refused even after a symbol the FreeformClass allows.
    EXPECT_EQ(opaque_string("\u2764\uFE0F"), std::nullopt);
    EXPECT_EQ(opaque_string("\u2764"), "\u2764");
}

TEST(OpaqueString, invalid_utf8_is_refused) {
    EXPECT_EQ(opaque_string("abc\x80"), std::nullopt);
}

// ---- Nickname (RFC 8266) ----

TEST(Nickname, rfc8266_examples_give_the_documented_comparison_form) {
    // RFC 8266 §3, Table 1.
    EXPECT_EQ(nickname_for_comparison("Foo"), "foo");
    EXPECT_EQ(nickname_for_comparison("foo"), "foo");
    EXPECT_EQ(nickname_for_comparison("Foo Bar"), "foo bar");
    EXPECT_EQ(nickname_for_comparison("foo bar"), "foo bar");
    EXPECT_EQ(nickname_for_comparison("\u03A3"), "\u03C3");
    EXPECT_EQ(nickname_for_comparison("\u03C3"), "\u03C3");
    EXPECT_EQ(nickname_for_comparison("\u03C2"), "\u03C2");
    EXPECT_EQ(nickname_for_comparison("\u03D4"), "\u03CB");  // needs a second pass
    EXPECT_EQ(nickname_for_comparison("\u221E"), "\u221E");
    EXPECT_EQ(nickname_for_comparison("Richard \u2163"), "richard iv");
}

TEST(Nickname, enforcement_keeps_case_but_applies_nfkc) {
    // RFC 8266 §2.3: the case mapping rule is for comparison only.
    EXPECT_EQ(nickname("Foo Bar"), "Foo Bar");
    EXPECT_EQ(nickname("Richard \u2163"), "Richard IV");
    EXPECT_EQ(nickname("\u03D4"), "\u03AB");
    EXPECT_EQ(nickname("\uFF33\uFF54"), "St");  // width mapping comes from NFKC
}

TEST(Nickname, spaces_are_trimmed_and_collapsed) {
    // RFC 8266 §2.1 rule 2.
    EXPECT_EQ(nickname("stpeter "), "stpeter");
    EXPECT_EQ(nickname("  stpeter"), "stpeter");
    EXPECT_EQ(nickname("St  Peter"), "St Peter");
    EXPECT_EQ(nickname("St\u2003\u00A0Peter"), "St Peter");  // EM SPACE, NO-BREAK SPACE
}

TEST(Nickname, nickname_that_maps_to_nothing_is_refused) {
    EXPECT_EQ(nickname(""), std::nullopt);
    EXPECT_EQ(nickname("   "), std::nullopt);
    EXPECT_EQ(nickname("\u3000"), std::nullopt);
}

TEST(Nickname, case_variants_conflict_but_final_sigma_does_not) {
    EXPECT_EQ(nickname_for_comparison("StPeter"), nickname_for_comparison("stpeter"));
    EXPECT_EQ(nickname_for_comparison("\u03A3"), nickname_for_comparison("\u03C3"));
    EXPECT_NE(nickname_for_comparison("\u03A3"), nickname_for_comparison("\u03C2"));
}

TEST(Nickname, controls_and_invalid_utf8_are_refused) {
    EXPECT_EQ(nickname("a\tb"), std::nullopt);
    EXPECT_EQ(nickname("\xC3"), std::nullopt);
    EXPECT_EQ(nickname_for_comparison("a\x01"), std::nullopt);
}

}  // namespace
}  // namespace starling::xmpp::precis

// The printable-ASCII shortcut must give exactly what the full rules give, for every ASCII
// character alone, every pair of a varied set, and many random strings.
namespace starling::xmpp::precis {
namespace {

void expect_same(const std::string& s) {
    EXPECT_EQ(username_case_mapped(s), detail::username_case_mapped_full(s)) << "username \"" << s << "\"";
    EXPECT_EQ(opaque_string(s), detail::opaque_string_full(s)) << "opaque \"" << s << "\"";
}

TEST(PrecisAsciiShortcut, EveryAsciiCharacterAlone) {
    for (int c = 0; c < 128; ++c) expect_same(std::string(1, static_cast<char>(c)));
    expect_same("");
}

TEST(PrecisAsciiShortcut, PairsAndRandomStrings) {
    const std::string set = " !\"#&'/:<>@AZaz09_-.~\x7f\t";
    for (char a : set)
        for (char b : set) expect_same(std::string{a, b});
    std::uint32_t seed = 12345;
    for (int i = 0; i < 20000; ++i) {
        std::string s;
        int length = 1 + static_cast<int>(seed % 24);
        for (int k = 0; k < length; ++k) {
            seed = seed * 1664525u + 1013904223u;
            s += static_cast<char>(0x20 + (seed >> 24) % 0x5f);
        }
        expect_same(s);
    }
    expect_same("  leading and trailing  ");
    expect_same("MiXeD.Case-User_123");
}

}  // namespace
}  // namespace starling::xmpp::precis
