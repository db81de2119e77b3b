#pragma once
// StreamParser: an XML stream (one long-lived root element whose children arrive one by one)
// parsed with expat's push API. Bytes go in as they arrive; events come out one at a time,
// so a caller can stop after any event (STARTTLS, a SASL restart) and take back the bytes
// that were not yet parsed. Restricted XML is refused by construction: no DOCTYPE (so no
// DTD and no entity declarations), no processing instructions, no comments, UTF-8 only.
// Limits on element size and nesting are enforced while parsing, not after.
// Owned by one connection; single-threaded.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xml/element.hpp"
#include "xml/limits.hpp"

namespace starling::xml {

enum class ParseError {
    not_well_formed,       // includes invalid UTF-8, NUL bytes, text between top-level elements
    restricted_xml,        // DOCTYPE, entity declarations, PIs, comments
    bad_namespace_prefix,  // a prefix with no declaration
    unsupported_encoding,  // an XML declaration naming anything but UTF-8
    too_large,             // an element or the header over its byte limit
    too_deep,              // nesting over the depth limit
    nested_root,           // a second root start tag (e.g. a stream header) inside the stream
};

std::string_view describe(ParseError error);

struct StreamEvent {
    enum class Kind { opened, element, closed, error };
    Kind kind;
    // opened: the root start tag (its attributes, no children); element: one top-level child.
    Element element;
    // opened: the default namespace the root declared ("" if none).
    std::string default_ns;
    ParseError error = ParseError::not_well_formed;
};

class StreamParser {
public:
    explicit StreamParser(ParserLimits limits = {});
    ~StreamParser();
    StreamParser(const StreamParser&) = delete;
    StreamParser& operator=(const StreamParser&) = delete;

    // Queues bytes; call next() until it returns nullopt to parse them.
    void feed(std::string_view bytes);
    // The next event, or nullopt when the queued bytes are used up. After an error event the
    // parser stays failed until reset().
    std::optional<StreamEvent> next();
    // Frees expat's state (several KiB) while the stream sits between elements with nothing
    // buffered, for idle connections; the next feed() brings it back. False if busy.
    bool release();
    bool released() const { return expat_ == nullptr; }
    // Starts a new stream (RFC 6120 §4.3.3 restart) and returns the bytes queued but not yet
    // parsed, which belong to the new stream or, after STARTTLS, must be discarded; leading
    // whitespace, the old stream's, is left out.
    std::string reset();

    void set_limits(ParserLimits limits) { limits_ = limits; }
    const ParserLimits& limits() const { return limits_; }
    std::size_t depth() const { return depth_; }

private:
    struct Callbacks;
    void create();
    void make_expat();
    void revive();
    void fail(ParseError error);
    void emit(StreamEvent event);
    std::size_t current_limit() const;
    enum class TokenOutlook { may_end, unfinished, restricted };
    TokenOutlook token_outlook();
    bool prolog_is_well_formed();

    ParserLimits limits_;
    struct ExpatParser;
    std::unique_ptr<ExpatParser> expat_;
    std::string pending_;           // bytes handed to expat and not yet fully parsed
    std::string queued_;            // bytes fed and not yet handed to expat
    std::string unparsed_;          // bytes fed from unparsed_base_ on, returned by reset()
    long long pending_base_ = 0;    // expat byte index of pending_[0]
    long long unparsed_base_ = 0;   // expat byte index of unparsed_[0]
    long long token_start_ = 0;     // expat byte index where its unfinished token starts
    long long token_scanned_ = 0;   // token_outlook() has looked at bytes before this
    char token_quote_ = 0;          // the quote open at token_scanned_, 0 if none
    enum class Prolog { outside, opened, declaration, root_tag, done };
    Prolog prolog_ = Prolog::outside;  // where prolog_is_well_formed() stopped
    long long prolog_scanned_ = 0;
    char prolog_quote_ = 0;
    bool suspended_ = false;        // expat stopped after an event, mid-buffer
    bool failed_ = false;
    std::optional<StreamEvent> event_;
    std::size_t depth_ = 0;
    long long element_start_ = -1;  // byte index where the current top-level element began
    long long boundary_ = 0;        // byte index up to which everything is accounted for
    std::string root_name_, root_ns_;
    std::string root_qname_;  // as written, e.g. "stream:stream"
    struct Declaration {
        std::string prefix, uri;
    };
    std::vector<Declaration> root_declarations_;
    bool reviving_ = false;
    std::vector<Element*> open_;    // the element being built and its open ancestors
    Element building_;
    std::string default_ns_;
};

}  // namespace starling::xml
