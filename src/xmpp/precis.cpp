#include "xmpp/precis.hpp"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>

#include <cstdint>
#include <stdexcept>

namespace starling::xmpp::precis {
namespace {

// Code points, so that the contextual rules can look at neighbours by index.
using Text = std::u32string;

// RFC 8264 §8: the values of the derived property. ID_PVAL and FREE_DIS are never produced.
enum class Derived { pvalid, free_pval, contextj, contexto, disallowed, unassigned };

enum class StringClass { identifier, freeform };
enum class Normalization { nfc, nfkc };

// The rules of one profile (RFC 8264 §5.2), applied in the order of RFC 8264 §7.
struct Profile {
    bool width_mapping = false;
    bool map_non_ascii_spaces = false;
    bool trim_and_collapse_spaces = false;  // RFC 8266 §2.1 rules 2b and 2c
    bool lower_case = false;
    Normalization normalization = Normalization::nfc;
    bool bidi_rule = false;
    StringClass string_class = StringClass::freeform;
};

const icu::Normalizer2& normalizer(Normalization form) {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* n = form == Normalization::nfc
                                    ? icu::Normalizer2::getNFCInstance(status)
                                    : icu::Normalizer2::getNFKCInstance(status);
    if (U_FAILURE(status) || n == nullptr) {
        throw std::runtime_error{"ICU normalization data is missing"};
    }
    return *n;
}

Text to_text(const icu::UnicodeString& s) {
    Text out;
    out.reserve(static_cast<std::size_t>(s.length()));
    for (int32_t i = 0; i < s.length(); i = s.moveIndex32(i, 1)) {
        out.push_back(static_cast<char32_t>(s.char32At(i)));
    }
    return out;
}

icu::UnicodeString to_unicode_string(const Text& text) {
    icu::UnicodeString out;
    for (char32_t c : text) out.append(static_cast<UChar32>(c));
    return out;
}

// Ill-formed UTF-8 (overlong forms, encoded surrogates, truncated sequences, values above
// U+10FFFF) is refused rather than replaced with U+FFFD, which would change the string.
std::optional<Text> decode(std::string_view utf8) {
    if (utf8.empty()) return Text{};
    if (utf8.size() > static_cast<std::size_t>(INT32_MAX)) return std::nullopt;
    UErrorCode status = U_ZERO_ERROR;
    int32_t length = 0;
    const auto size = static_cast<int32_t>(utf8.size());
    u_strFromUTF8(nullptr, 0, &length, utf8.data(), size, &status);
    if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) return std::nullopt;
    icu::UnicodeString s;
    status = U_ZERO_ERROR;
    u_strFromUTF8(s.getBuffer(length), length, &length, utf8.data(), size, &status);
    s.releaseBuffer(U_SUCCESS(status) ? length : 0);
    if (U_FAILURE(status)) return std::nullopt;
    return to_text(s);
}

std::string encode(const Text& text) {
    std::string out;
    to_unicode_string(text).toUTF8String(out);
    return out;
}

// RFC 5892 §2.6, included by RFC 8264 §9.6.
std::optional<Derived> exception_value(char32_t c) {
    switch (c) {
    case 0x00DF: case 0x03C2: case 0x06FD: case 0x06FE: case 0x0F0B: case 0x3007:
        return Derived::pvalid;
    case 0x00B7: case 0x0375: case 0x05F3: case 0x05F4: case 0x30FB:
        return Derived::contexto;
    case 0x0640: case 0x07FA: case 0x302E: case 0x302F: case 0x303B:
        return Derived::disallowed;
    default:
        break;
    }
    if ((c >= 0x0660 && c <= 0x0669) || (c >= 0x06F0 && c <= 0x06F9)) return Derived::contexto;
    if (c >= 0x3031 && c <= 0x3035) return Derived::disallowed;
    return std::nullopt;
}

// RFC 8264 §9.17: toNFKC(cp) != cp.
bool has_compat(char32_t c) {
    UErrorCode status = U_ZERO_ERROR;
    const bool normalized = normalizer(Normalization::nfkc)
                                .isNormalized(icu::UnicodeString{static_cast<UChar32>(c)}, status);
    return U_FAILURE(status) || !normalized;
}

// RFC 8264 §8: the order of these tests is normative.
Derived derived_property(char32_t c) {
    const auto cp = static_cast<UChar32>(c);
    if (auto value = exception_value(c)) return *value;
    // RFC 5892 §2.7: BackwardCompatible is empty.
    const auto category = static_cast<UCharCategory>(u_charType(cp));
    const bool noncharacter = u_hasBinaryProperty(cp, UCHAR_NONCHARACTER_CODE_POINT);
    if (category == U_UNASSIGNED && !noncharacter) return Derived::unassigned;  // RFC 5892 §2.10
    if (c >= 0x21 && c <= 0x7E) return Derived::pvalid;                          // §9.11
    if (u_hasBinaryProperty(cp, UCHAR_JOIN_CONTROL)) return Derived::contextj;   // §9.8
    const auto jamo = u_getIntPropertyValue(cp, UCHAR_HANGUL_SYLLABLE_TYPE);    // RFC 5892 §2.9
    if (jamo == U_HST_LEADING_JAMO || jamo == U_HST_VOWEL_JAMO || jamo == U_HST_TRAILING_JAMO) {
        return Derived::disallowed;
    }
    if (noncharacter || u_hasBinaryProperty(cp, UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) {
        return Derived::disallowed;  // §9.13
    }
    if (category == U_CONTROL_CHAR) return Derived::disallowed;  // §9.12
    if (has_compat(c)) return Derived::free_pval;
    switch (category) {
    case U_LOWERCASE_LETTER: case U_UPPERCASE_LETTER: case U_OTHER_LETTER:
    case U_DECIMAL_DIGIT_NUMBER: case U_MODIFIER_LETTER: case U_NON_SPACING_MARK:
    case U_COMBINING_SPACING_MARK:
        return Derived::pvalid;  // LetterDigits, RFC 5892 §2.1
    case U_TITLECASE_LETTER: case U_LETTER_NUMBER: case U_OTHER_NUMBER: case U_ENCLOSING_MARK:
    case U_SPACE_SEPARATOR:
    case U_MATH_SYMBOL: case U_CURRENCY_SYMBOL: case U_MODIFIER_SYMBOL: case U_OTHER_SYMBOL:
    case U_CONNECTOR_PUNCTUATION: case U_DASH_PUNCTUATION: case U_START_PUNCTUATION:
    case U_END_PUNCTUATION: case U_INITIAL_PUNCTUATION: case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
        return Derived::free_pval;  // §9.18, §9.14, §9.15, §9.16
    default:
        return Derived::disallowed;
    }
}

UScriptCode script_of(char32_t c) {
    UErrorCode status = U_ZERO_ERROR;
    const UScriptCode script = uscript_getScript(static_cast<UChar32>(c), &status);
    return U_SUCCESS(status) ? script : USCRIPT_INVALID_CODE;
}

bool is_virama(char32_t c) { return u_getCombiningClass(static_cast<UChar32>(c)) == 9; }

int32_t joining_type(char32_t c) {
    return u_getIntPropertyValue(static_cast<UChar32>(c), UCHAR_JOINING_TYPE);
}

// RFC 5892 Appendix A.1: (Joining_Type:{L,D})(Joining_Type:T)*\u200C(Joining_Type:T)*
// (Joining_Type:{R,D}).
bool zwnj_joins(const Text& s, std::size_t i) {
    std::size_t before = i;
    while (before > 0 && joining_type(s[before - 1]) == U_JT_TRANSPARENT) --before;
    if (before == 0) return false;
    const auto left = joining_type(s[before - 1]);
    if (left != U_JT_LEFT_JOINING && left != U_JT_DUAL_JOINING) return false;
    std::size_t after = i + 1;
    while (after < s.size() && joining_type(s[after]) == U_JT_TRANSPARENT) ++after;
    if (after == s.size()) return false;
    const auto right = joining_type(s[after]);
    return right == U_JT_RIGHT_JOINING || right == U_JT_DUAL_JOINING;
}

bool contains_in_range(const Text& s, char32_t first, char32_t last) {
    for (char32_t c : s) {
        if (c >= first && c <= last) return true;
    }
    return false;
}

// RFC 5892 Appendix A: the CONTEXTJ and CONTEXTO rules (RFC 8264 §8, CONTEXTUAL RULE
// REQUIRED). A code point without a rule is refused.
bool context_allows(const Text& s, std::size_t i) {
    const char32_t before = i > 0 ? s[i - 1] : 0;
    const char32_t after = i + 1 < s.size() ? s[i + 1] : 0;
    switch (s[i]) {
    case 0x200C:  // A.1 ZERO WIDTH NON-JOINER
        return (i > 0 && is_virama(before)) || zwnj_joins(s, i);
    case 0x200D:  // A.2 ZERO WIDTH JOINER
        return i > 0 && is_virama(before);
    case 0x00B7:  // A.3 MIDDLE DOT, only in Catalan "l·l"
        return before == 'l' && after == 'l';
    case 0x0375:  // A.4 GREEK LOWER NUMERAL SIGN (KERAIA)
        return i + 1 < s.size() && script_of(after) == USCRIPT_GREEK;
    case 0x05F3:  // A.5 HEBREW PUNCTUATION GERESH
    case 0x05F4:  // A.6 HEBREW PUNCTUATION GERSHAYIM
        return i > 0 && script_of(before) == USCRIPT_HEBREW;
    case 0x30FB:  // A.7 KATAKANA MIDDLE DOT
        for (char32_t c : s) {
            const auto script = script_of(c);
            if (script == USCRIPT_HIRAGANA || script == USCRIPT_KATAKANA ||
                script == USCRIPT_HAN) {
                return true;
            }
        }
        return false;
    default:
        break;
    }
    if (s[i] >= 0x0660 && s[i] <= 0x0669) return !contains_in_range(s, 0x06F0, 0x06F9);  // A.8
    if (s[i] >= 0x06F0 && s[i] <= 0x06F9) return !contains_in_range(s, 0x0660, 0x0669);  // A.9
    return false;
}

// RFC 8264 §4.2 (IdentifierClass) and §4.3 (FreeformClass).
bool in_string_class(const Text& s, StringClass string_class) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        switch (derived_property(s[i])) {
        case Derived::pvalid:
            break;
        case Derived::free_pval:
            if (string_class == StringClass::identifier) return false;
            break;
        case Derived::contextj:
        case Derived::contexto:
            if (!context_allows(s, i)) return false;
            break;
        case Derived::disallowed:
        case Derived::unassigned:
            return false;
        }
    }
    return true;
}

