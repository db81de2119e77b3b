// The stream parser on arbitrary bytes: it yields events or one clean error, whatever the
// chunking, within its limits of size, depth and memory; fed in one piece, byte by byte, or
// in chunks the input picks, it yields the same elements (a differential check).
//
// Every run ends with the same closing bytes: the parser holds a long unfinished token back
// from expat until a '>' may end it (CVE-2023-52425), so an input that stops inside one has
// not been judged yet, fed byte by byte, though fed whole it may already have failed.
// `closer` ends any tag, whichever quote it is in, so every run is judged on every byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "xml/stream_parser.hpp"
#include "xml/writer.hpp"

#if __has_include(<sanitizer/allocator_interface.h>)
#include <sanitizer/allocator_interface.h>
#define STARLING_FUZZ_COUNTS_MEMORY 1
#endif

namespace {

using starling::xml::Element;
using starling::xml::ParserLimits;
using starling::xml::StreamEvent;
using starling::xml::StreamParser;

// Small limits, so the fuzzer reaches them.
constexpr ParserLimits limits{.max_element_bytes = 2048, .max_header_bytes = 512, .max_depth = 8};
constexpr std::string_view closer = "'>\">'>";

std::size_t depth_of(const Element& e) {
    std::size_t deepest = 0;
    for (const auto& child : e.children())
        if (child.element) deepest = std::max(deepest, depth_of(*child.element));
    return 1 + deepest;
}

// One event as text, to compare runs: its kind and, for an element, what the writer makes of it.
std::string describe(const StreamEvent& ev) {
    switch (ev.kind) {
        case StreamEvent::Kind::opened: return "opened " + starling::xml::to_string(ev.element) + " ns=" + ev.default_ns;
        case StreamEvent::Kind::element: return "element " + starling::xml::to_string(ev.element);
        case StreamEvent::Kind::closed: return "closed";
        case StreamEvent::Kind::error: return "error";
    }
    return "?";
}

struct Run {
    std::vector<std::string> events;
    bool failed = false;
};

// Checks every event's own invariants as it comes; `reference`, when given, is compared to
// on the fly instead of collecting (so memory measured is the parser's, not ours).
class Collector {
public:
    explicit Collector(const Run* reference) : reference_{reference} {}
    void take(StreamParser& parser) {
        while (auto ev = parser.next()) {
            FUZZ_CHECK(!run_.failed, "an event after the error");
            if (ev->kind == StreamEvent::Kind::error) run_.failed = true;
            if (ev->kind == StreamEvent::Kind::element)
                // The stream root is depth 1, so a top-level element may nest max_depth - 1.
                FUZZ_CHECK(depth_of(ev->element) <= limits.max_depth - 1, "an element deeper than the limit");
            if (ev->kind == StreamEvent::Kind::error) {
                ++count_;
                continue;  // which fault is found first may depend on the chunking
            }
            std::string text = describe(*ev);
            if (ev->kind == StreamEvent::Kind::element)
                // Written out again it may be longer (escaping, namespace declarations), but
                // not beyond what the limit allows in the worst case (each byte escaped as
                // "&quot;" plus declarations).
                FUZZ_CHECK(text.size() <= 8 * limits.max_element_bytes + 1024, "an element over the size limit");
            if (reference_) {
                FUZZ_CHECK(count_ < reference_->events.size(), "more events than the one-piece run");
                FUZZ_CHECK(reference_->events[count_] == text, "an event differs from the one-piece run");
            } else {
                run_.events.push_back(std::move(text));
            }
            ++count_;
        }
    }
    void finish() {
        if (!reference_) return;
        // The same elements, and an error in both runs or in neither.
        FUZZ_CHECK(run_.failed == reference_->failed, "one chunking failed and another did not");
        std::size_t expected = reference_->events.size() + (reference_->failed ? 1 : 0);
        FUZZ_CHECK(count_ == expected, "fewer events than the one-piece run");
    }
    Run run_;

private:
    const Run* reference_;
    std::size_t count_ = 0;
};

std::size_t allocated() {
#ifdef STARLING_FUZZ_COUNTS_MEMORY
    return __sanitizer_get_current_allocated_bytes();
#else
    return 0;
#endif
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input{reinterpret_cast<const char*>(data), size};

    Run whole;
    {
        StreamParser parser{limits};
        Collector c{nullptr};
        parser.feed(input);
        c.take(parser);
        parser.feed(closer);
        c.take(parser);
        whole = std::move(c.run_);  // the error, if any, is a flag there, not an event
    }
    {
        StreamParser parser{limits};
        Collector c{&whole};
        std::size_t before = allocated();
        for (char byte : input) {
            parser.feed(std::string_view{&byte, 1});
            c.take(parser);
            // Held back bytes count against the limit, so the parser never holds much more
            // than one element's worth plus expat's buffers, however long the input.
            if (before) FUZZ_CHECK(allocated() <= before + 64 * limits.max_element_bytes + 512 * 1024,
                                   "the parser holds more memory than its limits allow");
        }
        parser.feed(closer);
        c.take(parser);
        c.finish();
    }
    {
        // Chunks the input picks itself: its bytes, read as sizes 1..64, in turn.
        StreamParser parser{limits};
        Collector c{&whole};
        std::size_t at = 0, i = 0;
        while (at < input.size()) {
            std::size_t n = 1 + static_cast<unsigned char>(input[i++ % input.size()]) % 64;
            parser.feed(input.substr(at, n));
            c.take(parser);
            at += n;
        }
        parser.feed(closer);
        c.take(parser);
        c.finish();
    }
    return 0;
}
