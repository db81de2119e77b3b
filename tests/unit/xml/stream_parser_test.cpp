#include "xml/stream_parser.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "xml/writer.hpp"

namespace starling::xml {

// Lets GoogleTest print a ParseError by name in failure messages.
void PrintTo(ParseError error, std::ostream* os) { *os << describe(error); }

namespace {

constexpr std::string_view client_ns = "jabber:client";
constexpr std::string_view streams_ns = "http://etherx.jabber.org/streams";

constexpr std::string_view header =
    "<?xml version='1.0'?>"
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
    " to='example.com' version='1.0' xml:lang='en'>";

// A client stream as it arrives on the wire: header, stanzas, whitespace keepalives, close.
constexpr std::string_view realistic_stream =
    "<?xml version='1.0'?>"
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
    " to='example.com' version='1.0' xml:lang='en'>\n"
    "<message from='juliet@example.com/balcony' to='romeo@example.net' type='chat' id='m1'"
    " xml:lang='en'>"
    "<body>Wherefore art thou, Romeo? &amp; &lt;3 \xE2\x98\xBA</body>"
    "<active xmlns='http://jabber.org/protocol/chatstates'/>"
    "</message>"
    " \n \t "
    "<iq type='get' id='ping-1' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>"
    "\n"
    "</stream:stream>";

// The writer's context inside an element whose default namespace is `ns`.
WriteContext in_scope(std::string_view ns) { return WriteContext{ns, {}, {}}; }

// One event as a string, so whole event sequences compare (and print) as text.
std::string to_text(const StreamEvent& event) {
    switch (event.kind) {
        case StreamEvent::Kind::opened:
            return "opened " + to_string(event.element) + " default_ns=" + event.default_ns;
        case StreamEvent::Kind::element:
            return "element " + to_string(event.element, in_scope(client_ns));
        case StreamEvent::Kind::closed:
            return "closed";
        case StreamEvent::Kind::error:
            return "error " + std::string(describe(event.error));
    }
    return "?";
}

std::vector<StreamEvent> drain(StreamParser& parser) {
    std::vector<StreamEvent> events;
    while (auto event = parser.next()) events.push_back(std::move(*event));
    return events;
}

void append_drained(StreamParser& parser, std::vector<std::string>& out) {
    for (const auto& event : drain(parser)) out.push_back(to_text(event));
}

std::vector<std::string> parse_in_one_piece(std::string_view bytes, ParserLimits limits = {}) {
    StreamParser parser{limits};
    std::vector<std::string> out;
    parser.feed(bytes);
    append_drained(parser, out);
    return out;
}

std::vector<std::string> parse_byte_at_a_time(std::string_view bytes, ParserLimits limits = {}) {
    StreamParser parser{limits};
    std::vector<std::string> out;
    for (char c : bytes) {
        parser.feed(std::string_view{&c, 1});
        append_drained(parser, out);
    }
    return out;
}

// Events after the stream header, which must have opened cleanly.
std::vector<StreamEvent> events_after_header(std::string_view after, ParserLimits limits = {}) {
    StreamParser parser{limits};
    parser.feed(header);
    auto opened = drain(parser);
    EXPECT_EQ(opened.size(), 1u);
    EXPECT_TRUE(!opened.empty() && opened[0].kind == StreamEvent::Kind::opened);
    parser.feed(after);
    return drain(parser);
}

// The error a document ends in; nullopt (a test failure) if it ends any other way.
std::optional<ParseError> error_of(const std::vector<StreamEvent>& events) {
    if (events.empty() || events.back().kind != StreamEvent::Kind::error) return std::nullopt;
    return events.back().error;
}

std::optional<ParseError> error_after_header(std::string_view after, ParserLimits limits = {}) {
    return error_of(events_after_header(after, limits));
}

std::optional<ParseError> error_of_document(std::string_view document) {
    StreamParser parser;
    parser.feed(document);
    return error_of(drain(parser));
}

// The one stanza `stanza` parses to, inside a jabber:client stream.
Element parse_stanza(std::string_view stanza) {
    auto events = events_after_header(stanza);
    EXPECT_EQ(events.size(), 1u);
    if (events.size() != 1 || events[0].kind != StreamEvent::Kind::element) {
        ADD_FAILURE() << "not a single stanza: " << stanza;
        return {};
    }
    return std::move(events[0].element);
}

// The next event as text, "(none)" if next() returned nothing.
std::string next_text(StreamParser& parser) {
    auto event = parser.next();
    return event ? to_text(*event) : "(none)";
}

// ---------------------------------------------------------------------------------------------
// Chunking never changes the events

TEST(StreamParser, realistic_stream_in_one_piece_yields_opened_two_stanzas_and_closed) {
    auto events = parse_in_one_piece(realistic_stream);
    ASSERT_EQ(events.size(), 4u) << ::testing::PrintToString(events);
    EXPECT_EQ(events[0],
              "opened <stream xmlns='http://etherx.jabber.org/streams' to='example.com'"
              " version='1.0' xml:lang='en'/> default_ns=jabber:client");
    EXPECT_EQ(events[1],
              "element <message from='juliet@example.com/balcony' to='romeo@example.net'"
              " type='chat' id='m1' xml:lang='en'>"
              "<body>Wherefore art thou, Romeo? &amp; &lt;3 \xE2\x98\xBA</body>"
              "<active xmlns='http://jabber.org/protocol/chatstates'/></message>");
    EXPECT_EQ(events[2],
              "element <iq type='get' id='ping-1' to='example.com'>"
              "<ping xmlns='urn:xmpp:ping'/></iq>");
    EXPECT_EQ(events[3], "closed");
}

// Byte offsets just past the last byte of each event in realistic_stream.
std::vector<std::size_t> realistic_event_ends() {
    auto end_of = [](std::string_view s) { return realistic_stream.find(s) + s.size(); };
    return {end_of("xml:lang='en'>"), end_of("</message>"), end_of("</iq>"), realistic_stream.size()};
}

TEST(StreamParser, split_at_every_byte_boundary_yields_the_same_events_as_one_piece) {
    const auto expected = parse_in_one_piece(realistic_stream);
    const auto ends = realistic_event_ends();
    for (std::size_t at = 1; at < realistic_stream.size(); ++at) {
        StreamParser parser;
        std::vector<std::string> events;
        parser.feed(realistic_stream.substr(0, at));
        append_drained(parser, events);
        // Every event whose last byte is in the first piece comes out before the second.
        auto complete = static_cast<std::size_t>(std::count_if(ends.begin(), ends.end(), [&](auto e) { return e <= at; }));
        EXPECT_EQ(events.size(), complete) << "split after byte " << at;
        parser.feed(realistic_stream.substr(at));
        append_drained(parser, events);
        ASSERT_EQ(events, expected) << "split after byte " << at << ": \""
                                    << realistic_stream.substr(0, at) << "\" + \""
                                    << realistic_stream.substr(at) << "\"";
    }
}

TEST(StreamParser, byte_at_a_time_yields_the_same_events_as_one_piece) {
    EXPECT_EQ(parse_byte_at_a_time(realistic_stream), parse_in_one_piece(realistic_stream));
}

TEST(StreamParser, byte_at_a_time_each_event_comes_out_with_its_last_byte) {
    StreamParser parser;
    std::vector<std::size_t> seen_at;
    for (std::size_t i = 0; i < realistic_stream.size(); ++i) {
        parser.feed(realistic_stream.substr(i, 1));
        for (std::size_t n = drain(parser).size(); n > 0; --n) seen_at.push_back(i + 1);
    }
    EXPECT_EQ(seen_at, realistic_event_ends());
}

// Feeds `stanza` a byte at a time after a header: no event until its last byte, then it.
void expect_delivered_with_last_byte(const std::string& stanza) {
    ParserLimits limits;
    limits.max_element_bytes = stanza.size();
    StreamParser parser{limits};
    parser.feed(header);
    ASSERT_EQ(drain(parser).size(), 1u);
    for (std::size_t i = 0; i + 1 < stanza.size(); ++i) {
        parser.feed(stanza.substr(i, 1));
        ASSERT_TRUE(drain(parser).empty()) << "event before byte " << i + 1;
    }
    parser.feed(stanza.substr(stanza.size() - 1));
    auto events = drain(parser);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, StreamEvent::Kind::element);
}

// A stanza must come out as soon as its last byte arrives: a client that sends one message
// and waits for the reply must not wait for bytes it will never send.
TEST(StreamParser, stanza_is_delivered_when_its_last_byte_arrives_byte_at_a_time) {
    expect_delivered_with_last_byte("<message to='romeo@example.net'><body>" + std::string(200, 'x') +
                                    "</body></message>");
}

TEST(StreamParser, stanza_with_references_cdata_and_multibyte_text_is_delivered_with_its_last_byte) {
    expect_delivered_with_last_byte("<message><body>a&amp;b&#x263A;\xE2\x98\xBA\r\n"
                                    "<![CDATA[<x>]]]]>y&#x" + std::string(100, '0') + "41;</body></message>");
}

TEST(StreamParser, stanza_is_delivered_when_its_end_tag_arrives_in_two_pieces) {
    // "</messa" + "ge>": the second piece is much shorter than the unfinished token.
    StreamParser parser;
    parser.feed(header);
    ASSERT_EQ(drain(parser).size(), 1u);
    parser.feed("<message><body>hi</body></messa");
    EXPECT_TRUE(drain(parser).empty());
    parser.feed("ge>");
    auto events = drain(parser);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, StreamEvent::Kind::element);
}

