"""Hostile and broken input on the wire (RFC 6120 §4.9 stream errors, §11 XML restrictions,
and the server's limits), with the raw client in raw_stream.py. Each case checks the stream
error the server sends, that it closes the connection, and that a second session, logged
in on another connection before the bad input, still works afterwards and the server is
alive."""
import time

import pytest
from OpenSSL import SSL

from conftest import PASSWORD
from raw_stream import (NS_CLIENT, NS_SASL, NS_STREAMS, RawStream, ScramClient, b64, is_result, login, q,
                        stream_error_condition, stream_header)

KIB = 1024


def log_tail(server, lines=40):
    return "\n".join(server.log().splitlines()[-lines:])


class Witness:
    """A well-behaved session logged in before the bad input; check() pings the server
    through it."""

    def __init__(self, server, user="carol"):
        self.server = server
        self.stream, self.jid = login(server.port, user, PASSWORD)
        self.pings = 0

    def ping(self):
        self.pings += 1
        return self.stream.ping(f"witness_{self.pings}")

    def check(self):
        assert self.server.alive(), "the server process died:\n" + log_tail(self.server)
        reply = self.ping()
        assert is_result(reply), f"the witness session got no pong\n{log_tail(self.server)}"

    def close(self):
        self.stream.close()


@pytest.fixture
def witness(server):
    w = Witness(server)
    yield w
    w.close()


def assert_stream_error(stream, condition, server):
    """The server sends <stream:error/> with this condition, its closing tag, and closes."""
    got, closed_tag = stream.expect_stream_error()
    assert got == condition, f"expected {condition}, got {got}; received {stream.received[-6:]}\n{log_tail(server)}"
    assert closed_tag, f"no </stream:stream> after the error; received {stream.received[-6:]}"
    assert stream.eof


def open_plain(server):
    """Plaintext stream on the STARTTLS port, features read (before TLS and auth)."""
    s = RawStream(server.port)
    s.open()
    return s


def open_bound(server, user="alice"):
    s, _ = login(server.port, user, PASSWORD)
    return s


def nested(levels):
    """A <message/> with `levels` levels of elements inside the stream root (the message is
    the first of them), so the deepest element is at depth levels + 1, the root being 1."""
    inner = levels - 1
    return ("<message to='localhost' type='normal' id='deep'>" + "<x xmlns='urn:test'>" * inner
            + "</x>" * inner + "</message>")


# -- bad XML inside the stream, before and after authentication -----------------------------------

def billion_laughs_dtd():
    entities = ["<!ENTITY lol 'lol'>", "<!ENTITY lol1 '" + "&lol;" * 10 + "'>"]
    entities += [f"<!ENTITY lol{i} '" + f"&lol{i - 1};" * 10 + "'>" for i in range(2, 10)]
    return "<!DOCTYPE lolz [" + "".join(entities) + "]>"


BILLION_LAUGHS_DTD = billion_laughs_dtd()

IN_STREAM_CASES = {
    "malformed_xml": (b"<message><body></message>", "not-well-formed"),
    "invalid_utf8": (b"<message to='bob@localhost'><body>\xff\xfe</body></message>", "not-well-formed"),
    "invalid_utf8_between_stanzas": (b"\xff\xfe", "not-well-formed"),
    "nul_byte": (b"<message to='bob@localhost'><body>a\x00b</body></message>", "not-well-formed"),
    # A DTD after the root element has started is no longer restricted XML but simply not XML.
    "doctype_billion_laughs": (BILLION_LAUGHS_DTD.encode() + b"<message><body>&lol9;</body></message>",
                               "not-well-formed"),
    "undeclared_entity_reference": (b"<message to='bob@localhost'><body>&lol9;</body></message>", "not-well-formed"),
    "processing_instruction": (b"<?evil instruction?>", "restricted-xml"),
    "processing_instruction_in_stanza": (b"<message to='bob@localhost'><?evil pi?></message>", "restricted-xml"),
    "comment": (b"<!-- a comment -->", "restricted-xml"),
    "comment_in_stanza": (b"<message to='bob@localhost'><!-- a comment --></message>", "restricted-xml"),
    "text_between_stanzas": (b"hello", "not-well-formed"),
    "cdata_between_stanzas": (b"<![CDATA[hello]]>", "not-well-formed"),
    "second_stream_header": (stream_header(xml_decl=False), "bad-format"),
    "undeclared_prefix": (b"<foo:message to='bob@localhost'><body>x</body></foo:message>", "bad-namespace-prefix"),
    "undeclared_attribute_prefix": (b"<message to='bob@localhost' foo:bar='1'><body>x</body></message>",
                                    "bad-namespace-prefix"),
    "nested_65_deep": (nested(64).encode(), "policy-violation"),
}


