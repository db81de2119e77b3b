#include "xmpp/jid_matcher.hpp"

#include <gtest/gtest.h>

namespace starling::xmpp {
namespace {

Jid j(std::string_view text) { return *Jid::parse(text); }

JidMatcher of(std::initializer_list<std::string_view> items) {
    std::vector<Jid> jids;
    for (auto i : items) jids.push_back(j(i));
    return JidMatcher{jids};
}

// XEP-0191 §6 / XEP-0016 §2.1, one rule at a time.
TEST(JidMatcher, FullJidMatchesOnlyItself) {
    auto m = of({"romeo@montague.net/orchard"});
    EXPECT_TRUE(m.matches(j("romeo@montague.net/orchard")));
    EXPECT_FALSE(m.matches(j("romeo@montague.net/garden")));
    EXPECT_FALSE(m.matches(j("romeo@montague.net")));
    EXPECT_FALSE(m.matches(j("montague.net")));
}

TEST(JidMatcher, BareJidMatchesEveryResource) {
    auto m = of({"romeo@montague.net"});
    EXPECT_TRUE(m.matches(j("romeo@montague.net")));
    EXPECT_TRUE(m.matches(j("romeo@montague.net/orchard")));
    EXPECT_FALSE(m.matches(j("benvolio@montague.net/orchard")));
    EXPECT_FALSE(m.matches(j("montague.net/romeo")));
}

TEST(JidMatcher, DomainResourceMatchesOnlyThatJid) {
    auto m = of({"montague.net/orchard"});
    EXPECT_TRUE(m.matches(j("montague.net/orchard")));
    EXPECT_FALSE(m.matches(j("romeo@montague.net/orchard")));
    EXPECT_FALSE(m.matches(j("montague.net")));
}

TEST(JidMatcher, DomainMatchesEverythingAtIt) {
    auto m = of({"montague.net"});
    EXPECT_TRUE(m.matches(j("montague.net")));
    EXPECT_TRUE(m.matches(j("montague.net/orchard")));
    EXPECT_TRUE(m.matches(j("romeo@montague.net")));
    EXPECT_TRUE(m.matches(j("romeo@montague.net/orchard")));
    EXPECT_FALSE(m.matches(j("juliet@capulet.net")));
    EXPECT_FALSE(m.matches(j("sub.montague.net")));
}

TEST(JidMatcher, ComparesCanonicalForms) {
    auto m = of({"Romeo@MONTAGUE.net"});
    EXPECT_TRUE(m.matches(j("romeo@montague.net/x")));
}

TEST(JidMatcher, EmptyMatchesNothing) {
    JidMatcher m;
    EXPECT_TRUE(m.empty());
    EXPECT_FALSE(m.matches(j("montague.net")));
}

// A local part equal to some blocked domain is no match: the prefix arithmetic must not blur
// the parts.
TEST(JidMatcher, PartsDoNotBlur) {
    auto m = of({"romeo"});
    EXPECT_FALSE(m.matches(j("romeo@montague.net")));
    EXPECT_TRUE(m.matches(j("romeo/x")));
}

}  // namespace
}  // namespace starling::xmpp