// A start tag is one expat token; expat >= 2.6 may defer re-parsing a long one that arrives in
// pieces (to stay linear). That must never hold back a tag whose '>' has arrived.
TEST(StreamParser, long_start_tag_fed_byte_at_a_time_is_delivered_with_its_last_byte) {
    expect_delivered_with_last_byte("<message id='" + std::string(5000, 'x') + "'/>");
}

TEST(StreamParser, long_start_tag_with_many_attributes_fed_byte_at_a_time_is_delivered_with_its_last_byte) {
    std::string tag = "<message";
    for (int i = 0; i < 300; ++i) tag += " a" + std::to_string(i) + "='" + std::to_string(i) + "'";
    expect_delivered_with_last_byte(tag + "><body>hi</body></message>");
}

TEST(StreamParser, long_attribute_of_gt_and_semicolons_fed_byte_at_a_time_is_delivered_with_its_last_byte) {
    std::string value;
    for (int i = 0; i < 2000; ++i) value += "\">;";
    expect_delivered_with_last_byte("<message id='" + value + "'/>");
}

TEST(StreamParser, long_end_tag_fed_byte_at_a_time_is_delivered_with_its_last_byte) {
    std::string name(3000, 'n');
    expect_delivered_with_last_byte("<" + name + "></" + name + ">");
}

