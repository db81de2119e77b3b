#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer targets (fuzz/<name>.cpp -> fuzz/corpus/<name>/).

Run from anywhere: python3 fuzz/corpus/make_seeds.py [--rfcs DIR]. Each target's folder is
emptied of the seeds this script writes and written again; files are one input each.
Sources: the unit tests (tests/unit/...), RFC examples (RFC 6120, 6121, 7622, 5802), the
interop tests (tests/interop/*.py) and starling.example.toml.

The scram_server seeds that should succeed are computed here (RFC 5802 §3) and checked
against a Python copy of both the server's rules (src/xmpp/sasl/scram.cpp) and the target's
oracle (fuzz/scram_server.cpp); the script fails if a seed does not behave as labelled.
"""
import argparse
import base64
import hashlib
import hmac
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MAX_FILE = 4096
MAX_FILES = 40
MAX_FOLDER = 60 * 1024

corpus = {}  # target -> {name: bytes}


def seed(target, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_FILE:
        raise SystemExit(f"{target}/{name}: {len(data)} bytes, over {MAX_FILE}")
    files = corpus.setdefault(target, {})
    if name in files:
        raise SystemExit(f"{target}/{name}: written twice")
    files[name] = data


# --------------------------------------------------------------------------------------------
# RFC example extraction: the client's lines ("C: ...") of RFC 6120/6121 examples.

def client_blocks(path, first_line=1, last_line=None):
    """Each 'C:' example of an RFC as text: its first line and the indented lines after it."""
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    except OSError:
        return []
    lines = lines[first_line - 1:last_line]
    blocks, cur = [], None
    for line in lines:
        if line.startswith("   C: "):
            if cur:
                blocks.append("\n".join(cur))
            cur = [line[6:]]
        elif cur is not None and line.startswith("      ") and line.strip():
            cur.append(line[6:])
        else:
            if cur:
                blocks.append("\n".join(cur))
            cur = None
    if cur:
        blocks.append("\n".join(cur))
    return [b for b in blocks if b.lstrip().startswith("<")]


def well_formed_stanza(block):
    """Parses (Python's expat) inside a client stream, without comments or PIs."""
    import xml.parsers.expat
    if "<!--" in block or "<?" in block:
        return False
    p = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    try:
        p.Parse("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
                + block + "</stream:stream>", True)
    except xml.parsers.expat.ExpatError:
        return False
    return True


def section_lines(path, start_heading, end_heading):
    """The line numbers (1-based) of an RFC section, from its heading to the next one given."""
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    except OSError:
        return None
    start = next((i for i, l in enumerate(lines, 1) if l.startswith(start_heading)), None)
    end = next((i for i, l in enumerate(lines, 1) if l.startswith(end_heading) and start and i > start), None)
    return (start, end) if start and end else None


def is_header(block):
    b = block.lstrip()
    return b.startswith("<?xml") or b.startswith("<stream:stream")


# --------------------------------------------------------------------------------------------
# stream_parser: whole client streams, valid and hostile.

NS_CLIENT = "jabber:client"
NS_STREAMS = "http://etherx.jabber.org/streams"
HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0' xml:lang='en'>")
HEADER_NODECL = HEADER[len("<?xml version='1.0'?>"):]
CLOSE = "</stream:stream>"

REALISTIC = (HEADER + "\n"
             "<message from='juliet@example.com/balcony' to='romeo@example.net' type='chat' id='m1'"
             " xml:lang='en'>"
             "<body>Wherefore art thou, Romeo? &amp; &lt;3 \u263a</body>"
             "<active xmlns='http://jabber.org/protocol/chatstates'/>"
             "</message> \n \t "
             "<iq type='get' id='ping-1' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>\n" + CLOSE)


def billion_laughs():
    ents = ["<!ENTITY lol 'lol'>", "<!ENTITY lol1 '" + "&lol;" * 10 + "'>"]
    ents += [f"<!ENTITY lol{i} '" + f"&lol{i - 1};" * 10 + "'>" for i in range(2, 10)]
    return "<!DOCTYPE lolz [" + "".join(ents) + "]>"


def stream_parser_seeds(rfcs):
    t = "stream_parser"
    seed(t, "unit-realistic-stream", REALISTIC)
    seed(t, "unit-header-only", HEADER)
    seed(t, "unit-header-no-decl", HEADER_NODECL + "<presence/>" + CLOSE)
    seed(t, "unit-text-refs-cdata",
         HEADER + "<message><body>a&amp;b&#x263A;\u263a\r\n<![CDATA[<x>]]]]>y&#x" + "0" * 100 + "41;</body></message>")
    seed(t, "unit-split-end-tag", HEADER + "<message><body>hi</body></messa" + "ge>" + CLOSE)
    seed(t, "unit-sasl-restart",
         HEADER + "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" + HEADER + "<iq type='get' id='1'/>")
    seed(t, "unit-whitespace-keepalive", HEADER + " \n\r\t" * 20 + "<a/>" + " " * 100 + "<b/>hello<c/>")
    seed(t, "unit-server-ns", "<stream:stream xmlns='jabber:server' xmlns:stream='" + NS_STREAMS + "'><a/><b/>" + CLOSE)
    seed(t, "unit-entities-charrefs",
         HEADER + "<message id='&lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#9;&#10;&#13;'>"
         "<body>&lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#x263a;&#128512;</body></message>")
    seed(t, "unit-declared-prefixes",
         HEADER + "<message xmlns:x='urn:example:x' x:bar='x' baz='y'><x:foo><x:bar/><baz/></x:foo></message>")
    seed(t, "unit-features", HEADER + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>")
    # Hostile ones.
    seed(t, "hostile-doctype-entity", "<!DOCTYPE stream:stream [<!ENTITY x 'y'>]>" + HEADER_NODECL + "<a>&x;</a>")
    seed(t, "hostile-billion-laughs-before-root", "<?xml version='1.0'?>" + billion_laughs() + HEADER_NODECL)
    seed(t, "hostile-billion-laughs-in-stream", HEADER + billion_laughs() + "<message><body>&lol9;</body></message>")
    seed(t, "hostile-undeclared-entity", HEADER + "<message to='bob@localhost'><body>&lol9;</body></message>")
    seed(t, "hostile-comment", HEADER + "<!-- a comment --><message><body>a<!-- b -->c</body></message>")
    # A prefix declared once and used by many children: the writer declares the namespace on
    # every child, so the written form grows much faster than the input (kept under the
    # target's 8 * max_element_bytes + 1024 bound here; longer URIs or more children exceed it).
    seed(t, "hostile-prefix-redeclared",
         HEADER + "<message xmlns:p='urn:" + "x" * 200 + "'>" + "<p:b/>" * 40 + "</message>" + CLOSE)
    seed(t, "hostile-long-comment", HEADER + "<!--" + ">" * 2500 + "-->")
    seed(t, "hostile-pi", HEADER + "<?evil instruction?><message to='bob@localhost'><?evil pi?></message>")
    seed(t, "hostile-pi-before-root", "<?xml version='1.0'?><?evil pi?>" + HEADER_NODECL)
    seed(t, "hostile-deep-9", HEADER + "<message>" + "<a>" * 8 + "</a>" * 8 + "</message>")
    seed(t, "hostile-deep-7-ok", HEADER + "<message>" + "<a>" * 6 + "</a>" * 6 + "</message>" + CLOSE)
    seed(t, "hostile-deep-unclosed", HEADER + "<x xmlns='urn:test'>" * 40)
    seed(t, "hostile-oversized-body", HEADER + "<message><body>" + "a" * 2100 + "</body></message>")
    seed(t, "hostile-oversized-attribute", HEADER + "<message id='" + "x" * 2100 + "'/>")
    seed(t, "hostile-oversized-header",
         "<stream:stream xmlns='jabber:client' xmlns:stream='" + NS_STREAMS + "' to='" + "x" * 600 + "'>")
    seed(t, "hostile-unbound-prefix", HEADER + "<foo:message to='bob@localhost'><body>x</body></foo:message>")
    seed(t, "hostile-unbound-attr-prefix", HEADER + "<message to='bob@localhost' foo:bar='1'><body>x</body></message>")
    seed(t, "hostile-invalid-utf8", HEADER.encode() + b"<message><body>\xc3\x28 \xff\xfe \xc0\xaf</body></message>")
    seed(t, "hostile-surrogate-attr", HEADER.encode() + b"<message to='\xed\xa0\x80'/>")
    seed(t, "hostile-nul-byte", HEADER.encode() + b"<message><body>a\x00b</body><body>&#0;</body></message>")
    seed(t, "hostile-second-root-header", HEADER + "<stream:stream xmlns='jabber:client' xmlns:stream='" + NS_STREAMS + "'>" + "<a/>")
    seed(t, "hostile-multibyte-split",
         HEADER + "<message><body>" + "\u263a\U0001F600\u00e9\u4e00" * 20 + "</body></message>" + CLOSE)
    seed(t, "hostile-both-quotes",
         HEADER + "<message to=\"romeo@example.net\" id='a\"b' type=\"chat\" xml:lang=\"en\"><body a=\"it's\">x</body></message>")
    seed(t, "hostile-cdata-top-level", HEADER + "<![CDATA[hello]]><a/>")
    seed(t, "hostile-mismatched-tag", HEADER + "<message><body></message>")
    seed(t, "hostile-iso-8859-1", "<?xml version='1.0' encoding='ISO-8859-1'?>" + HEADER_NODECL + "<a>\xe9</a>")
    seed(t, "hostile-malformed-header", "<stream:stream xmlns='jabber:client' <<>>")
    # RFC 6120 §9.1: the client's side of a whole session (TLS, SASL, bind, stanzas, close),
    # as one stream.
    rfc6120 = os.path.join(rfcs, "rfc6120.txt")
    span = section_lines(rfc6120, "9.1.  Client-to-Server Examples", "9.2.  Server-to-Server Examples")
    if span:
        session = "\n".join(client_blocks(rfc6120, *span))
        if session:
            seed(t, "rfc6120-9.1-session", session)
    # RFC 6120 client examples: each header block with the client blocks that follow it.
    blocks = client_blocks(rfc6120)
    streams, cur = [], None
    for b in blocks:
        if is_header(b):
            if cur:
                streams.append(cur)
            cur = b
        elif cur is not None:
            cur += "\n" + b
    if cur:
        streams.append(cur)
    n = 0
    for s in streams:
        data = s.encode()
        if len(data) > 1500 or n >= 1:
            continue
        n += 1
        seed(t, f"rfc6120-stream-{n}", data)


# --------------------------------------------------------------------------------------------
# xml_round_trip: what follows the stream header.

def xml_round_trip_seeds(rfcs):
    t = "xml_round_trip"
    seed(t, "unit-message-chatstate",
         "<message from='juliet@example.com/balcony' to='romeo@example.net' type='chat' id='m1' xml:lang='en'>"
         "<body>Wherefore art thou, Romeo? &amp; &lt;3 \u263a</body>"
         "<active xmlns='http://jabber.org/protocol/chatstates'/></message>")
    seed(t, "escape-attributes",
         "<message id='&lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#9;&#10;&#13;' to=\"a'b&quot;c\"/>")
    seed(t, "escape-text", "<message><body>&lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#x263a;&#128512; ]]&gt; </body></message>")
    seed(t, "attr-whitespace", "<message id='a\tb\nc\r\nd'/>")
    seed(t, "xml-lang", "<message xml:lang='de'><body xml:lang='en'>hi</body><body>hallo</body></message>")
    seed(t, "prefixed-attr", "<message xmlns:foo='urn:example:foo' foo:bar='x' baz='y'/>")
    seed(t, "prefixed-element", "<message xmlns:x='urn:example:x'><x:foo><x:bar/><baz/></x:foo></message>")
    seed(t, "prefixed-both", "<iq type='get' id='1'><x:foo xmlns:x='urn:x' x:bar='1' bar='2'/></iq>")
    seed(t, "prefix-same-local-names",
         "<message xmlns:a='urn:a' xmlns:b='urn:b' a:id='1' b:id='2' id='3'><a:x b:y='&amp;'/></message>")
    seed(t, "prefix-rebound", "<message xmlns:p='urn:one'><p:a><p:b xmlns:p='urn:two' p:c='v'/></p:a></message>")
    seed(t, "prefix-for-default-ns", "<message xmlns:c='jabber:client'><c:body>x</c:body><c:thread/></message>")
    seed(t, "empty-xmlns", "<message><x xmlns=''><y/></x><z xmlns='urn:z'><w xmlns=''/></z></message>")
    seed(t, "mixed-content", "<body>a<b>1</b>c<i/>d<![CDATA[<e>&amp;]]>f</body>")
    seed(t, "cdata", "<message><body>a<![CDATA[<b>&amp;</b>]]>c<![CDATA[]]>]]&gt;</body></message>")
    seed(t, "non-client-namespace",
         "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM</auth>")
    seed(t, "stream-prefixed", "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>")
    seed(t, "bind", "<iq type='set' id='bind_1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony \u265a</resource></bind></iq>")
    seed(t, "several-stanzas-and-close",
         "<presence/> \n<iq type='get' id='1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>"
         "<message to='bob@localhost'><body>hi</body></message></stream:stream>")
    seed(t, "unicode-names", "<m\u00e9ssage xmlns='urn:\u00e9' \u00e0='\u4e00'><\u4e00/></m\u00e9ssage>")
    seed(t, "xml-prefix-declared", "<message xmlns:xml='http://www.w3.org/XML/1998/namespace' xml:lang='fr'/>")
    seed(t, "nested-defaults",
         "<iq type='result' id='r'><query xmlns='jabber:iq:roster' ver='1'><item jid='a@b' name='&lt;A&gt;'>"
         "<group>Friends &amp; Family</group></item></query></iq>")
    seed(t, "error-stanza",
         "<message type='error' id='e'><error type='cancel'><service-unavailable "
         "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' "
         "xml:lang='en'>a &lt;b&gt; c</text></error></message>")
    seed(t, "whitespace-only-text", "<message>\n  <body>\n  </body>\n</message>")
    # RFC 6120/6121 client stanzas (not stream headers), a few per file.
    stanzas = []
    for rfc in ("rfc6120.txt", "rfc6121.txt"):
        stanzas += [b for b in client_blocks(os.path.join(rfcs, rfc))
                    if not is_header(b) and "stream:stream" not in b and well_formed_stanza(b)]
    for k in range(0, min(len(stanzas), 64), 4):
        group = "\n".join(stanzas[k:k + 4]).encode()
        if len(group) <= 3000:
            seed(t, f"rfc-stanzas-{k // 4 + 1}", group)


# --------------------------------------------------------------------------------------------
# jid

def jid_seeds():
    t = "jid"
    rfc_valid = ["juliet@example.com", "juliet@example.com/foo", "juliet@example.com/foo bar",
                 "juliet@example.com/foo@bar", "foo\\20bar@example.com", "fussball@example.com",
                 "fu\u00dfball@example.com", "\u03c0@example.com", "\u03a3@example.com/foo",
                 "\u03c3@example.com/foo", "\u03c2@example.com/foo", "king@example.com/\u265a",
                 "example.com", "example.com/foobar", "a.example.com/b@example.net"]
    for i, j in enumerate(rfc_valid, 1):
        seed(t, f"rfc7622-valid-{i}", j)
    rfc_invalid = ["\"juliet\"@example.com", "foo bar@example.com", "juliet@example.com/ foo",
                   "@example.com/", "henry\u2163@example.com", "\u265a@example.com", "juliet@", "/foobar"]
    for i, j in enumerate(rfc_invalid, 16):
        seed(t, f"rfc7622-invalid-{i}", j)
    seed(t, "unit-idn-ulabel", "juliet@B\u00dccher.example")
    seed(t, "unit-idn-alabel", "juliet@xn--bcher-kva.example")
    seed(t, "unit-bad-punycode", "xn--invalid-punycode-\u00fc.com")
    seed(t, "unit-ipv6", "juliet@[2001:DB8:0:0:0:0:0:1]/r")
    seed(t, "unit-ipv6-bad", "juliet@[fe80::1%25eth0]/r\0juliet@192.0.2.1/r")
    seed(t, "unit-fullwidth", "\uff2a\uff55\uff4c\uff49\uff45\uff54@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com/\uff41")
    seed(t, "unit-fullwidth-at-slash", "a\uff20b@example.com/a\uff0fb")
    seed(t, "unit-bidi", "\u05e9\u05dc\u05d5\u05dd@\u05d0\u05d1.example/\u05d0a")
    seed(t, "unit-invalid-utf8", b"jul\xc3iet@exa\xffmple.com/\xed\xa0\x80")
    seed(t, "unit-resource-combining", "juliet@example.com/e\u0301\u00a0x")
    # Two addresses separated by NUL: the target compares them.
    pairs = [("juliet@example.com", "JULIET@EXAMPLE.COM."),
             ("juliet@example.com/Balcony", "juliet@example.com/balcony"),
             ("juliet@xn--bcher-kva.example", "Juliet@b\u00fccher.example"),
             ("[2001:db8::1]", "[2001:DB8:0:0:0:0:0:1]"),
             ("\u03a3@example.com", "\u03c3@example.com"),
             ("\uff2a\uff55\uff4c\uff49\uff45\uff54@example.com", "juliet@example.com")]
    for i, (a, b) in enumerate(pairs, 1):
        seed(t, f"pair-{i}", a.encode() + b"\0" + b.encode())


# --------------------------------------------------------------------------------------------
# sasl_plain

def sasl_plain_seeds():
    t = "sasl_plain"
    seeds = {
        "rfc4616-example": b"\0tim\0tanstaaftanstaaf",
        "rfc4616-authzid": b"Ursel\0Kurt\0xipj3plmq",
        "unit-utf8-fields": "\0j\u00fcrgen\0p\u00e4ss w=,rd".encode(),
        "valid-short": b"\0tim\0pw",
        "valid-255-fields": b"a" * 255 + b"\0" + b"b" * 255 + b"\0" + b"c" * 255,
        "invalid-256-authcid": b"\0" + b"b" * 256 + b"\0pw",
        "invalid-256-password": b"\0tim\0" + b"c" * 256,
        "invalid-256-authzid": b"a" * 256 + b"\0tim\0pw",
        "invalid-no-nul": b"timpassword",
        "invalid-one-nul": b"tim\0password",
        "invalid-three-nuls": b"\0tim\0pass\0word",
        "invalid-empty-authcid": b"\0\0password",
        "invalid-empty-password": b"\0tim\0",
        "invalid-only-nuls": b"\0\0",
        "invalid-single-nul": b"\0",
        "invalid-empty": b"",
        "invalid-utf8-password": b"\0tim\0\xff",
        "invalid-utf8-truncated": b"\0t\xc3\0pw",
        "invalid-utf8-overlong": b"\0t\xc0\xaf\0pw",
        "invalid-utf8-surrogate": b"\0t\xed\xa0\x80\0pw",
        "invalid-utf8-above-max": b"\xf4\x90\x80\x80\0tim\0pw",
        "valid-4-byte-utf8": "\U0001F600\0\u265a\0\u00e9\U00010348".encode(),
        "valid-255-multibyte": ("\u00e9" * 127).encode() + b"x\0tim\0" + ("\u4e00" * 85).encode(),
        "invalid-256-multibyte": b"\0tim\0" + ("\u00e9" * 128).encode(),
    }
    for name, data in seeds.items():
        seed(t, name, data)


# --------------------------------------------------------------------------------------------
# scram_server: byte 0, client-first, '\n', client-final. Mirrors fuzz/scram_server.cpp.

PASSWORD = b"pencil"
SALT = b"QSXCR+Q6sek8bf92"  # used raw, as the target passes it
ITERATIONS = 64
SERVER_NONCE = "3rfcNHYJY1ZVvWVs7j"
CLIENT_NONCE = "fyko+d2lbbFgONRv9qkxdawL"
BINDINGS = {"tls-exporter": b"\x11" * 32, "tls-server-end-point": b"\x22" * 32, "tls-unique": b"\x33" * 12}
HASHES = {0: "sha1", 1: "sha256", 2: "sha512"}
# A choice byte per (hash, plus, plus_offered-without-plus): the hash is (byte & 3) % 3,
# 0x10 is -PLUS, 0x20 -PLUS offered (fuzz/scram_server.cpp).
CHOICE = {}
for _b in range(64):
    _key = (HASHES[(_b & 3) % 3], bool(_b & 0x10), bool(_b & 0x10) or bool(_b & 0x20))
    CHOICE.setdefault(_key, _b)


def b64(data):
    return base64.b64encode(data).decode()


def b64decode_strict(text):
    """starling::base64::decode: padded, canonical, no whitespace."""
    if isinstance(text, str):
        text = text.encode("latin-1")
    if len(text) % 4:
        return None
    if not re.fullmatch(rb"[A-Za-z0-9+/]*(={0,2})", text):
        return None
    try:
        out = base64.b64decode(text, validate=True)
    except Exception:
        return None
    return out if base64.b64encode(out) == text else None


def crypto(hash_name):
    salted = hashlib.pbkdf2_hmac(hash_name, PASSWORD, SALT, ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hash_name).digest()
    stored_key = hashlib.new(hash_name, client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hash_name).digest()
    return client_key, stored_key, server_key


def server_first(client_nonce):
    return f"r={client_nonce}{SERVER_NONCE},s={b64(SALT)},i={ITERATIONS}"


def client_proof(hash_name, auth_message):
    client_key, stored_key, _ = crypto(hash_name)
    sig = hmac.new(stored_key, auth_message, hash_name).digest()
    return bytes(a ^ b for a, b in zip(client_key, sig))


def split_input(data):
    choice = data[0]
    rest = data[1:]
    nl = rest.find(b"\n")
    first = rest if nl < 0 else rest[:nl]
    final = b"" if nl < 0 else rest[nl + 1:]
    return choice, first, final


def utf8_without_nul(b):
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\0" not in b


def server_accepts(data):
    """A Python copy of ScramServer's rules: (stage reached, success)."""
    choice, first, final = split_input(data)
    hash_name = HASHES[(choice & 3) % 3]
    plus = bool(choice & 0x10)
    offered = plus or bool(choice & 0x20)

    def attr(part, name):
        if len(part) < 3 or part[0:1] != name or part[1:2] != b"=":
            return None
        return part[2:]

    def is_nonce(s):
        return bool(s) and all(0x21 <= c <= 0x7e and c != 0x2c for c in s)

    def is_ext(part):
        return (len(part) >= 3 and chr(part[0]).isascii() and chr(part[0]).isalpha()
                and chr(part[0]) not in "anmrcsipve" and part[1:2] == b"=" and utf8_without_nul(part[2:]))

    def saslname(s):
        if not s or not utf8_without_nul(s):
            return None
        out, i = b"", 0
        while i < len(s):
            if s[i:i + 1] != b"=":
                out += s[i:i + 1]
                i += 1
                continue
            esc = s[i + 1:i + 3]
            if esc == b"2C":
                out += b","
            elif esc == b"3D":
                out += b"="
            else:
                return None
            i += 3
        return out

    if len(first) > 4096:
        return "first", False
    parts = first.split(b",")
    if len(parts) < 4:
        return "first", False
    flag = parts[0]
    cb_type = b""
    p = attr(flag, b"p")
    if p is not None:
        if not re.fullmatch(rb"[A-Za-z0-9.\-]+", p):
            return "first", False
        cb_type = p
    elif flag not in (b"n", b"y"):
        return "first", False
    if parts[1]:
        a = attr(parts[1], b"a")
        if a is None or saslname(a) is None:
            return "first", False
    n = attr(parts[2], b"n")
    r = attr(parts[3], b"r")
    if n is None or saslname(n) is None or r is None or not is_nonce(r) or not all(is_ext(x) for x in parts[4:]):
        return "first", False
    if plus != bool(cb_type):
        return "first", False
    if flag == b"y" and offered:
        return "first", False
    if cb_type and cb_type.decode() not in BINDINGS:
        return "first", False
    header_size = len(parts[0]) + len(parts[1]) + 2
    gs2 = first[:header_size]
    bare = first[header_size:]
    sf = server_first(r.decode()).encode()
    nonce = r + SERVER_NONCE.encode()
    if len(final) > 4096:
        return "final", False
    fparts = final.split(b",")
    if len(fparts) < 3:
        return "final", False
    c = attr(fparts[0], b"c")
    rr = attr(fparts[1], b"r")
    pp = attr(fparts[-1], b"p")
    if c is None or rr is None or pp is None or not is_nonce(rr) or not all(is_ext(x) for x in fparts[2:-1]):
        return "final", False
    cbind = b64decode_strict(c)
    proof = b64decode_strict(pp)
    if cbind is None or proof is None or len(proof) != hashlib.new(hash_name).digest_size:
        return "final", False
    expected = gs2 + (BINDINGS[cb_type.decode()] if cb_type else b"")
    if cbind != expected or rr != nonce:
        return "final", False
    without_proof = final[:len(final) - len(fparts[-1]) - 1]
    auth = bare + b"," + sf + b"," + without_proof
    _, stored_key, _ = crypto(hash_name)
    sig = hmac.new(stored_key, auth, hash_name).digest()
    client_key = bytes(a ^ b for a, b in zip(proof, sig))
    return "proof", hashlib.new(hash_name, client_key).digest() == stored_key


def oracle_accepts(data):
    """fuzz/scram_server.cpp's checks after a success: True if none would abort."""
    choice, first, final = split_input(data)
    hash_name = HASHES[(choice & 3) % 3]
    plus = bool(choice & 0x10)
    offered = plus or bool(choice & 0x20)
    c1 = first.find(b",")
    gs2_end = first.find(b",", c1 + 1) if c1 >= 0 else -1
    if gs2_end < 0:
        return False
    gs2 = first[:gs2_end + 1]
    bare = first[gs2_end + 1:]
    proof_at = final.rfind(b",p=")
    if proof_at < 0:
        return False
    auth = bare + b"," + server_first(first.split(b",")[3][2:].decode()).encode() + b"," + final[:proof_at]
    proof = b64decode_strict(final[proof_at + 3:])
    if proof is None or proof != client_proof(hash_name, auth):
        return False
    attrs = {}
    for part in final.split(b","):
        if len(part) >= 2 and part[1:2] == b"=":
            attrs.setdefault(part[0:1], part[2:])
    if not attrs.get(b"r", b"").endswith(SERVER_NONCE.encode()):
        return False
    binding = b64decode_strict(attrs.get(b"c", b""))
    if binding is None:
        return False
    expected = gs2
    if gs2.startswith(b"p="):
        t = gs2[2:gs2.find(b",")].decode()
        if not plus or t not in BINDINGS:
            return False
        expected += BINDINGS[t]
    else:
        if plus:
            return False
        if gs2.startswith(b"y") and offered:
            return False
    return binding == expected


def exchange(hash_name, plus, offered, flag="n", authzid="", user="user", cb=None, nonce=CLIENT_NONCE,
             tamper=None, extensions_first="", extensions_final=""):
    """A client's messages: the choice byte, client-first, '\n', client-final."""
    choice = CHOICE[(hash_name, plus, plus or offered)]
    gs2 = (f"p={cb}" if cb else flag) + "," + (f"a={authzid}" if authzid else "") + ","
    bare = f"n={user},r={nonce}" + extensions_first
    first = gs2 + bare
    cbind = gs2.encode() + (BINDINGS[cb] if cb else b"")
    final_nonce = nonce + SERVER_NONCE
    parts = {"c": b64(cbind), "r": final_nonce}
    if tamper:
        parts = tamper.get("parts", lambda p: p)(parts)
    without_proof = f"c={parts['c']},r={parts['r']}" + extensions_final
    auth = (bare + "," + server_first(nonce) + "," + without_proof).encode()
    proof = client_proof(hash_name, auth)
    if tamper and "proof" in tamper:
        proof = tamper["proof"](proof)
    final = without_proof + ",p=" + b64(proof)
    return bytes([choice]) + first.encode() + b"\n" + final.encode()


def scram_seeds():
    t = "scram_server"
    successes, failures = {}, {}
    for h in ("sha1", "sha256", "sha512"):
        successes[f"{h}-n"] = exchange(h, False, False)
        successes[f"{h}-n-plus-offered"] = exchange(h, False, True)
        successes[f"{h}-y"] = exchange(h, False, False, flag="y")
        successes[f"{h}-authzid"] = exchange(h, False, False, authzid="juliet@example.com")
        successes[f"{h}-plus-exporter"] = exchange(h, True, True, cb="tls-exporter")
        successes[f"{h}-plus-endpoint"] = exchange(h, True, True, cb="tls-server-end-point", authzid="admin")
    successes["sha256-plus-unique"] = exchange("sha256", True, True, cb="tls-unique")
    successes["sha256-saslname-escapes"] = exchange("sha256", False, False, user="a=2Cb=3Dc", authzid="x=3Dy=2Cz")
    successes["sha256-extensions"] = exchange("sha256", False, False, extensions_first=",x=ext", extensions_final=",z=zz")
    successes["sha512-utf8-user"] = exchange("sha512", False, False, user="j\u00fcrgen\u265a")

    flip = lambda p: bytes([p[0] ^ 1]) + p[1:]
    failures["sha256-wrong-proof"] = exchange("sha256", False, False, tamper={"proof": flip})
    failures["sha1-short-proof"] = exchange("sha1", False, False, tamper={"proof": lambda p: p[:-1]})
    failures["sha256-wrong-nonce"] = exchange(
        "sha256", False, False, tamper={"parts": lambda d: {**d, "r": CLIENT_NONCE + "3rfcNHYJY1ZVvWVs7k"}})
    failures["sha256-client-nonce-only"] = exchange(
        "sha256", False, False, tamper={"parts": lambda d: {**d, "r": CLIENT_NONCE}})
    failures["sha256-plus-wrong-cb-data"] = exchange(
        "sha256", True, True, cb="tls-exporter",
        tamper={"parts": lambda d: {**d, "c": b64(b"p=tls-exporter,," + b"\x22" * 32)}})
    failures["sha256-plus-cb-header-only"] = exchange(
        "sha256", True, True, cb="tls-exporter", tamper={"parts": lambda d: {**d, "c": b64(b"p=tls-exporter,,")}})
    failures["sha256-c-mismatch-n-vs-y"] = exchange(
        "sha256", False, False, flag="y", tamper={"parts": lambda d: {**d, "c": "biws"}})
    failures["sha256-y-while-plus-offered"] = exchange("sha256", False, True, flag="y")
    failures["sha512-p-without-plus"] = exchange("sha512", False, False, cb="tls-exporter")
    failures["sha1-plus-unknown-cb"] = (bytes([CHOICE[("sha1", True, True)]]) +
                                        b"p=tls-nope,,n=user,r=abc\nc=cD10bHMtbm9wZSws,r=abc" +
                                        SERVER_NONCE.encode() + b",p=AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    m_first = b"n,,m=ext,n=user,r=" + CLIENT_NONCE.encode()
    failures["sha256-m-extension"] = bytes([CHOICE[("sha256", False, False)]]) + m_first + b"\nc=biws,r=x,p=AAAA"
    failures["sha256-bad-gs2"] = (bytes([CHOICE[("sha256", False, False)]]) + b"x,,n=user,r=" +
                                  CLIENT_NONCE.encode() + b"\nc=eCws,r=" + CLIENT_NONCE.encode() +
                                  SERVER_NONCE.encode() + b",p=AAAA")
    failures["sha256-bad-saslname-escape"] = exchange("sha256", False, False, user="a=2Xb")
    good = exchange("sha256", False, False)
    head, final = good.split(b"\n", 1)
    failures["sha256-missing-c"] = head + b"\n" + final[final.index(b",") + 1:]
    failures["sha256-no-newline"] = head
    failures["sha256-proof-not-base64"] = head + b"\n" + final[:final.rindex(b",p=")] + b",p=not*base64"
    failures["sha256-final-with-m"] = head + b"\n" + final.replace(b",p=", b",m=x,p=", 1)
    # RFC 5802 §5's example verbatim: its salt is base64-decoded and 4096 iterations, so here
    # (raw salt, 64 iterations) its proof is wrong.
    failures["rfc5802-example-literal"] = (bytes([CHOICE[("sha1", False, False)]]) +
                                           b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL\n"
                                           b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                                           b"p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=")

    for name, data in successes.items():
        stage, ok = server_accepts(data)
        if not ok:
            raise SystemExit(f"scram_server/ok-{name}: the server's rules refuse it at {stage}")
        if not oracle_accepts(data):
            raise SystemExit(f"scram_server/ok-{name}: the target's oracle would abort on it")
        seed(t, f"rfc5802-ok-{name}", data)
    for name, data in failures.items():
        stage, ok = server_accepts(data)
        if ok:
            raise SystemExit(f"scram_server/fail-{name}: the server's rules accept it")
        seed(t, f"rfc5802-fail-{name}", data)


# --------------------------------------------------------------------------------------------
# config

def config_seeds():
    t = "config"
    try:
        example = open(os.path.join(ROOT, "starling.example.toml"), "rb").read()
    except OSError:
        example = b""
    if example:
        if len(example) <= MAX_FILE:
            seed(t, "example-full", example)
        # Without its comments it fits in one file, and so do its halves.
        body = b"\n".join(l for l in example.split(b"\n") if not l.startswith(b"#"))
        seed(t, "example-no-comments", re.sub(rb"\n{3,}", b"\n\n", body))
        sections = re.split(rb"\n(?=\[)", example)
        half = len(sections) // 2
        seed(t, "example-first-half", b"\n".join(sections[:half])[:MAX_FILE])
        seed(t, "example-second-half", b"\n".join(sections[half:])[:MAX_FILE])
    base = ('[server]\ndata_dir = "/tmp/data"\nshards = 2\nlog_level = "debug"\n\n'
            '[c2s]\ninterfaces = ["127.0.0.1"]\nport = 5222\ndirect_tls_port = 5223\n')
    seed(t, "interop-conftest", base + '\n[limits]\nmax_preauth_per_ip = 1000\n\n[sasl]\nfailures_before_delay = 1000\n')
    seed(t, "interop-minimal", '[server]\ndata_dir = "/tmp/data"\n\n[c2s]\ninterfaces = ["127.0.0.1"]\nport = 15222\ndirect_tls_port = 15223\n')
    seed(t, "interop-disco", base + '[modules.disco]\nadmin = ["xmpp:admin@localhost", "mailto:admin@example.com"]\nsupport = ["help desk"]\n')
    seed(t, "interop-modules", base + '[modules.offline]\nmax_messages = 3\n[modules.roster]\niq_needs_shared_presence = true\nmax_items = 2\n'
         '[modules.version]\nshow_os = true\n[modules.register]\nallow_registration = true\nregistrations_per_address = 2\n')
    seed(t, "interop-c2s-sasl", base + 'require_encryption = false\nresource_conflict = "reject"\nmax_sessions_per_account = 1\n'
         'keepalive_interval = 1\nidle_timeout = 2\n[sasl]\nmechanisms = ["SCRAM-SHA-256"]\nfailures_before_delay = 2\nmax_failures_per_stream = 5\n')
    seed(t, "interop-limits", base + '[limits]\nmax_outbound_queue = 65536\npreauth_timeout = 1\nmax_preauth_per_ip = 5\n'
         'account_stanzas_per_second = 10\naccount_stanza_burst = 20\n')
    cli = '[server]\ndata_dir = "/tmp/data"\n[c2s]\ninterfaces = ["127.0.0.1"]\nport = 5222\ndirect_tls_port = 5223\n'
    seed(t, "cli-unknown-key", cli + "portt = 5222\n")
    seed(t, "cli-wrong-type", cli + 'resource_conflict = "replace"\nkeepalive_interval = "abc"\n')
    seed(t, "cli-invalid-value", cli + 'resource_conflict = "x"\n')
    seed(t, "cli-unknown-module", cli + '[modules]\nenabled = ["ping", "nosuchmodule"]\n')
    seed(t, "cli-unknown-section", cli + "[nosuchsection]\nx = 1\n")
    seed(t, "cli-port-string", '[server]\ndata_dir = "/tmp/data"\n[c2s]\nport = "abc"\n')
    seed(t, "broken-duplicate-key", "[server]\ndomain = \"a\"\ndomain = \"b\"\n")
    seed(t, "broken-duplicate-table", "[server]\nshards = 1\n[server]\nshards = 2\n")
    seed(t, "broken-syntax", "[server\ndomain = \"unterminated\nport = = 5\n")
    seed(t, "broken-huge-integers", "[c2s]\nport = 99999999999999999999999\ndirect_tls_port = -1\n[limits]\n"
         "max_stanza_size = 9223372036854775807\nmax_depth = -9223372036854775808\nmax_outbound_queue = 0x7fffffffffffffff\n"
         "preauth_timeout = 1e400\nmax_preauth = 4294967296\n[server]\nshards = 65536\n")
    seed(t, "broken-wrong-types", '[server]\ndomain = 5\ndata_dir = ["a"]\nshards = "two"\nlog_level = true\n'
         '[c2s]\ninterfaces = "0.0.0.0"\nrequire_encryption = "yes"\n[sasl]\nmechanisms = [1, 2]\nscram_iterations = 1.5\n'
         '[modules]\nenabled = "ping"\n[modules.roster]\nmax_items = {a = 1}\n')
    seed(t, "broken-section-is-value", 'server = 5\nc2s = "x"\n[limits.max_depth]\nx = 1\n')
    seed(t, "broken-module-unknown-key", '[modules]\nenabled = ["echo", "disco"]\n[modules.echo]\nsubdomain = ""\nbogus = 1\n'
         '[modules.nosuch]\nx = 1\n[modules.disco]\nabuse = [1]\n')
    seed(t, "broken-module-not-enabled", '[modules]\nenabled = []\n[modules.offline]\nmax_messages = -5\n')
    seed(t, "deep-tables", "[" + ".".join(f"t{i}" for i in range(300)) + "]\nx = 1\n")
    seed(t, "deep-inline-tables", "x = " + "{a = " * 300 + "1" + "}" * 300 + "\n")
    seed(t, "deep-arrays", "[sasl]\nmechanisms = " + "[" * 500 + "]" * 500 + "\n")
    seed(t, "array-of-tables", "[[server]]\ndomain = \"a\"\n[[server]]\ndomain = \"b\"\n[[modules.disco]]\n")
    seed(t, "dotted-keys-and-inline", 'server.domain = "example.com"\nc2s = { port = 5222, interfaces = ["::1"] }\n'
         '"limits".\'max_depth\' = 8\n')
    seed(t, "strings-escapes", '[server]\ndomain = "b\\u00FCcher.example"\ndata_dir = \'\'\'/tmp/\nmulti\'\'\'\n'
         'log_level = """\\\ninfo"""\n[modules.echo]\nsubdomain = "\\U0001F600\\x"\n')
    seed(t, "invalid-utf8", b'[server]\ndomain = "\xff\xfe"\n# \xc3\x28 comment\n')
    seed(t, "nul-byte", b'[server]\ndomain = "a\x00b"\n')
    seed(t, "dates-floats", "[server]\nshards = 1979-05-27T07:32:00Z\n[limits]\nmax_depth = inf\nmax_preauth = nan\n"
         "preauth_timeout = 1_000\nmax_stanza_size = 0b101\nmax_outbound_queue = 0o777\n")
    seed(t, "hosts-two-domains", '[server]\ndomain = "a.test"\nadmins = ["root@a.test"]\n[modules]\nenabled = ["register", "roster"]\n'
         '[modules.roster]\nname = "x"\n[hosts."b.test"]\ncertificate = "/etc/b.crt"\nkey = "/etc/b.key"\nadmins = ["boss@b.test"]\n'
         '[hosts."b.test".modules]\nenabled = ["register", "echo"]\n[hosts."b.test".modules.register]\nallow_registration = true\n'
         '[hosts."c.test"]\n')
    seed(t, "broken-hosts", '[hosts]\nx = 1\n[hosts."A.TEST."]\ncertificate = "/c"\nbogus = 2\n[hosts.""]\n[hosts."localhost"]\n'
         '[hosts."b".modules]\nenabled = ["nosuch"]\n[hosts."b".modules.echo]\nwindow = 0\nadmins = 5\n')
    seed(t, "empty", "")
    seed(t, "only-comments", "# nothing\n\n   \n# at all\r\n")


# --------------------------------------------------------------------------------------------
# codecs

def codecs_seeds():
    t = "codecs"
    valid = ["", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy", "+/8=", "/w==",
             "biws", "UVNYQ1IrUTZzZWs4YmY5Mg==", b64(bytes(range(256))[:120])]
    for i, v in enumerate(valid, 1):
        if v:
            assert b64decode_strict(v) is not None, v
            seed(t, f"base64-canonical-{i}", v)
    noncanonical = ["Zh==", "Zm9=", "Zg=a", "Z===", "Z=g=", "====", "Z", "Zg", "Zm8", "Zg==Zm9v",
                    "Zm9v====", " Zm9v", "Zm9v ", "Zm 9v", "Zm9v\nYmFy", "Zm9*", "Zm9_",
                    "Zm9vYh==", "Zm9vYmF=", "//=="]
    for i, v in enumerate(noncanonical, 1):
        assert b64decode_strict(v) is None, v
        seed(t, f"base64-noncanonical-{i}", v)
    seed(t, "base64-noncanonical-nul", b"Zm9\x00")
    seed(t, "base64-noncanonical-high", b"Zm9\xc3")
    seed(t, "bytes-rfc4648-foobar", b"foobar")
    seed(t, "bytes-ff", b"\xff")
    seed(t, "bytes-fbff", b"\xfb\xff")
    seed(t, "bytes-all", bytes(range(256)))
    seed(t, "bytes-zeros", b"\x00" * 7)
    seed(t, "bytes-utf8", "\u263a\U0001F600".encode())


# --------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rfcs", default="/work/shared/specs/rfcs", help="where rfc6120.txt etc. are")
    ap.add_argument("--out", default=HERE, help="the corpus folder (default: this script's)")
    args = ap.parse_args()
    stream_parser_seeds(args.rfcs)
    xml_round_trip_seeds(args.rfcs)
    jid_seeds()
    sasl_plain_seeds()
    scram_seeds()
    config_seeds()
    codecs_seeds()
    total = 0
    for target, files in sorted(corpus.items()):
        size = sum(len(d) for d in files.values())
        if len(files) > MAX_FILES or size > MAX_FOLDER:
            raise SystemExit(f"{target}: {len(files)} files, {size} bytes: over the budget")
        folder = os.path.join(args.out, target)
        os.makedirs(folder, exist_ok=True)
        # The folder holds what this script writes, and inputs the fuzzers found ("found-*",
        # added by hand as regression seeds), which stay.
        for old in os.listdir(folder):
            if not old.startswith("found-"):
                os.remove(os.path.join(folder, old))
        for name, data in sorted(files.items()):
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
        total += size
        print(f"{target}: {len(files)} files, {size} bytes")
    print(f"total: {total} bytes")


if __name__ == "__main__":
    sys.exit(main())
