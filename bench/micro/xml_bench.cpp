// XML layer throughput: the stream parser on typical chat traffic (read in 4 KiB chunks, and
// one byte at a time as a slow or hostile client delivers it), and the writer on one message.
// The *_byte_at_a_time/N cases grow one token or one text run and report the fitted
// complexity: parse cost must stay linear in N when input arrives in tiny pieces.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "xml/stream_parser.hpp"
#include "xml/writer.hpp"

namespace {

using starling::xml::Element;
using starling::xml::ParserLimits;
using starling::xml::StreamEvent;
using starling::xml::StreamParser;
using starling::xml::WriteContext;

constexpr std::string_view header =
    "<?xml version='1.0'?>"
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
    " to='example.com' version='1.0' xml:lang='en'>";

// A one-to-one chat message as modern clients send it: body, chat state, origin id. About
// 300 bytes.
std::string chat_message(int n) {
    std::string id = std::to_string(100000 + n);
    return "<message from='juliet@capulet.example/balcony-4f2a' to='romeo@montague.example'"
           " type='chat' id='msg-" + id + "' xml:lang='en'>"
           "<body>Parting is such sweet sorrow &amp; all that. #" + id + "</body>"
           "<active xmlns='http://jabber.org/protocol/chatstates'/>"
           "<origin-id xmlns='urn:xmpp:sid:0' id='o-" + id + "'/>"
           "</message>";
}

std::string chat_stanzas(int count) {
    std::string out;
    for (int i = 0; i < count; ++i) {
        out += chat_message(i);
        if (i % 10 == 9) out += "\n";  // the odd whitespace keepalive
    }
    return out;
}

// Parses `stanzas` after a stream header, fed `chunk` bytes at a time; returns the number of
// stanzas seen, or -1 on a parse error.
long parse_stream(std::string_view stanzas, std::size_t chunk, const ParserLimits& limits = {}) {
    StreamParser parser{limits};
    parser.feed(header);
    long elements = 0;
    auto drain = [&] {
        while (auto event = parser.next()) {
            if (event->kind == StreamEvent::Kind::error) return false;
            if (event->kind == StreamEvent::Kind::element) ++elements;
            benchmark::DoNotOptimize(event->element);
        }
        return true;
    };
    if (!drain()) return -1;
    for (std::size_t i = 0; i < stanzas.size(); i += chunk) {
        parser.feed(stanzas.substr(i, chunk));
        if (!drain()) return -1;
    }
    return elements;
}

void run_parse(benchmark::State& state, const std::string& stanzas, long expected, std::size_t chunk,
               const ParserLimits& limits = {}) {
    long missing = 0;
    for (auto _ : state) {
        long elements = parse_stream(stanzas, chunk, limits);
        if (elements < 0) {
            state.SkipWithError("parse error");
            break;
        }
        missing += expected - elements;
    }
    // Stanzas whose last byte was fed but which never came out: must be 0. (A counter, not
    // SkipWithError: google-benchmark 1.7 crashes fitting complexity over errored runs.)
    state.counters["missing"] = benchmark::Counter(static_cast<double>(missing), benchmark::Counter::kAvgIterations);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stanzas.size()));
    state.SetItemsProcessed(state.iterations() * expected);
    state.counters["stanza_bytes"] = static_cast<double>(stanzas.size()) / static_cast<double>(expected);
}

void BM_parse_chat_4k_chunks(benchmark::State& state) {
    static const std::string stanzas = chat_stanzas(1000);
    run_parse(state, stanzas, 1000, 4096);
}
BENCHMARK(BM_parse_chat_4k_chunks);

void BM_parse_chat_byte_at_a_time(benchmark::State& state) {
    static const std::string stanzas = chat_stanzas(100);
    run_parse(state, stanzas, 100, 1);
}
BENCHMARK(BM_parse_chat_byte_at_a_time);

// One start tag of state.range(0) bytes: a single expat token, the case where re-scanning the
// unfinished token on every byte would be quadratic.
void parse_long_attribute_byte_at_a_time(benchmark::State& state, std::string_view filler) {
    std::string value;
    while (value.size() < static_cast<std::size_t>(state.range(0))) value += filler;
    std::string stanza = "<message id='" + value + "'><body>hi</body></message>";
    ParserLimits limits;
    limits.max_element_bytes = stanza.size();
    run_parse(state, stanza, 1, 1, limits);
    state.SetComplexityN(state.range(0));
}

void BM_parse_long_attribute_byte_at_a_time(benchmark::State& state) {
    parse_long_attribute_byte_at_a_time(state, "x");
}
BENCHMARK(BM_parse_long_attribute_byte_at_a_time)
    ->RangeMultiplier(4)
    ->Range(1 << 10, 1 << 16)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();

// The same with '>' and ';' inside the quotes, which end a tag or a reference outside them.
void BM_parse_long_attribute_of_gt_byte_at_a_time(benchmark::State& state) {
    parse_long_attribute_byte_at_a_time(state, ">;");
}
BENCHMARK(BM_parse_long_attribute_of_gt_byte_at_a_time)
    ->RangeMultiplier(4)
    ->Range(1 << 10, 1 << 16)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();

// A body of state.range(0) bytes of text: expat reports text as it arrives, so this is the
// linear baseline for the case above.
void BM_parse_long_text_byte_at_a_time(benchmark::State& state) {
    auto n = static_cast<std::size_t>(state.range(0));
    std::string stanza = "<message id='1'><body>" + std::string(n, 'x') + "</body></message>";
    ParserLimits limits;
    limits.max_element_bytes = stanza.size();
    run_parse(state, stanza, 1, 1, limits);
    state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_parse_long_text_byte_at_a_time)
    ->RangeMultiplier(4)
    ->Range(1 << 10, 1 << 16)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();

Element message_stanza() {
    Element message{"message", "jabber:client"};
    message.set_attribute("from", "juliet@capulet.example/balcony-4f2a")
        .set_attribute("to", "romeo@montague.example")
        .set_attribute("type", "chat")
        .set_attribute("id", "msg-100042")
        .set_attribute("xml:lang", "en");
    message.add_child("body", "jabber:client")
        .add_text("Parting is such sweet sorrow & all <that>. #100042");
    message.add_child("active", "http://jabber.org/protocol/chatstates");
    message.add_child("origin-id", "urn:xmpp:sid:0").set_attribute("id", "o-100042");
    return message;
}

void BM_write_message(benchmark::State& state) {
    const Element message = message_stanza();
    const WriteContext context{"jabber:client", {}, {}};
    std::string out;
    std::size_t bytes = 0;
    for (auto _ : state) {
        out.clear();  // keeps its capacity, as a connection's send buffer would
        starling::xml::write(out, message, context);
        bytes += out.size();
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    state.SetItemsProcessed(state.iterations());
    state.counters["stanza_bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_write_message);

}  // namespace