// ---------------------------------------------------------------------------------------------
// Opened and closed

TEST(StreamParser, opened_event_carries_root_name_namespace_attributes_and_default_ns) {
    StreamParser parser;
    parser.feed(header);
    auto event = parser.next();
    ASSERT_TRUE(event);
    EXPECT_EQ(event->kind, StreamEvent::Kind::opened);
    EXPECT_EQ(event->element.name(), "stream");
    EXPECT_EQ(event->element.xmlns(), streams_ns);
    EXPECT_EQ(event->default_ns, client_ns);
    EXPECT_EQ(event->element.attribute("to"), "example.com");
    EXPECT_EQ(event->element.attribute("version"), "1.0");
    EXPECT_EQ(event->element.attribute("xml:lang"), "en");
    // Namespace declarations are not attributes.
    EXPECT_EQ(event->element.attributes().size(), 3u);
    EXPECT_TRUE(event->element.children().empty());
    EXPECT_EQ(parser.depth(), 1u);
    EXPECT_FALSE(parser.next());
}

TEST(StreamParser, server_stream_reports_jabber_server_as_default_ns) {
    StreamParser parser;
    parser.feed("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>");
    auto event = parser.next();
    ASSERT_TRUE(event);
    EXPECT_EQ(event->kind, StreamEvent::Kind::opened);
    EXPECT_EQ(event->default_ns, "jabber:server");
}

TEST(StreamParser, closing_stream_tag_yields_closed) {
    auto events = events_after_header("</stream:stream>");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, StreamEvent::Kind::closed);
}

TEST(StreamParser, events_come_one_at_a_time_so_the_caller_can_stop_after_any) {
    StreamParser parser;
    parser.feed(std::string(header) + "<a/><b/></stream:stream>");
    EXPECT_TRUE(next_text(parser).starts_with("opened "));
    EXPECT_EQ(next_text(parser), "element <a/>");
    EXPECT_EQ(next_text(parser), "element <b/>");
    EXPECT_EQ(next_text(parser), "closed");
    EXPECT_EQ(next_text(parser), "(none)");
}

TEST(StreamParser, bytes_fed_between_events_are_parsed_before_next_reports_nothing) {
    StreamParser parser;
    parser.feed(std::string(header) + "<a/><b/>");
    EXPECT_TRUE(next_text(parser).starts_with("opened "));
    EXPECT_EQ(next_text(parser), "element <a/>");
    parser.feed("<c/>");
    parser.feed("<d/>");
    EXPECT_EQ(next_text(parser), "element <b/>");
    EXPECT_EQ(next_text(parser), "element <c/>");
    EXPECT_EQ(next_text(parser), "element <d/>");
    EXPECT_EQ(next_text(parser), "(none)");
}

TEST(StreamParser, bytes_keep_their_order_when_fed_while_an_event_is_pending) {
    // Feeding in the middle of a drain, draining, then feeding again: the parser must see the
    // bytes in the order they were fed, whatever next() returned in between.
    StreamParser parser;
    parser.feed(std::string(header) + "<a/><b/>");
    std::vector<std::string> events;
    events.push_back(next_text(parser));
    events.push_back(next_text(parser));
    parser.feed("<c/>");
    append_drained(parser, events);
    parser.feed("<d/>");
    append_drained(parser, events);
    EXPECT_EQ(events, (std::vector<std::string>{
                          events[0], "element <a/>", "element <b/>", "element <c/>", "element <d/>"}));
}

// ---------------------------------------------------------------------------------------------
// Restricted XML (RFC 6120 §11.1) and well-formedness

TEST(StreamParser, doctype_is_refused_as_restricted_xml) {
    EXPECT_EQ(error_of_document("<?xml version='1.0'?><!DOCTYPE stream:stream>"
                                "<stream:stream xmlns='jabber:client'"
                                " xmlns:stream='http://etherx.jabber.org/streams'>"),
              ParseError::restricted_xml);
}

TEST(StreamParser, internal_entity_declaration_is_refused_as_restricted_xml) {
    EXPECT_EQ(error_of_document("<!DOCTYPE stream:stream [<!ENTITY x 'y'>]>"
                                "<stream:stream xmlns='jabber:client'"
                                " xmlns:stream='http://etherx.jabber.org/streams'>"),
              ParseError::restricted_xml);
}