@pytest.mark.parametrize("phase", ["before_auth", "after_auth"])
@pytest.mark.parametrize("case", list(IN_STREAM_CASES))
def test_bad_xml_in_stream_gets_stream_error_and_close(server, witness, phase, case):
    data, condition = IN_STREAM_CASES[case]
    s = open_plain(server) if phase == "before_auth" else open_bound(server)
    s.send(data)
    assert_stream_error(s, condition, server)
    witness.check()


# -- bad stream headers ------------------------------------------------------------------------

HEADER_CASES = {
    "doctype_before_root": (b"<?xml version='1.0'?>" + BILLION_LAUGHS_DTD.encode() + stream_header(xml_decl=False),
                            "restricted-xml"),
    "processing_instruction_before_root": (b"<?xml version='1.0'?><?evil pi?>" + stream_header(xml_decl=False),
                                           "restricted-xml"),
    "comment_before_root": (b"<?xml version='1.0'?><!-- hi -->" + stream_header(xml_decl=False), "restricted-xml"),
    "wrong_stream_namespace": (stream_header(stream_ns="http://example.com/not-streams"), "invalid-namespace"),
    "jabber_server_default_namespace": (stream_header(ns="jabber:server"), "invalid-namespace"),
    "unknown_host": (stream_header(to="unknown.example"), "host-unknown"),
    "missing_version": (stream_header(version=None), "unsupported-version"),
    "version_2": (stream_header(version="2.0"), "unsupported-version"),
    "iso_8859_1_encoding": (b"<?xml version='1.0' encoding='ISO-8859-1'?>" + stream_header(xml_decl=False),
                            "unsupported-encoding"),
    "undeclared_stream_prefix": (stream_header(stream_ns=None), "bad-namespace-prefix"),
    "malformed_header": (b"<stream:stream xmlns='jabber:client' <<>>", "not-well-formed"),
}


@pytest.mark.parametrize("transport", ["plaintext", "direct_tls"])
@pytest.mark.parametrize("case", list(HEADER_CASES))
def test_bad_stream_header_gets_stream_error_and_close(server, witness, transport, case):
    data, condition = HEADER_CASES[case]
    s = RawStream(server.tls_port if transport == "direct_tls" else server.port, direct_tls=transport == "direct_tls")
    s.send(data)
    assert_stream_error(s, condition, server)
    witness.check()


def test_stream_header_after_tls_with_unknown_host_gets_host_unknown(server, witness):
    s = RawStream(server.port)
    s.open()
    s.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    s.element()
    s.events.clear()
    s.start_tls()
    s.send(stream_header(to="unknown.example"))
    assert_stream_error(s, "host-unknown", server)
    witness.check()


# -- stanzas before authentication ------------------------------------------------------------

@pytest.mark.parametrize("stanza", ["<message to='bob@localhost'><body>hi</body></message>",
                                    "<presence/>",
                                    "<iq type='get' id='1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>"],
                         ids=["message", "presence", "iq"])
def test_stanza_before_auth_is_not_authorized(server, witness, stanza):
    s = open_plain(server)
    s.send(stanza)
    assert_stream_error(s, "not-authorized", server)
    witness.check()


# -- nesting depth ------------------------------------------------------------------------------

def test_nesting_64_deep_counting_the_stream_root_is_accepted(server, witness):
    """max_depth = 64 counts the stream root as 1: 63 levels inside the stream are fine."""
    s = open_bound(server)
    s.send(nested(63))
    reply = s.ping("after_deep")
    assert is_result(reply), log_tail(server)
    assert not s.eof
    witness.check()
    s.close()


def test_nesting_65_deep_counting_the_stream_root_is_policy_violation(server, witness):
    s = open_bound(server)
    s.send(nested(64))
    assert_stream_error(s, "policy-violation", server)
    witness.check()


# -- size limits --------------------------------------------------------------------------------

def message_of_size(size, to, ident):
    head = f"<message to='{to}' id='{ident}' type='chat'><body>"
    tail = "</body></message>"
    pad = size - len(head) - len(tail)
    assert pad > 0
    text = head + "a" * pad + tail
    assert len(text.encode()) == size
    return text


def send_until_server_closes(s, chunks):
    """Sends chunks one by one, watching for the server's answer between them. Returns
    (bytes sent, events received, how it ended): it stops once the connection has ended
    or a send fails."""
    sent = 0
    events = []
    for chunk in chunks:
        try:
            s.send(chunk, timeout=10)
        except TimeoutError:
            raise
        except (OSError, SSL.Error) as e:  # the peer is gone
            return sent, events, f"send failed: {e!r}"
        sent += len(chunk)
        events += s.poll_events(wait=0.02)
        if s.eof:
            return sent, events, "peer closed"
    return sent, events, "sent everything"


