// Built by run.sh against an expat header without XML_SetReparseDeferralEnabled, then run
// against whatever libexpat is installed: a stanza whose long start tag arrives in small
// pieces must come out as soon as its last byte is fed. A library that defers re-parsing
// (expat >= 2.6, Debian's later 2.5.0 builds) would hold it back unless the parser finds
// and switches off that deferral at run time.
#include <cstdio>
#include <string>

#include "xml/stream_parser.hpp"

int main() {
    using starling::xml::StreamEvent;
    starling::xml::StreamParser parser;
    parser.feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
    auto opened = parser.next();
    if (!opened || opened->kind != StreamEvent::Kind::opened) return std::puts("FAIL: no stream header"), 1;
    std::string stanza = "<message to='a@b' id='" + std::string(4000, 'x') + "'><body>hi</body></message>";
    for (std::size_t at = 0; at < stanza.size(); at += 7) {
        parser.feed(std::string_view(stanza).substr(at, 7));
        auto event = parser.next();
        bool last = at + 7 >= stanza.size();
        if (event && !last) return std::puts("FAIL: an event before the stanza's end"), 1;
        if (last) {
            if (event && event->kind == StreamEvent::Kind::element) return std::puts("deferral probe: ok"), 0;
            return std::puts("FAIL: the stanza was held back after its last byte"), 1;
        }
    }
    return 1;
}