TEST(StreamParser, billion_laughs_is_refused_as_restricted_xml_without_expansion) {
    std::string doc = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol0 'lol'>";
    for (int i = 1; i <= 9; ++i) {
        doc += "<!ENTITY lol" + std::to_string(i) + " '";
        for (int j = 0; j < 10; ++j) doc += "&lol" + std::to_string(i - 1) + ";";
        doc += "'>";
    }
    doc += "]><lolz>&lol9;</lolz>";
    StreamParser parser;
    parser.feed(doc);
    auto events = drain(parser);
    // The only event is the refusal: the root never opened, so no entity was ever expanded.
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, StreamEvent::Kind::error);
    EXPECT_EQ(events[0].error, ParseError::restricted_xml);
    EXPECT_EQ(parser.depth(), 0u);
}

TEST(StreamParser, processing_instruction_after_header_is_refused_as_restricted_xml) {
    EXPECT_EQ(error_after_header("<?foo bar?>"), ParseError::restricted_xml);
}

TEST(StreamParser, processing_instruction_inside_stanza_is_refused_as_restricted_xml) {
    EXPECT_EQ(error_after_header("<message><?foo bar?></message>"), ParseError::restricted_xml);
}

TEST(StreamParser, comment_between_stanzas_is_refused_as_restricted_xml) {
    EXPECT_EQ(error_after_header("<!-- hello -->"), ParseError::restricted_xml);
}

TEST(StreamParser, comment_inside_stanza_is_refused_as_restricted_xml) {
    EXPECT_EQ(error_after_header("<message><body>a<!-- b -->c</body></message>"),
              ParseError::restricted_xml);
}

TEST(StreamParser, long_comment_fed_byte_at_a_time_is_refused_as_restricted_xml) {
    std::string comment = "<!--" + std::string(3000, '>') + "-->";
    StreamParser parser;
    parser.feed(header);
    ASSERT_EQ(drain(parser).size(), 1u);
    std::vector<StreamEvent> events;
    for (std::size_t i = 0; i < comment.size() && events.empty(); ++i) {
        parser.feed(comment.substr(i, 1));
        events = drain(parser);
    }
    EXPECT_EQ(error_of(events), ParseError::restricted_xml);
}

TEST(StreamParser, comment_before_header_is_refused_as_restricted_xml) {
    EXPECT_EQ(error_of_document("<!-- hi --><stream:stream xmlns='jabber:client'"
                                " xmlns:stream='http://etherx.jabber.org/streams'>"),
              ParseError::restricted_xml);
}

TEST(StreamParser, undefined_entity_reference_is_not_well_formed) {
    EXPECT_EQ(error_after_header("<message><body>&foo;</body></message>"),
              ParseError::not_well_formed);
}

TEST(StreamParser, non_whitespace_text_between_stanzas_is_not_well_formed) {
    auto events = events_after_header("<a/>hello<b/>");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].kind, StreamEvent::Kind::element);
    EXPECT_EQ(error_of(events), ParseError::not_well_formed);
}

TEST(StreamParser, whitespace_keepalives_between_stanzas_yield_no_events) {
    auto events = events_after_header(" \n\t\r\n  <a/>   \n ");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].element.name(), "a");
}

TEST(StreamParser, cdata_between_stanzas_is_not_well_formed) {
    EXPECT_EQ(error_after_header("<![CDATA[ ]]>"), ParseError::not_well_formed);
}

TEST(StreamParser, cdata_inside_stanza_is_accepted_as_text) {
    Element message = parse_stanza("<message><body>a<![CDATA[<b>&amp;</b>]]>c</body></message>");
    EXPECT_EQ(message.child_text("body", client_ns), "a<b>&amp;</b>c");
}

TEST(StreamParser, invalid_utf8_is_not_well_formed) {
    EXPECT_EQ(error_after_header("<message><body>\xC3\x28</body></message>"),
              ParseError::not_well_formed);
    EXPECT_EQ(error_after_header("<message><body>\xFF</body></message>"),
              ParseError::not_well_formed);
    // An overlong encoding of '/'.
    EXPECT_EQ(error_after_header("<message><body>\xC0\xAF</body></message>"),
              ParseError::not_well_formed);
}

TEST(StreamParser, invalid_utf8_in_attribute_is_not_well_formed) {
    EXPECT_EQ(error_after_header("<message to='\xED\xA0\x80'/>"), ParseError::not_well_formed);
}

TEST(StreamParser, nul_byte_is_not_well_formed) {
    using namespace std::string_view_literals;
    EXPECT_EQ(error_after_header("<message><body>a\0b</body></message>"sv),
              ParseError::not_well_formed);
}

TEST(StreamParser, character_reference_to_nul_is_not_well_formed) {
    EXPECT_EQ(error_after_header("<message><body>&#0;</body></message>"), ParseError::not_well_formed);
}

TEST(StreamParser, xml_declaration_naming_iso_8859_1_is_refused_as_unsupported_encoding) {
    EXPECT_EQ(error_of_document("<?xml version='1.0' encoding='ISO-8859-1'?>"
                                "<stream:stream xmlns='jabber:client'"
                                " xmlns:stream='http://etherx.jabber.org/streams'>"),
              ParseError::unsupported_encoding);
}