// RFC 5893 §2: the six conditions of the Bidi Rule, for a string that has an RTL code point
// (R, AL or AN, RFC 5893 §1.4); strings without one are left alone (RFC 8265 §3.3.1 rule 5).
bool satisfies_bidi_rule(const Text& s) {
    auto direction = [](char32_t c) { return u_charDirection(static_cast<UChar32>(c)); };
    bool has_rtl = false;
    for (char32_t c : s) {
        const auto d = direction(c);
        has_rtl = has_rtl || d == U_RIGHT_TO_LEFT || d == U_RIGHT_TO_LEFT_ARABIC ||
                  d == U_ARABIC_NUMBER;
    }
    if (!has_rtl) return true;
    const auto first = direction(s.front());
    if (first != U_LEFT_TO_RIGHT && first != U_RIGHT_TO_LEFT &&
        first != U_RIGHT_TO_LEFT_ARABIC) {
        return false;  // condition 1
    }
    const bool rtl = first != U_LEFT_TO_RIGHT;
    bool has_en = false;
    bool has_an = false;
    for (char32_t c : s) {
        const auto d = direction(c);
        has_en = has_en || d == U_EUROPEAN_NUMBER;
        has_an = has_an || d == U_ARABIC_NUMBER;
        const bool common = d == U_EUROPEAN_NUMBER || d == U_EUROPEAN_NUMBER_SEPARATOR ||
                            d == U_COMMON_NUMBER_SEPARATOR ||
                            d == U_EUROPEAN_NUMBER_TERMINATOR || d == U_OTHER_NEUTRAL ||
                            d == U_BOUNDARY_NEUTRAL || d == U_DIR_NON_SPACING_MARK;
        const bool allowed = rtl ? common || d == U_RIGHT_TO_LEFT ||
                                       d == U_RIGHT_TO_LEFT_ARABIC || d == U_ARABIC_NUMBER
                                 : common || d == U_LEFT_TO_RIGHT;
        if (!allowed) return false;  // conditions 2 and 5
    }
    if (rtl && has_en && has_an) return false;  // condition 4
    std::size_t last = s.size() - 1;
    while (last > 0 && direction(s[last]) == U_DIR_NON_SPACING_MARK) --last;
    const auto end = direction(s[last]);
    if (rtl) {  // condition 3
        return end == U_RIGHT_TO_LEFT || end == U_RIGHT_TO_LEFT_ARABIC ||
               end == U_EUROPEAN_NUMBER || end == U_ARABIC_NUMBER;
    }
    return end == U_LEFT_TO_RIGHT || end == U_EUROPEAN_NUMBER;  // condition 6
}

