#include "xml/writer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "xml/stream_parser.hpp"

namespace starling::xml {
namespace {

constexpr std::string_view client_ns = "jabber:client";
constexpr std::string_view streams_ns = "http://etherx.jabber.org/streams";
constexpr std::string_view stream_errors_ns = "urn:ietf:params:xml:ns:xmpp-streams";

constexpr std::string_view header =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

// The writer's context inside an element whose default namespace is `ns`.
WriteContext in_scope(std::string_view ns) { return WriteContext{ns, {}, {}}; }

const WriteContext in_client_stream = in_scope(client_ns);

// What the writer wrote, read back by the parser inside a jabber:client stream.
Element read_back(std::string_view stanza) {
    StreamParser parser;
    parser.feed(header);
    parser.feed(stanza);
    auto opened = parser.next();
    EXPECT_TRUE(opened && opened->kind == StreamEvent::Kind::opened);
    auto event = parser.next();
    if (!event || event->kind != StreamEvent::Kind::element) {
        ADD_FAILURE() << "the parser did not read back " << stanza
                      << (event && event->kind == StreamEvent::Kind::error
                              ? " (" + std::string(describe(event->error)) + ")"
                              : std::string{});
        return {};
    }
    EXPECT_FALSE(parser.next());
    return std::move(event->element);
}

std::string escaped_text(std::string_view s) {
    std::string out;
    escape_text(out, s);
    return out;
}

std::string escaped_attribute(std::string_view s) {
    std::string out;
    escape_attribute(out, s);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Escaping

TEST(Writer, text_escapes_ampersand_and_angle_brackets) {
    EXPECT_EQ(escaped_text("a & b < c > d"), "a &amp; b &lt; c &gt; d");
    EXPECT_EQ(escaped_text("</body><script>"), "&lt;/body&gt;&lt;script&gt;");
}

TEST(Writer, text_leaves_quotes_and_plain_text_alone) {
    EXPECT_EQ(escaped_text("\"quoted\" it's"), "\"quoted\" it's");
    EXPECT_EQ(escaped_text("plain \xE2\x98\xBA text"), "plain \xE2\x98\xBA text");
    EXPECT_EQ(escaped_text(""), "");
}

TEST(Writer, attribute_escapes_ampersand_angle_brackets_and_both_quotes) {
    EXPECT_EQ(escaped_attribute("&<>\"'"), "&amp;&lt;&gt;&quot;&apos;");
}

TEST(Writer, attribute_writes_tab_newline_and_carriage_return_as_character_references) {
    EXPECT_EQ(escaped_attribute("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d");
}

TEST(Writer, escaped_text_reads_back_as_the_original_string) {
    const std::string original = "a & b < c > d \" ' ]]> &amp; \t\n\r\n end";
    Element body{"body", std::string(client_ns)};
    body.add_text(original);
    Element back = read_back(to_string(body, in_client_stream));
    EXPECT_EQ(back.text(), original);
}

TEST(Writer, escaped_attribute_reads_back_as_the_original_string) {
    const std::string original = "& < > \" ' &amp; \t \n \r \r\n  two  spaces";
    Element message{"message", std::string(client_ns)};
    message.set_attribute("id", original);
    message.set_attribute("xml:lang", "it's");
    Element back = read_back(to_string(message, in_client_stream));
    EXPECT_EQ(back.attribute("id"), original);
    EXPECT_EQ(back.attribute("xml:lang"), "it's");
}

TEST(Writer, markup_in_text_and_attributes_cannot_inject_elements) {
    Element message{"message", std::string(client_ns)};
    message.set_attribute("to", "x'/><iq type='set");
    message.add_child("body", std::string(client_ns)).add_text("</body><iq type='set'/>");
    Element back = read_back(to_string(message, in_client_stream));
    EXPECT_EQ(back.child_element_count(), 1u);
    EXPECT_EQ(back.attribute("to"), "x'/><iq type='set");
    EXPECT_EQ(back.child_text("body", client_ns), "</body><iq type='set'/>");
}

// ---------------------------------------------------------------------------------------------
// Namespaces

TEST(Writer, namespace_equal_to_the_inherited_one_is_not_declared) {
    Element message{"message", std::string(client_ns)};
    EXPECT_EQ(to_string(message, in_client_stream), "<message/>");
}

TEST(Writer, namespace_different_from_the_inherited_one_is_declared) {
    Element message{"message", std::string(client_ns)};
    EXPECT_EQ(to_string(message), "<message xmlns='jabber:client'/>");
    EXPECT_EQ(to_string(message, in_scope("jabber:server")),
              "<message xmlns='jabber:client'/>");
}

TEST(Writer, child_namespace_is_declared_only_where_it_differs_from_the_parent) {
    Element message{"message", std::string(client_ns)};
    message.add_child("body", std::string(client_ns)).add_text("hi");
    Element& x = message.add_child("x", "urn:example:x");
    x.add_child("item", "urn:example:x");
    x.add_child("body", std::string(client_ns));
    EXPECT_EQ(to_string(message, in_client_stream),
              "<message><body>hi</body>"
              "<x xmlns='urn:example:x'><item/><body xmlns='jabber:client'/></x></message>");
}

TEST(Writer, element_in_no_namespace_undeclares_the_default_namespace) {
    Element message{"message", std::string(client_ns)};
    message.add_child("plain", "");
    EXPECT_EQ(to_string(message, in_client_stream), "<message><plain xmlns=''/></message>");
    EXPECT_EQ(read_back(to_string(message, in_client_stream)).find_child("plain", "") != nullptr, true);
}

TEST(Writer, prefixed_namespace_is_written_with_its_prefix_and_no_declaration) {
    Element error{"error", std::string(streams_ns)};
    error.add_child("not-well-formed", std::string(stream_errors_ns));
    error.add_child("text", std::string(stream_errors_ns)).add_text("bad & wrong");
    WriteContext context{.inherited_ns = client_ns, .prefixed_ns = streams_ns, .prefix = "stream"};
    EXPECT_EQ(to_string(error, context),
              "<stream:error>"
              "<not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
              "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bad &amp; wrong</text>"
              "</stream:error>");
}

TEST(Writer, stream_features_read_back_in_the_stream_namespace) {
    Element features{"features", std::string(streams_ns)};
    features.add_child("starttls", "urn:ietf:params:xml:ns:xmpp-tls").add_child("required", "urn:ietf:params:xml:ns:xmpp-tls");
    features.add_child("bind", "urn:ietf:params:xml:ns:xmpp-bind");
    WriteContext context{.inherited_ns = client_ns, .prefixed_ns = streams_ns, .prefix = "stream"};
    std::string xml = to_string(features, context);
    EXPECT_EQ(xml,
              "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
              "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>");
    Element back = read_back(xml);
    EXPECT_TRUE(back.is("features", streams_ns));
    EXPECT_EQ(to_string(back, context), xml);
}

TEST(Writer, child_of_a_prefixed_element_in_the_inherited_namespace_is_not_declared) {
    Element features{"features", std::string(streams_ns)};
    features.add_child("thing", std::string(client_ns));
    WriteContext context{.inherited_ns = client_ns, .prefixed_ns = streams_ns, .prefix = "stream"};
    EXPECT_EQ(to_string(features, context), "<stream:features><thing/></stream:features>");
}

TEST(Writer, namespaced_attribute_gets_a_declared_prefix_and_reads_back_by_uri) {
    Element message{"message", std::string(client_ns)};
    message.set_attribute("{urn:example:a}flag", "1");
    message.set_attribute("id", "m1");
    std::string xml = to_string(message, in_client_stream);
    Element back = read_back(xml);
    EXPECT_EQ(back.attribute("{urn:example:a}flag"), "1") << xml;
    EXPECT_EQ(back.attribute("id"), "m1");
}

TEST(Writer, xml_lang_attribute_is_written_with_the_xml_prefix) {
    Element message{"message", std::string(client_ns)};
    message.set_attribute("xml:lang", "en");
    EXPECT_EQ(to_string(message, in_client_stream), "<message xml:lang='en'/>");
    EXPECT_EQ(read_back("<message xml:lang='en'/>").attribute("xml:lang"), "en");
}

// ---------------------------------------------------------------------------------------------
// Shape

TEST(Writer, element_without_children_is_written_self_closing) {
    Element ping{"ping", "urn:xmpp:ping"};
    ping.set_attribute("a", "b");
    EXPECT_EQ(to_string(ping, in_scope("urn:xmpp:ping")), "<ping a='b'/>");
}

TEST(Writer, attributes_keep_their_order) {
    Element iq{"iq", std::string(client_ns)};
    iq.set_attribute("type", "get").set_attribute("id", "1").set_attribute("to", "example.com");
    EXPECT_EQ(to_string(iq, in_client_stream), "<iq type='get' id='1' to='example.com'/>");
}

TEST(Writer, mixed_content_keeps_its_order) {
    Element body{"body", std::string(client_ns)};
    body.add_text("a");
    body.add_child("b", std::string(client_ns)).add_text("1");
    body.add_text("c");
    body.add_child("i", std::string(client_ns));
    body.add_text("d");
    std::string xml = to_string(body, in_client_stream);
    EXPECT_EQ(xml, "<body>a<b>1</b>c<i/>d</body>");
    EXPECT_EQ(to_string(read_back(xml), in_client_stream), xml);
}

TEST(Writer, write_appends_to_the_callers_string) {
    std::string out = "prefix:";
    write(out, Element{"a", "urn:a"}, in_scope("urn:a"));
    write(out, Element{"b", "urn:a"}, in_scope("urn:a"));
    EXPECT_EQ(out, "prefix:<a/><b/>");
}

TEST(Writer, shared_subtree_is_written_wherever_it_appears) {
    auto shared = std::make_shared<Element>("item", "urn:example:x");
    shared->add_text("same");
    Element list{"list", "urn:example:x"};
    list.add_child(shared);
    list.add_child(shared);
    EXPECT_EQ(to_string(list, in_scope("urn:example:x")),
              "<list><item>same</item><item>same</item></list>");
}

TEST(Writer, parsed_stanza_is_written_back_byte_for_byte_when_already_canonical) {
    const std::string xml =
        "<message from='juliet@example.com/balcony' to='romeo@example.net' type='chat' id='m1'>"
        "<body>Wherefore &amp; why &lt;3</body>"
        "<active xmlns='http://jabber.org/protocol/chatstates'/>"
        "<x xmlns='jabber:x:data' type='form'><field var='a'><value>1</value></field></x>"
        "</message>";
    EXPECT_EQ(to_string(read_back(xml), in_client_stream), xml);
}

TEST(Writer, ten_thousand_deep_tree_is_written_without_recursion) {
    constexpr int depth = 10'000;
    Element root{"a", "urn:deep"};
    Element* leaf = &root;
    for (int i = 1; i < depth; ++i) leaf = &leaf->add_child("a", "urn:deep");
    leaf->add_text("bottom");

    std::string xml = to_string(root, in_scope("urn:deep"));
    std::string expected;
    for (int i = 0; i < depth; ++i) expected += "<a>";
    expected += "bottom";
    for (int i = 0; i < depth; ++i) expected += "</a>";
    EXPECT_EQ(xml, expected);
    // `root` is destroyed here, recursively through its shared_ptr children.
}


// ---------------------------------------------------------------------------------------------
// A tree that would multiply itself (found reading the fuzz targets, issue 23)

// A stanza that declared a long namespace once with a prefix, for thousands of children.
Element amplifier(std::size_t children, std::size_t uri_bytes) {
    std::string uri = "urn:" + std::string(uri_bytes, 'x');
    Element message{"message", std::string(client_ns)};
    for (std::size_t i = 0; i < children; ++i) message.add_child("b", uri).set_attribute("{" + uri + "}a", "1");
    return message;
}

TEST(Writer, a_namespace_declared_once_in_the_input_is_not_written_once_per_child) {
    // Read as it would arrive: 20 KB of input.
    Element message = amplifier(2'000, 1'000);
    std::string xml = to_string(message, in_client_stream);
    // Before: 2,000 × (xmlns='urn:x…' + xmlns:ns1='urn:x…') ≈ 4 MB.
    EXPECT_LT(xml.size(), 40'000u);
    Element back = read_back(xml);
    ASSERT_EQ(back.child_element_count(), 2'000u);
    for (const auto& child : back.children()) {
        ASSERT_TRUE(child.element);
        EXPECT_EQ(child.element->xmlns(), "urn:" + std::string(1'000, 'x'));
        EXPECT_EQ(child.element->attribute("{urn:" + std::string(1'000, 'x') + "}a"), "1");
    }
}

TEST(Writer, the_prefixed_form_replaces_nothing_already_in_the_callers_string) {
    std::string out = "<earlier/>";
    write(out, amplifier(2'000, 1'000), in_client_stream);
    EXPECT_TRUE(out.starts_with("<earlier/><message"));
    EXPECT_EQ(out.find("<message", 1), out.rfind("<message"));  // written once
}

TEST(Writer, ordinary_stanzas_keep_the_default_namespace_form) {
    // A few payloads in other namespaces, even repeated, are declared where they are.
    Element message{"message", std::string(client_ns)};
    message.add_child("x", "jabber:x:oob").add_child("url", "jabber:x:oob").add_text("https://example.org/a");
    message.add_child("x", "jabber:x:oob").add_child("url", "jabber:x:oob").add_text("https://example.org/b");
    EXPECT_EQ(to_string(message, in_client_stream),
              "<message><x xmlns='jabber:x:oob'><url>https://example.org/a</url></x>"
              "<x xmlns='jabber:x:oob'><url>https://example.org/b</url></x></message>");
}


TEST(Writer, content_namespace_elements_are_never_given_a_prefix) {
    // RFC 6120 §4.8.5: even when the rest of the tree is written with prefixes.
    Element message{"message", std::string(client_ns)};
    Element& x = message.add_child("x", "urn:" + std::string(200, 'x'));
    for (int i = 0; i < 300; ++i) x.add_child("message", std::string(client_ns));
    for (int i = 0; i < 300; ++i) message.add_child("y", "urn:" + std::string(200, 'x'));
    std::string xml = to_string(message, in_client_stream);
    EXPECT_EQ(xml.find(":message"), std::string::npos);
    Element back = read_back(xml);
    EXPECT_EQ(back.child_element_count(), 301u);
    const Element* inner = back.first_child_element();
    ASSERT_NE(inner, nullptr);
    EXPECT_EQ(inner->child_element_count(), 300u);
    EXPECT_EQ(inner->first_child_element()->xmlns(), client_ns);
}

TEST(Writer, an_element_in_the_xml_namespace_is_written_with_the_xml_prefix) {
    // It may not be declared (XML Namespaces §3): xmlns='http://www.w3.org/XML/1998/namespace'
    // would break the recipient's parser.
    Element message = read_back("<message><body>x</body><xml:x/></message>");
    std::string xml = to_string(message, in_client_stream);
    EXPECT_EQ(xml, "<message><body>x</body><xml:x/></message>");
    EXPECT_NE(read_back(xml).find_child("x", "http://www.w3.org/XML/1998/namespace"), nullptr);
}


TEST(Writer, a_namespaced_attribute_whose_uri_holds_a_brace_reads_back_the_same) {
    // Found by fuzz_xml_round_trip: the name is "{uri}local" and a URI may contain '}'.
    Element message = read_back("<message xmlns:foo='urn:example:[}foo' foo:bar='x'/>");
    ASSERT_EQ(message.attributes().size(), 1u);
    Element back = read_back(to_string(message, in_client_stream));
    EXPECT_EQ(back.attribute("{urn:example:[}foo}bar"), "x");
    EXPECT_EQ(back.attributes().size(), 1u);
}

}  // namespace
}  // namespace starling::xml