TEST(StreamParser, xml_declaration_naming_utf8_in_any_case_is_accepted) {
    StreamParser parser;
    parser.feed("<?xml version='1.0' encoding='utf-8'?>"
                "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
    auto event = parser.next();
    ASSERT_TRUE(event);
    EXPECT_EQ(event->kind, StreamEvent::Kind::opened);
}

TEST(StreamParser, undeclared_element_prefix_is_refused_as_bad_namespace_prefix) {
    EXPECT_EQ(error_after_header("<foo:message/>"), ParseError::bad_namespace_prefix);
}

TEST(StreamParser, undeclared_attribute_prefix_is_refused_as_bad_namespace_prefix) {
    EXPECT_EQ(error_after_header("<message foo:bar='x'/>"), ParseError::bad_namespace_prefix);
}

TEST(StreamParser, undeclared_prefix_on_stream_header_is_refused_as_bad_namespace_prefix) {
    EXPECT_EQ(error_of_document("<stream:stream xmlns='jabber:client'>"),
              ParseError::bad_namespace_prefix);
}

TEST(StreamParser, stream_header_at_depth_two_is_refused_as_nested_root) {
    EXPECT_EQ(error_after_header("<stream:stream xmlns='jabber:client'"
                                 " xmlns:stream='http://etherx.jabber.org/streams'>"),
              ParseError::nested_root);
}

TEST(StreamParser, unbalanced_end_tag_is_not_well_formed) {
    EXPECT_EQ(error_after_header("<message></iq>"), ParseError::not_well_formed);
}

// ---------------------------------------------------------------------------------------------
// Limits

// `depth` elements nested inside the stream root: the innermost is at depth + 1.
std::string nested(std::size_t depth) {
    std::string s;
    for (std::size_t i = 0; i < depth; ++i) s += "<a>";
    for (std::size_t i = 0; i < depth; ++i) s += "</a>";
    return s;
}

TEST(StreamParser, nesting_of_64_counting_the_root_is_accepted) {
    auto events = events_after_header(nested(63));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, StreamEvent::Kind::element);
}

TEST(StreamParser, nesting_of_65_counting_the_root_is_refused_as_too_deep) {
    EXPECT_EQ(error_after_header(nested(64)), ParseError::too_deep);
}

TEST(StreamParser, too_deep_is_refused_as_soon_as_the_start_tag_arrives) {
    std::string opening;
    for (int i = 0; i < 64; ++i) opening += "<a>";
    EXPECT_EQ(error_after_header(opening), ParseError::too_deep);
}

TEST(StreamParser, depth_limit_is_configurable) {
    ParserLimits limits;
    limits.max_depth = 3;
    EXPECT_EQ(events_after_header(nested(2), limits).size(), 1u);
    EXPECT_EQ(error_after_header(nested(3), limits), ParseError::too_deep);
}

// A stanza of exactly `size` bytes.
std::string stanza_of_size(std::size_t size) {
    const std::string open = "<message><body>", close = "</body></message>";
    return open + std::string(size - open.size() - close.size(), 'x') + close;
}

ParserLimits element_limit(std::size_t bytes) {
    ParserLimits limits;
    limits.max_element_bytes = bytes;
    return limits;
}

TEST(StreamParser, element_exactly_at_the_size_limit_is_accepted) {
    auto events = events_after_header(stanza_of_size(1000), element_limit(1000));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, StreamEvent::Kind::element);
}

TEST(StreamParser, element_one_byte_over_the_size_limit_is_refused_as_too_large) {
    EXPECT_EQ(error_after_header(stanza_of_size(1001), element_limit(1000)), ParseError::too_large);
}

TEST(StreamParser, element_at_the_size_limit_fed_byte_at_a_time_is_accepted) {
    ParserLimits limits = element_limit(1000);
    std::string stream = std::string(header) + "\n  " + stanza_of_size(1000) + "\n" +
                         stanza_of_size(1000) + "</stream:stream>";
    auto events = parse_byte_at_a_time(stream, limits);
    ASSERT_EQ(events.size(), 4u) << ::testing::PrintToString(events);
    EXPECT_EQ(events, parse_in_one_piece(stream, limits));
}

TEST(StreamParser, element_size_counts_bytes_not_decoded_characters) {
    // 100 "&amp;" are 500 bytes on the wire but 100 characters of text.
    std::string stanza = "<message><body>";
    for (int i = 0; i < 100; ++i) stanza += "&amp;";
    stanza += "</body></message>";
    EXPECT_EQ(error_after_header(stanza, element_limit(stanza.size() - 1)), ParseError::too_large);
}

TEST(StreamParser, huge_element_fed_in_chunks_is_refused_once_bytes_fed_exceed_the_limit) {
    StreamParser parser{element_limit(1000)};
    parser.feed(header);
    ASSERT_EQ(drain(parser).size(), 1u);
    const std::string open = "<message><body>";  // 15 bytes
    parser.feed(open);
    ASSERT_TRUE(drain(parser).empty());
    std::size_t fed = open.size();
    const std::string chunk(100, 'x');
    while (fed + chunk.size() <= 1000) {
        parser.feed(chunk);
        fed += chunk.size();
        ASSERT_TRUE(drain(parser).empty()) << "refused at " << fed << " bytes";
    }
    parser.feed(chunk);  // now 1015 bytes of an element with no end in sight
    EXPECT_EQ(error_of(drain(parser)), ParseError::too_large);
}