bool is_non_ascii_space(char32_t c) {
    return c != U' ' && u_charType(static_cast<UChar32>(c)) == U_SPACE_SEPARATOR;
}

// RFC 8265 §3.3.1 rule 1 (UAX #11): only the <wide> and <narrow> decompositions.
void map_width(Text& s) {
    Text out;
    for (char32_t c : s) {
        const auto type = u_getIntPropertyValue(static_cast<UChar32>(c), UCHAR_DECOMPOSITION_TYPE);
        icu::UnicodeString mapping;
        if ((type == U_DT_WIDE || type == U_DT_NARROW) &&
            normalizer(Normalization::nfkc).getRawDecomposition(static_cast<UChar32>(c), mapping)) {
            out += to_text(mapping);
        } else {
            out.push_back(c);
        }
    }
    s = std::move(out);
}

// RFC 8266 §2.1 rules 2b and 2c.
void trim_and_collapse_spaces(Text& s) {
    Text out;
    for (char32_t c : s) {
        if (c == U' ' && (out.empty() || out.back() == U' ')) continue;
        out.push_back(c);
    }
    if (!out.empty() && out.back() == U' ') out.pop_back();
    s = std::move(out);
}

// Unicode toLowerCase() code point by code point. The Final_Sigma context of the full mapping
// is deliberately not applied: RFC 8265 §3.6 and RFC 7622 §3.5 say PRECIS does not give final
// sigma a special status, so "Σ" always maps to "σ" wherever it stands. This matches
// golang.org/x/text/secure/precis, which other XMPP software uses.
void lower_case(Text& s) {
    Text out;
    out.reserve(s.size());
    for (char32_t c : s) {
        if (c < 0x80) {
            out.push_back(c >= U'A' && c <= U'Z' ? c + (U'a' - U'A') : c);
            continue;
        }
        icu::UnicodeString one{static_cast<UChar32>(c)};
        out += to_text(one.toLower(icu::Locale::getRoot()));
    }
    s = std::move(out);
}