@pytest.mark.parametrize("shape", ["start_tag_never_ends", "one_mib_element"])
def test_element_over_10_kib_before_auth_is_cut_off_while_still_sending(server, witness, shape):
    s = open_plain(server)
    total = 1024 * KIB
    if shape == "start_tag_never_ends":
        body = b"<message to='bob@localhost' junk='" + b"a" * (total - 40)
    else:
        body = b"<message to='bob@localhost'><body>" + b"a" * (total - 60) + b"</body></message>"
    chunks = [body[i:i + KIB] for i in range(0, len(body), KIB)]
    sent, events, how = send_until_server_closes(s, chunks)
    assert sent < len(body), f"the server let the client send all {len(body)} bytes ({how})\n{log_tail(server)}"
    if not s.eof:
        events += s.read_until_closed()
    conditions = [stream_error_condition(e.elem) for e in events if e.kind == "element"]
    assert "policy-violation" in conditions, f"{how}; received {events[-5:]}\n{log_tail(server)}"
    witness.check()


def test_element_of_10_kib_before_auth_is_policy_violation(server, witness):
    """Just over the pre-auth limit, sent at once: refused with policy-violation (not
    not-authorized, which it would get if the size were not checked)."""
    s = open_plain(server)
    s.send(message_of_size(10 * KIB + 1, "bob@localhost", "big"))
    assert_stream_error(s, "policy-violation", server)
    witness.check()


@pytest.mark.parametrize("size", [250 * KIB, 256 * KIB], ids=["250_kib", "exactly_256_kib"])
def test_large_stanza_after_auth_within_limit_is_delivered(server, witness, size):
    bob, bob_jid = login(server.port, "bob", PASSWORD, resource="big-receiver")
    s = open_bound(server)
    s.send(message_of_size(size, bob_jid, "big"))
    got = bob.wait_for(lambda e: e.get("id") == "big", timeout=20)
    assert got.tag == q(NS_CLIENT, "message") and got.get("type") == "chat", log_tail(server)
    body = got.find(q(NS_CLIENT, "body")).text
    assert body and set(body) == {"a"} and len(body) > size - 200
    assert is_result(s.ping("after_big"))
    witness.check()
    bob.close()
    s.close()


def test_stanza_of_256_kib_plus_one_after_auth_is_policy_violation(server, witness):
    bob, bob_jid = login(server.port, "bob", PASSWORD, resource="big-receiver")
    s = open_bound(server)
    s.send(message_of_size(256 * KIB + 1, bob_jid, "too_big"))
    assert_stream_error(s, "policy-violation", server)
    # Not delivered: bob gets a pong and nothing with the big message's id.
    reply = bob.ping("bob_after")
    assert is_result(reply)
    assert not any(e.kind == "element" and e.elem is not None and e.elem.get("id") == "too_big" for e in bob.received)
    witness.check()
    bob.close()


# -- odd but legal clients ---------------------------------------------------------------------