TEST(StreamParser, huge_start_tag_fed_in_chunks_is_refused_before_it_ends) {
    // One unfinished token: expat cannot report anything, the parser must still count it.
    StreamParser parser{element_limit(1000)};
    parser.feed(header);
    ASSERT_EQ(drain(parser).size(), 1u);
    parser.feed("<message to='");
    std::optional<ParseError> error;
    std::size_t fed = 13;
    while (!error && fed < 10'000) {
        parser.feed(std::string(10, 'x'));
        fed += 10;
        auto events = drain(parser);
        if (!events.empty()) error = error_of(events);
    }
    EXPECT_EQ(error, ParseError::too_large);
    EXPECT_GT(fed, 1000u);
    EXPECT_LE(fed, 1010u);
}

TEST(StreamParser, whitespace_between_stanzas_does_not_count_toward_the_next_element) {
    ParserLimits limits = element_limit(1000);
    auto events = events_after_header(std::string(3000, ' ') + stanza_of_size(1000), limits);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, StreamEvent::Kind::element);
}

TEST(StreamParser, endless_whitespace_fed_in_chunks_is_accepted) {
    StreamParser parser{element_limit(1000)};
    parser.feed(header);
    ASSERT_EQ(drain(parser).size(), 1u);
    for (int i = 0; i < 100; ++i) {
        parser.feed(std::string(100, ' '));
        ASSERT_TRUE(drain(parser).empty()) << "after " << (i + 1) * 100 << " bytes of whitespace";
    }
    parser.feed("<a/>");
    auto events = drain(parser);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, StreamEvent::Kind::element);
}

TEST(StreamParser, header_over_its_size_limit_is_refused_as_too_large) {
    ParserLimits limits;
    limits.max_header_bytes = 200;
    std::string big = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
                      " to='" + std::string(200, 'x') + "'>";
    StreamParser parser{limits};
    parser.feed(big);
    EXPECT_EQ(error_of(drain(parser)), ParseError::too_large);
}

TEST(StreamParser, header_within_its_size_limit_is_accepted) {
    ParserLimits limits;
    limits.max_header_bytes = header.size();
    StreamParser parser{limits};
    parser.feed(header);
    auto events = drain(parser);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, StreamEvent::Kind::opened);
}

TEST(StreamParser, unfinished_header_fed_in_chunks_is_refused_once_over_the_limit) {
    ParserLimits limits;
    limits.max_header_bytes = 200;
    StreamParser parser{limits};
    parser.feed("<stream:stream xmlns='jabber:client' to='");
    std::optional<ParseError> error;
    for (int i = 0; i < 100 && !error; ++i) {
        parser.feed(std::string(10, 'x'));
        auto events = drain(parser);
        if (!events.empty()) error = error_of(events);
    }
    EXPECT_EQ(error, ParseError::too_large);
}

TEST(StreamParser, stanza_after_header_is_held_to_the_element_limit_not_the_header_limit) {
    ParserLimits limits;
    limits.max_header_bytes = header.size();
    limits.max_element_bytes = 5000;
    auto events = events_after_header(stanza_of_size(4000), limits);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, StreamEvent::Kind::element);
}

// ---------------------------------------------------------------------------------------------
// After an error

TEST(StreamParser, after_an_error_next_returns_nothing_and_feeding_produces_nothing) {
    StreamParser parser;
    parser.feed(header);
    ASSERT_EQ(drain(parser).size(), 1u);
    parser.feed("<a/>junk<b/>");
    auto events = drain(parser);
    ASSERT_EQ(error_of(events), ParseError::not_well_formed);
    EXPECT_FALSE(parser.next());
    parser.feed("<c/></stream:stream>");
    EXPECT_FALSE(parser.next());
    EXPECT_FALSE(parser.next());
}

// ---------------------------------------------------------------------------------------------
// reset() (RFC 6120 §4.3.3 stream restart)

TEST(StreamParser, reset_returns_the_bytes_after_the_last_event) {
    StreamParser parser;
    parser.feed(header);
    ASSERT_EQ(drain(parser).size(), 1u);
    parser.feed("<a/><b/>");
    auto event = parser.next();
    ASSERT_TRUE(event);
    EXPECT_EQ(event->element.name(), "a");
    EXPECT_EQ(parser.reset(), "<b/>");
}

TEST(StreamParser, reset_leaves_out_the_old_streams_whitespace_so_an_xml_declaration_may_follow) {
    StreamParser parser;
    parser.feed(header);
    ASSERT_EQ(drain(parser).size(), 1u);
    parser.feed("<auth/>\n \r\t");
    ASSERT_EQ(parser.next()->element.name(), "auth");
    parser.feed("<?xml version='1.0'?>\n");
    const std::string rest = parser.reset();
    EXPECT_EQ(rest, "<?xml version='1.0'?>\n");
    parser.feed(rest);
    parser.feed(header.substr(header.find("<stream:stream")));  // header without its own declaration
    auto event = parser.next();
    ASSERT_TRUE(event);
    EXPECT_EQ(event->kind, StreamEvent::Kind::opened);
}