Text apply_rules(const Profile& profile, Text s) {
    if (profile.width_mapping) map_width(s);
    if (profile.map_non_ascii_spaces) {
        for (char32_t& c : s) {
            if (is_non_ascii_space(c)) c = U' ';
        }
    }
    if (profile.trim_and_collapse_spaces) trim_and_collapse_spaces(s);
    if (profile.lower_case) lower_case(s);
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString normalized =
        normalizer(profile.normalization).normalize(to_unicode_string(s), status);
    if (U_FAILURE(status)) throw std::runtime_error{"ICU normalization failed"};
    return to_text(normalized);
}

std::optional<std::string> enforce(const Profile& profile, std::string_view utf8) {
    auto input = decode(utf8);
    if (!input) return std::nullopt;
    // RFC 8264 §7 (and RFC 8266 §2.1): the rules are not idempotent for every code point, so
    // apply them until the output is stable, and refuse strings that are still changing after
    // three additional applications.
    Text output = apply_rules(profile, std::move(*input));
    for (int extra = 1;; ++extra) {
        Text again = apply_rules(profile, output);
        if (again == output) break;
        if (extra == 3) return std::nullopt;
        output = std::move(again);
    }
    // RFC 8265 §3.3.3, §4.1 and RFC 8266 §2.3: checked after mapping, so that mapping can
    // never produce an empty string that is then accepted.
    if (output.empty()) return std::nullopt;
    if (profile.bidi_rule && !satisfies_bidi_rule(output)) return std::nullopt;
    // RFC 8264 §7: the behavioural rules of the string class come last, so a code point that
    // mapping turns into an allowed one is accepted (RFC 7622 §4: map where possible).
    if (!in_string_class(output, profile.string_class)) return std::nullopt;
    return encode(output);
}

