// Addresses and PRECIS on arbitrary text: no crash; what parses is canonical (parsing it
// again changes nothing); prepared strings are idempotent; equal JIDs compare and hash equal.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "check.hpp"
#include "xmpp/jid.hpp"
#include "xmpp/precis.hpp"

namespace precis = starling::xmpp::precis;
using starling::xmpp::BareJid;
using starling::xmpp::Jid;

namespace {

template <class Prepare>
void idempotent(Prepare prepare, std::string_view text, const char* what) {
    if (auto once = prepare(text)) {
        auto twice = prepare(*once);
        FUZZ_CHECK(twice.has_value(), what);
        FUZZ_CHECK(*twice == *once, what);
    }
}

void check_jid(std::string_view text) {
    auto jid = Jid::parse(text);
    if (!jid) return;
    auto again = Jid::parse(jid->str());
    FUZZ_CHECK(again && *again == *jid, "a parsed JID parses again to something else");
    auto rebuilt = Jid::from_parts(jid->local(), jid->domain(), jid->resource());
    FUZZ_CHECK(rebuilt && *rebuilt == *jid, "a JID rebuilt from its parts differs");
    FUZZ_CHECK(!jid->domain().empty(), "a JID without a domain");
    BareJid bare = jid->bare();
    FUZZ_CHECK(bare.local() == jid->local() && bare.domain() == jid->domain(), "the bare JID lost a part");
    auto bare_again = BareJid::parse(bare.str());
    FUZZ_CHECK(bare_again && *bare_again == bare, "a bare JID does not parse back");
    if (jid->has_resource()) FUZZ_CHECK(!BareJid::parse(jid->str()), "BareJid accepted a resource");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text{reinterpret_cast<const char*>(data), size};
    check_jid(text);
    idempotent(precis::username_case_mapped, text, "UsernameCaseMapped is not idempotent");
    idempotent(precis::opaque_string, text, "OpaqueString is not idempotent");
    idempotent(precis::nickname, text, "Nickname is not idempotent");

    // Two addresses from one input (split at the first NUL): equal exactly when their
    // canonical forms are, with equal hashes.
    auto nul = text.find('\0');
    if (nul == std::string_view::npos) return 0;
    auto a = Jid::parse(text.substr(0, nul));
    auto b = Jid::parse(text.substr(nul + 1));
    if (!a || !b) return 0;
    FUZZ_CHECK((*a == *b) == (a->str() == b->str()), "equality is not equality of canonical forms");
    if (*a == *b) FUZZ_CHECK(std::hash<Jid>{}(*a) == std::hash<Jid>{}(*b), "equal JIDs hash differently");
    return 0;
}