TEST(StreamParser, reset_returns_bytes_fed_after_the_last_event_was_taken) {
    StreamParser parser;
    parser.feed(header);
    ASSERT_EQ(drain(parser).size(), 1u);
    parser.feed("<a/><b");
    ASSERT_EQ(parser.next()->element.name(), "a");
    parser.feed("/><c/>");
    EXPECT_EQ(parser.reset(), "<b/><c/>");
}

TEST(StreamParser, reset_returns_an_unfinished_element_the_caller_drained_up_to) {
    // A caller that drains until nullopt and then restarts must not lose the partial element
    // expat holds internally.
    StreamParser parser;
    parser.feed(header);
    ASSERT_EQ(drain(parser).size(), 1u);
    parser.feed("<a/><b><c");
    auto events = drain(parser);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(parser.reset(), "<b><c");
}

TEST(StreamParser, reset_after_byte_at_a_time_input_returns_every_byte_after_the_event) {
    const std::string after = "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
    const std::string restart = "<stream:stream xmlns='jabber:client'";
    StreamParser parser;
    parser.feed(header);
    ASSERT_EQ(drain(parser).size(), 1u);
    std::string input = after + restart;
    std::size_t i = 0;
    std::optional<StreamEvent> event;
    for (; i < input.size() && !event; ++i) {
        parser.feed(input.substr(i, 1));
        event = parser.next();
    }
    ASSERT_TRUE(event);
    EXPECT_EQ(event->element.name(), "response");
    std::string rest = parser.reset();
    EXPECT_EQ(rest + input.substr(i), restart);
}

TEST(StreamParser, reset_parses_a_fresh_stream_afterwards) {
    StreamParser parser;
    parser.feed(std::string(header) + "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" +
                std::string(header) + "<iq type='get' id='1'/>");
    EXPECT_EQ(parser.next()->kind, StreamEvent::Kind::opened);
    auto success = parser.next();
    ASSERT_TRUE(success);
    EXPECT_EQ(success->element.name(), "success");
    std::string rest = parser.reset();
    EXPECT_EQ(rest, std::string(header) + "<iq type='get' id='1'/>");
    EXPECT_EQ(parser.depth(), 0u);
    parser.feed(rest);
    auto events = drain(parser);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].kind, StreamEvent::Kind::opened);
    EXPECT_EQ(events[0].default_ns, client_ns);
    EXPECT_EQ(events[1].element.name(), "iq");
}

TEST(StreamParser, reset_clears_a_failure) {
    StreamParser parser;
    parser.feed("<!-- no -->");
    ASSERT_EQ(error_of(drain(parser)), ParseError::restricted_xml);
    parser.reset();
    parser.feed(header);
    auto event = parser.next();
    ASSERT_TRUE(event);
    EXPECT_EQ(event->kind, StreamEvent::Kind::opened);
}

TEST(StreamParser, reset_before_anything_is_parsed_returns_what_was_fed) {
    StreamParser parser;
    parser.feed("<stream:str");
    EXPECT_EQ(parser.reset(), "<stream:str");
}

// ---------------------------------------------------------------------------------------------
// Names and values

TEST(StreamParser, predefined_entities_and_character_references_are_decoded_in_text) {
    Element message = parse_stanza(
        "<message><body>&lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#x263a;&#128512;</body></message>");
    EXPECT_EQ(message.child_text("body", client_ns), "<>&\"' AB\xE2\x98\xBA\xF0\x9F\x98\x80");
}

TEST(StreamParser, predefined_entities_and_character_references_are_decoded_in_attributes) {
    Element message = parse_stanza("<message id='&lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#9;&#10;&#13;'/>");
    EXPECT_EQ(message.attribute("id"), "<>&\"' AB\t\n\r");
}

TEST(StreamParser, literal_whitespace_in_attribute_values_is_normalized_to_spaces) {
    // XML 1.0 §3.3.3: what the writer's character references protect against.
    Element message = parse_stanza("<message id='a\tb\nc'/>");
    EXPECT_EQ(message.attribute("id"), "a b c");
}

TEST(StreamParser, xml_lang_attribute_is_named_xml_lang) {
    Element message = parse_stanza("<message xml:lang='de'/>");
    EXPECT_EQ(message.attribute("xml:lang"), "de");
    ASSERT_EQ(message.attributes().size(), 1u);
    EXPECT_EQ(message.attributes()[0].name, "xml:lang");
}

TEST(StreamParser, namespaced_attribute_is_named_with_its_uri_in_braces) {
    Element message = parse_stanza("<message xmlns:foo='urn:example:foo' foo:bar='x' baz='y'/>");
    EXPECT_EQ(message.attribute("{urn:example:foo}bar"), "x");
    EXPECT_EQ(message.attribute("baz"), "y");
    EXPECT_EQ(message.attributes().size(), 2u);
}

TEST(StreamParser, elements_carry_their_namespace_by_uri_whatever_the_prefix) {
    Element message = parse_stanza(
        "<message xmlns:x='urn:example:x'><x:foo><x:bar/><baz/></x:foo></message>");
    EXPECT_EQ(message.xmlns(), client_ns);
    const Element* foo = message.find_child("foo", "urn:example:x");
    ASSERT_NE(foo, nullptr);
    EXPECT_NE(foo->find_child("bar", "urn:example:x"), nullptr);
    EXPECT_NE(foo->find_child("baz", client_ns), nullptr);
}