def test_byte_at_a_time_login_and_message_work(server, witness):
    bob, bob_jid = login(server.port, "bob", PASSWORD, resource="bytewise-receiver")
    s = RawStream(server.port)
    s.send_bytewise(stream_header())
    s.read_features()
    s.send_bytewise("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    assert s.element().tag == "{urn:ietf:params:xml:ns:xmpp-tls}proceed"
    s.events.clear()
    s.start_tls()
    s.send_bytewise(stream_header())
    s.read_features()
    client = ScramClient("sha256", "alice", PASSWORD, "p=tls-exporter", s.channel_binding("tls-exporter"))
    s.send_bytewise(f"<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-256-PLUS'>{b64(client.client_first())}</auth>")
    kind, server_first = s.sasl_reply()
    assert kind == "challenge", (kind, server_first)
    s.send_bytewise(f"<response xmlns='{NS_SASL}'>{b64(client.client_final(server_first))}</response>")
    kind, server_final = s.sasl_reply()
    assert kind == "success" and client.verify_server_final(server_final), log_tail(server)
    s.send_bytewise(stream_header(xml_decl=False))
    s.read_features()
    s.send_bytewise("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    assert is_result(s.wait_for(lambda e: e.get("id") == "b1"))
    s.send_bytewise(f"<message to='{bob_jid}' id='bytewise' type='chat'><body>one byte at a time</body></message>")
    got = bob.wait_for(lambda e: e.get("id") == "bytewise")
    assert got.find(q(NS_CLIENT, "body")).text == "one byte at a time"
    witness.check()
    bob.close()
    s.close()


def test_closing_handshake_is_answered_with_closing_tag_and_close(server, witness):
    s = open_bound(server)
    s.send("</stream:stream>")
    events = s.read_until_closed()
    assert any(e.kind == "close" for e in events), events
    assert not any(e.kind == "element" and stream_error_condition(e.elem) for e in events), events
    witness.check()


def test_closing_handshake_before_auth_is_answered_with_closing_tag_and_close(server, witness):
    s = open_plain(server)
    s.send("</stream:stream>")
    events = s.read_until_closed()
    assert any(e.kind == "close" for e in events), events
    assert not any(e.kind == "element" and stream_error_condition(e.elem) for e in events), events
    witness.check()


# -- servers with their own limits ------------------------------------------------------------------

def start(make_server, users=("alice", "bob", "carol"), **config):
    server = make_server(**config)
    for name in users:
        server.add_user(name)
    return server.start()


def test_client_that_never_reads_is_disconnected_when_its_queue_overflows(make_server):
    server = start(make_server, limits="max_outbound_queue = 65536")
    witness = Witness(server)
    # A tiny receive window, so the backlog piles up in the server rather than in kernels.
    sink, sink_jid = login(server.port, "bob", PASSWORD, resource="sink", rcvbuf=4096)
    sender = open_bound(server, "alice")
    payload = "x" * KIB
    disconnected = False
    for i in range(5000):
        sender.send(f"<message to='{sink_jid}' type='chat' id='m{i}'><body>{payload}</body></message>")
        if i % 20 == 19:
            # Paced by a ping: its answer means the server has handled every message sent so
            # far (so the log is current), and waiting for it reads the sender's input (the
            # error bounces once the sink is gone), as a well-behaved client does.
            assert is_result(sender.ping(f"pace_{i}")), log_tail(server)
            if "outbound queue" in server.log():
                disconnected = True
                break
    assert disconnected, f"5000 messages of 1 KiB queued for a client that never reads\n{log_tail(server)}"
    # The sink's connection ends (reading now drains what the kernel held, then EOF).
    sink.read_until_closed(timeout=15)
    assert sink.eof
    assert is_result(sender.ping("sender_after"))
    log = server.log()
    assert "jid=bob@localhost/sink disconnected" in log
    assert log.count("outbound queue") == 1, f"another session overflowed too\n{log_tail(server)}"
    witness.check()


def test_preauth_timeout_sends_connection_timeout_and_closes(make_server):
    server = start(make_server, limits="preauth_timeout = 1")
    witness = Witness(server)
    s = RawStream(server.port)
    condition, closed_tag = s.expect_stream_error(timeout=10)
    assert condition == "connection-timeout", log_tail(server)
    assert closed_tag and s.eof
    witness.check()


def test_preauth_timeout_applies_after_the_header_too(make_server):
    server = start(make_server, limits="preauth_timeout = 1")
    witness = Witness(server)
    s = open_plain(server)
    condition, closed_tag = s.expect_stream_error(timeout=10)
    assert condition == "connection-timeout", log_tail(server)
    assert closed_tag and s.eof
    witness.check()


def test_idle_authenticated_session_gets_connection_timeout(make_server):
    server = start(make_server, c2s="idle_timeout = 2")
    witness = Witness(server)
    idle = open_bound(server, "alice")
    # The witness stays busy (a ping every half second) while the idle session waits.
    deadline = time.monotonic() + 10
    events = []
    while not idle.eof and time.monotonic() < deadline:
        events += idle.poll_events(wait=0.5)
        witness.check()
    assert idle.eof, f"the idle session was not closed within 10 s\n{log_tail(server)}"
    conditions = [stream_error_condition(e.elem) for e in events if e.kind == "element"]
    assert "connection-timeout" in conditions, f"{events}\n{log_tail(server)}"
    assert any(e.kind == "close" for e in events)
    witness.check()


def test_an_address_at_its_preauth_limit_makes_room_by_evicting_its_least_advanced_connection(make_server):
    # Issue 17: the limit never turns the newcomer away (users share addresses behind NAT).
    server = start(make_server, limits="max_preauth_per_ip = 5")
    witness = Witness(server)  # authenticated: it holds no pre-auth slot
    held = [open_plain(server) for _ in range(5)]
    held[0].starttls()  # the oldest, but the furthest along: TLS done
    held[1].starttls()
    sixth = RawStream(server.port)
    assert sixth.open().tag == q(NS_STREAMS, "features"), log_tail(server)
    # The oldest of those with the least progress (a header, no TLS) made room.
    assert_stream_error(held[2], "policy-violation", server)
    for s in held[:2] + held[3:]:
        s.poll_events(0.2)
        assert not s.eof, "a connection further along, or younger, was closed"
    # One authenticates, which frees its slot: the next newcomer displaces nobody.
    assert held[0].auth_scram("SCRAM-SHA-256", "alice", PASSWORD)[:2] == ("success", True)
    another = RawStream(server.port)
    assert another.open().tag == q(NS_STREAMS, "features"), log_tail(server)
    for s in [held[1], held[3], held[4], sixth]:
        s.poll_events(0.2)
        assert not s.eof, "a connection was closed though the address was under its limit again"
    witness.check()
