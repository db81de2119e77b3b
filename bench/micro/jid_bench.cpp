// JID enforcement (RFC 7622 with PRECIS and IDNA through ICU), which every stanza from a
// client pays for its 'to' (and the router for each address it builds).
#include <benchmark/benchmark.h>

#include "xmpp/jid.hpp"

namespace {

void BM_ParseFullJid(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(starling::xmpp::Jid::parse("user123@localhost/profanity.VFEX"));
}
BENCHMARK(BM_ParseFullJid);

void BM_ParseBareJid(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(starling::xmpp::Jid::parse("user123@example.org"));
}
BENCHMARK(BM_ParseBareJid);

void BM_ParseDomain(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(starling::xmpp::Jid::parse("conference.example.org"));
}
BENCHMARK(BM_ParseDomain);

void BM_ParseUnicodeJid(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(starling::xmpp::Jid::parse("Ĵürgen@Exämple.ORG/Téléphone"));
}
BENCHMARK(BM_ParseUnicodeJid);

}  // namespace