TEST(StreamParser, stanza_in_the_stream_prefix_namespace_keeps_that_namespace) {
    auto events = events_after_header(
        "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_TRUE(events[0].element.is("features", streams_ns));
}

TEST(StreamParser, mixed_content_keeps_its_order) {
    Element body = parse_stanza("<body>a<b>1</b>c<i/>d</body>");
    const auto& children = body.children();
    ASSERT_EQ(children.size(), 5u);
    EXPECT_EQ(children[0].text, "a");
    EXPECT_EQ(children[1].element->name(), "b");
    EXPECT_EQ(children[2].text, "c");
    EXPECT_EQ(children[3].element->name(), "i");
    EXPECT_EQ(children[4].text, "d");
}

TEST(StreamParser, text_split_across_feeds_is_one_text_node) {
    StreamParser parser;
    parser.feed(header);
    ASSERT_EQ(drain(parser).size(), 1u);
    parser.feed("<body>hel");
    EXPECT_TRUE(drain(parser).empty());
    parser.feed("lo &am");
    EXPECT_TRUE(drain(parser).empty());
    parser.feed("p; world</body>");
    auto events = drain(parser);
    ASSERT_EQ(events.size(), 1u);
    ASSERT_EQ(events[0].element.children().size(), 1u);
    EXPECT_EQ(events[0].element.text(), "hello & world");
}

}  // namespace
}  // namespace starling::xml

namespace starling::xml {
namespace {

// A parser released between stanzas (idle connections) must behave as if it never was.
std::vector<std::string> events_with_release_between(const std::vector<std::string_view>& chunks) {
    StreamParser parser;
    std::vector<std::string> out;
    for (auto chunk : chunks) {
        parser.feed(chunk);
        append_drained(parser, out);
        parser.release();
    }
    return out;
}

TEST(StreamParser, released_parser_yields_the_same_events_as_one_that_never_was) {
    std::vector<std::string_view> chunks = {
        header,
        "<message to='a@b'><body>one</body></message>",
        " ",
        "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>",
        "<stream:error><x xmlns='urn:x'/></stream:error>",
        "</stream:stream>",
    };
    std::string whole;
    for (auto c : chunks) whole += c;
    EXPECT_EQ(events_with_release_between(chunks), parse_in_one_piece(whole));
}

TEST(StreamParser, release_frees_the_parser_only_between_elements) {
    StreamParser parser;
    parser.feed(header);
    drain(parser);
    parser.feed("<message><body>half");
    drain(parser);
    EXPECT_FALSE(parser.release());
    parser.feed("</body></message>");
    EXPECT_EQ(drain(parser).size(), 1u);
    EXPECT_TRUE(parser.release());
    EXPECT_TRUE(parser.released());
}

TEST(StreamParser, revived_parser_still_enforces_limits_and_refusals) {
    StreamParser parser{ParserLimits{64, 4096, 64}};
    parser.feed(header);
    drain(parser);
    ASSERT_TRUE(parser.release());
    parser.feed("<message><body>" + std::string(100, 'x') + "</body></message>");
    EXPECT_EQ(error_of(drain(parser)), ParseError::too_large);

    StreamParser other;
    other.feed(header);
    drain(other);
    ASSERT_TRUE(other.release());
    other.feed("<!-- no -->");
    EXPECT_EQ(error_of(drain(other)), ParseError::restricted_xml);
}

TEST(StreamParser, reset_of_a_released_parser_returns_the_bytes_fed_since) {
    StreamParser parser;
    parser.feed(header);
    drain(parser);
    ASSERT_TRUE(parser.release());
    parser.feed("<a/>");
    EXPECT_EQ(parser.reset(), "<a/>");
}


// ---------------------------------------------------------------------------------------------
// Before the header (a fuzzer's finding, issue 23)

TEST(StreamParser, anything_but_whitespace_and_markup_before_the_header_is_refused_at_once) {
    // expat reads a stray quote there as the start of a literal: fed whole it waited for more,
    // fed a byte at a time it failed. Both must fail, at once.
    constexpr char bytes[] = "'\0\x03<m\0aw?:xm\0'";
    const std::string junk{bytes, sizeof bytes - 1};
    EXPECT_EQ(error_of_document(junk), ParseError::not_well_formed);
    StreamParser bytewise;
    std::vector<StreamEvent> events;
    for (char c : junk) {
        bytewise.feed(std::string_view{&c, 1});
        for (auto& e : drain(bytewise)) events.push_back(std::move(e));
    }
    EXPECT_EQ(error_of(events), ParseError::not_well_formed);
    EXPECT_EQ(error_of_document("hello <stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"),
              ParseError::not_well_formed);
}

TEST(StreamParser, a_byte_order_mark_a_declaration_and_whitespace_may_come_before_the_header) {
    StreamParser parser;
    parser.feed("\xEF\xBB\xBF<?xml version='1.0' encoding='UTF-8'?>\n "
                "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='a>b'>");
    auto events = drain(parser);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, StreamEvent::Kind::opened);
    EXPECT_EQ(events[0].element.attribute("to"), "a>b");
}

}  // namespace
}  // namespace starling::xml