// Nearly every address on the wire is printable ASCII, where both profiles below reduce to
// a check and (for usernames) lower-casing: no width or space mapping applies, NFC changes
// nothing, no character is right-to-left (so the Bidi Rule does not apply, RFC 8265 §3.3.1),
// and U+0021..U+007E are valid in IdentifierClass, U+0020..U+007E in FreeformClass (RFC 8264
// §9.11, §9.12). Anything else takes the full path. tests/unit/xmpp/precis_test.cpp holds
// the two paths equal.
bool printable_ascii(std::string_view s, char lowest) {
    for (char c : s)
        if (c < lowest || c > '~') return false;
    return !s.empty();
}

const Profile& username_profile() {
    // RFC 8265 §3.3.1.
    static const Profile profile{.width_mapping = true,
                                 .lower_case = true,
                                 .normalization = Normalization::nfc,
                                 .bidi_rule = true,
                                 .string_class = StringClass::identifier};
    return profile;
}

const Profile& opaque_profile() {
    // RFC 8265 §4.2.2.
    static const Profile profile{.map_non_ascii_spaces = true,
                                 .normalization = Normalization::nfc,
                                 .string_class = StringClass::freeform};
    return profile;
}

}  // namespace

std::optional<std::string> username_case_mapped(std::string_view utf8) {
    if (printable_ascii(utf8, '!')) {
        std::string out{utf8};
        for (char& c : out)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        return out;
    }
    return enforce(username_profile(), utf8);
}

std::optional<std::string> opaque_string(std::string_view utf8) {
    if (printable_ascii(utf8, ' ')) return std::string{utf8};
    return enforce(opaque_profile(), utf8);
}

namespace detail {
std::optional<std::string> username_case_mapped_full(std::string_view utf8) { return enforce(username_profile(), utf8); }
std::optional<std::string> opaque_string_full(std::string_view utf8) { return enforce(opaque_profile(), utf8); }
}  // namespace detail

std::optional<std::string> nickname(std::string_view utf8) {
    // RFC 8266 §2.3: enforcement applies the additional mapping and NFKC but not the case
    // mapping, which is for comparison only; a room shows the nickname as the user wrote it.
    static const Profile profile{.map_non_ascii_spaces = true,
                                 .trim_and_collapse_spaces = true,
                                 .normalization = Normalization::nfkc,
                                 .string_class = StringClass::freeform};
    return enforce(profile, utf8);
}

std::optional<std::string> nickname_for_comparison(std::string_view utf8) {
    // RFC 8266 §2.4: additional mapping, case mapping, then NFKC.
    static const Profile profile{.map_non_ascii_spaces = true,
                                 .trim_and_collapse_spaces = true,
                                 .lower_case = true,
                                 .normalization = Normalization::nfkc,
                                 .string_class = StringClass::freeform};
    return enforce(profile, utf8);
}

}  // namespace starling::xmpp::precis
