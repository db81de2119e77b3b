// XEP-0115 §5.2 and §5.3: the verification strings of the spec's own examples, and a hash
// this build does not know.
#include "xmpp/caps.hpp"

#include <gtest/gtest.h>

#include "xml/parse_element.hpp"

namespace starling::xmpp {
namespace {

xml::Element parse(std::string_view text) {
    auto e = xml::parse_element(text);
    if (!e) throw std::runtime_error("unparsable test input");
    return std::move(*e);
}

TEST(Caps, the_simple_example_of_5_2) {
    auto query = parse(
        "<query xmlns='http://jabber.org/protocol/disco#info'>"
        "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
        "<feature var='http://jabber.org/protocol/caps'/>"
        "<feature var='http://jabber.org/protocol/disco#items'/>"
        "<feature var='http://jabber.org/protocol/disco#info'/>"
        "<feature var='http://jabber.org/protocol/muc'/></query>");
    EXPECT_EQ(caps_verification(query), "QgayPKawpkPSDYmwT/WM94uAlu0=");
}

TEST(Caps, the_complex_example_of_5_3_with_languages_and_a_form) {
    auto query = parse(
        "<query xmlns='http://jabber.org/protocol/disco#info'>"
        "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"
        "<identity xml:lang='el' category='client' name='\xCE\xA8 0.11' type='pc'/>"
        "<feature var='http://jabber.org/protocol/caps'/>"
        "<feature var='http://jabber.org/protocol/disco#info'/>"
        "<feature var='http://jabber.org/protocol/disco#items'/>"
        "<feature var='http://jabber.org/protocol/muc'/>"
        "<x xmlns='jabber:x:data' type='result'>"
        "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>"
        "<field var='ip_version' type='text-multi'><value>ipv4</value><value>ipv6</value></field>"
        "<field var='os'><value>Mac</value></field>"
        "<field var='os_version'><value>10.5.1</value></field>"
        "<field var='software'><value>Psi</value></field>"
        "<field var='software_version'><value>0.11</value></field></x></query>");
    EXPECT_EQ(caps_verification(query), "q07IKJEyjvHSyhy//CH0CxmKi8w=");
    EXPECT_NE(caps_verification(query, "sha-256"), caps_verification(query));
    EXPECT_EQ(caps_verification(query, "no-such-hash"), std::nullopt);
}

}  // namespace
}  // namespace starling::xmpp
