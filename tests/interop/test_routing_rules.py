"""Routing and stream rules found in review: RFC 6120 §8/§10 and RFC 6121 §8 corner cases,
each driven over raw streams against the real binary."""
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import PASSWORD
from raw_stream import NS_CLIENT, RawStream, is_result, login, q
from test_bad_input import Witness, assert_stream_error, log_tail, start

NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"


def error_condition(elem):
    err = elem.find(q(NS_CLIENT, "error"))
    if err is None:
        return None
    for child in err:
        if child.tag.startswith("{" + NS_STANZAS + "}") and not child.tag.endswith("}text"):
            return child.tag.split("}")[1]
    return None


def answer(stream, ident):
    return stream.wait_for(lambda e: e.get("id") == ident)


def test_iq_without_to_is_answered_for_the_senders_account(server):
    s, jid = login(server.port, "alice", PASSWORD)
    s.send(f"<iq type='get' id='d1'><query xmlns='{NS_DISCO_INFO}'/></iq>")
    reply = answer(s, "d1")
    assert is_result(reply), ET.tostring(reply)
    assert reply.get("from") in (None, "alice@localhost"), ET.tostring(reply)
    s.send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert is_result(answer(s, "p1"))
    s.send("<iq type='get' id='v1'><query xmlns='jabber:iq:version'/></iq>")
    assert error_condition(answer(s, "v1")) == "service-unavailable"
    assert server.alive()


def test_ping_to_a_nonexistent_account_gets_service_unavailable(server):
    s, _ = login(server.port, "alice", PASSWORD)
    s.send("<iq type='get' id='n1' to='nobody@localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert error_condition(answer(s, "n1")) == "service-unavailable"
    # An existing account that is offline is answered by the server on its behalf.
    s.send("<iq type='get' id='n2' to='carol@localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert is_result(answer(s, "n2"))


@pytest.mark.parametrize("type_", ["normal", "headline", None])
def test_non_chat_message_to_an_unknown_resource_gets_service_unavailable(server, type_):
    alice, _ = login(server.port, "alice", PASSWORD)
    bob, bob_jid = login(server.port, "bob", PASSWORD)
    bob.send("<presence/>")
    type_attr = f" type='{type_}'" if type_ else ""
    alice.send(f"<message id='m1' to='bob@localhost/nosuch'{type_attr}><body>hi</body></message>")
    assert error_condition(answer(alice, "m1")) == "service-unavailable"
    assert not [e for e in bob.poll_events(0.3) if e.kind == "element" and e.elem.tag == q(NS_CLIENT, "message")]


def test_presence_probe_is_not_forwarded_to_the_users_clients(server):
    alice, _ = login(server.port, "alice", PASSWORD)
    bob, bob_jid = login(server.port, "bob", PASSWORD)
    bob.send("<presence/>")
    # RFC 6121 §4.2.2: the server echoes the presence to the user's own resources.
    bob.wait_for(lambda e: e.tag == q(NS_CLIENT, "presence") and e.get("from") == bob_jid)
    alice.send("<presence type='probe' to='bob@localhost'/>")
    alice.send("<message type='chat' to='bob@localhost' id='after'><body>after</body></message>")
    first = bob.wait_for(lambda e: e.tag in (q(NS_CLIENT, "presence"), q(NS_CLIENT, "message")))
    assert first.tag == q(NS_CLIENT, "message"), ET.tostring(first)


def test_bind_with_a_malformed_to_gets_jid_malformed(server):
    s = RawStream(server.port)
    s.open()
    s.starttls()
    assert s.auth_scram("SCRAM-SHA-256", "alice", PASSWORD, cb_type="tls-exporter")[:2] == ("success", True)
    s.restart()
    s.send("<iq type='set' id='b1' to='@@'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    assert error_condition(answer(s, "b1")) == "jid-malformed"


def test_jabber_server_stanza_from_a_client_is_refused(server):
    witness = Witness(server)
    s, _ = login(server.port, "alice", PASSWORD)
    s.send("<message xmlns='jabber:server' to='bob@localhost'><body>x</body></message>")
    assert_stream_error(s, "unsupported-stanza-type", server)
    witness.check()


def test_stream_error_after_starttls_comes_after_a_new_stream_header(make_server):
    server = start(make_server, limits="preauth_timeout = 1")
    s = RawStream(server.port)
    s.open()
    s.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    s.element()  # <proceed/>
    s.events.clear()
    s.start_tls()  # the handshake, but no new stream header: the pre-auth timeout fires
    events = s.read_until_closed(timeout=10)
    kinds = [e.kind for e in events]
    assert "header" in kinds, f"no stream header before the error: {kinds}\n{log_tail(server)}"
    assert kinds.index("header") < kinds.index("element"), kinds


def test_direct_tls_connection_evicted_before_its_handshake_gets_no_plaintext(make_server):
    server = start(make_server, limits="max_preauth_per_ip = 1")
    victim = RawStream(server.tls_port, direct_tls=False)  # read the raw bytes, no handshake
    time.sleep(0.2)  # admitted before the newcomer
    newcomer = RawStream(server.port)
    assert newcomer.open() is not None
    # The newcomer made room by evicting the victim: it must see the connection end with
    # nothing in plaintext (its client expects a TLS handshake).
    events = victim.read_until_closed(timeout=10)
    assert all(e.kind == "eof" for e in events), f"plaintext on the direct TLS port: {victim.received}"
    assert "closed to make room" in server.log()


def test_authenticated_session_gets_whitespace_keepalives(make_server):
    server = start(make_server, c2s="keepalive_interval = 1")
    s, _ = login(server.port, "alice", PASSWORD)
    s.poll_events(0.1)
    # The raw client skips whitespace between elements, so read the bytes themselves.
    deadline = time.monotonic() + 5
    got = b""
    while time.monotonic() < deadline and not got:
        got = s._recv_some(deadline)
    assert got and not got.strip(), f"expected only whitespace within 5 s of silence, got {got!r}\n" + log_tail(server)
    assert is_result(s.ping("still_alive"))


def test_past_the_session_limit_the_oldest_session_gives_way(make_server):
    server = start(make_server, c2s="max_sessions_per_account = 2")
    first, _ = login(server.port, "alice", PASSWORD, resource="one")
    second, _ = login(server.port, "alice", PASSWORD, resource="two")
    third, _ = login(server.port, "alice", PASSWORD, resource="three")
    assert_stream_error(first, "conflict", server)
    assert is_result(second.ping("still_here")) and is_result(third.ping("new_one"))


def test_past_the_session_limit_reject_policy_refuses_the_new_binding(make_server):
    server = start(make_server, c2s='max_sessions_per_account = 1\nresource_conflict = "reject"')
    first, _ = login(server.port, "alice", PASSWORD, resource="one")
    s = RawStream(server.port)
    s.open()
    s.starttls()
    assert s.auth_scram("SCRAM-SHA-256", "alice", PASSWORD, cb_type="tls-exporter")[:2] == ("success", True)
    s.restart()
    s.send("<iq type='set' id='b2'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>two</resource></bind></iq>")
    assert error_condition(answer(s, "b2")) == "resource-constraint"
    assert is_result(first.ping("untouched"))
