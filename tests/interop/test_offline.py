"""XEP-0160 offline messages with XEP-0203 delay stamps, over raw streams."""
import xml.etree.ElementTree as ET

import pytest

from conftest import PASSWORD
from raw_stream import NS_CLIENT, is_result, login, q
from test_presence import online
from test_routing_rules import answer, error_condition

MESSAGE = q(NS_CLIENT, "message")
DELAY = q("urn:xmpp:delay", "delay")


@pytest.fixture
def offline_server(make_server):
    server = make_server(extra="[modules.offline]\nmax_messages = 3\n")
    for name in ("alice", "bob"):
        server.add_user(name)
    return server.start()


def send(stream, to, body, type_="chat", ident=None):
    id_attr = f" id='{ident}'" if ident else ""
    type_attr = f" type='{type_}'" if type_ else ""
    stream.send(f"<message to='{to}'{type_attr}{id_attr}><body>{body}</body></message>")


def bodies(stream, count):
    got = [stream.wait_for(lambda e: e.tag == MESSAGE) for _ in range(count)]
    return got


def test_message_to_an_offline_account_arrives_at_its_next_login_with_a_delay_stamp(offline_server):
    alice, alice_jid = online(offline_server, "alice")
    send(alice, "bob@localhost", "first", type_=None)  # normal
    send(alice, "bob@localhost/gone", "second")  # chat to a gone resource: as if to the bare JID
    assert is_result(alice.ping("sync"))
    bob, bob_jid = online(offline_server, "bob")
    got = bodies(bob, 2)
    assert [m.findtext(q(NS_CLIENT, "body")) for m in got] == ["first", "second"]
    for m in got:
        assert m.get("from") == alice_jid
        delay = m.find(DELAY)
        assert delay is not None and delay.get("from") == "localhost", ET.tostring(m)
        assert delay.get("stamp", "").endswith("Z")
    # Delivered once: a later login gets nothing more.
    bob2, _ = online(offline_server, "bob", resource="again")
    assert is_result(bob2.ping("sync"))
    assert not [e for e in bob2.poll_events(0.3) if e.kind == "element" and e.elem.tag == MESSAGE]


def test_offline_messages_survive_a_restart(offline_server):
    alice, _ = online(offline_server, "alice")
    send(alice, "bob@localhost", "kept across restart")
    assert is_result(alice.ping("sync"))
    alice.close()
    offline_server.stop()
    offline_server.start()
    bob, _ = online(offline_server, "bob")
    assert bodies(bob, 1)[0].findtext(q(NS_CLIENT, "body")) == "kept across restart"


def test_storage_is_bounded_and_the_sender_learns_it(offline_server):
    alice, _ = online(offline_server, "alice")
    for i in range(3):
        send(alice, "bob@localhost", f"m{i}", ident=f"m{i}")
    send(alice, "bob@localhost", "one too many", ident="m3")
    assert error_condition(answer(alice, "m3")) == "resource-constraint"


def test_headline_is_not_stored_and_nonexistent_account_gets_service_unavailable(offline_server):
    alice, _ = online(offline_server, "alice")
    send(alice, "bob@localhost", "news", type_="headline")
    send(alice, "nobody@localhost", "hello?", ident="x1")
    assert error_condition(answer(alice, "x1")) == "service-unavailable"
    bob, _ = online(offline_server, "bob")
    assert is_result(bob.ping("sync"))
    assert not [e for e in bob.poll_events(0.3) if e.kind == "element" and e.elem.tag == MESSAGE]


def test_negative_priority_login_does_not_take_the_messages(offline_server):
    alice, _ = online(offline_server, "alice")
    send(alice, "bob@localhost", "for a real login")
    assert is_result(alice.ping("sync"))
    low, low_jid = login(offline_server.port, "bob", PASSWORD, resource="low")
    low.send("<presence><priority>-1</priority></presence>")
    assert is_result(low.ping("sync"))
    assert not [e for e in low.poll_events(0.3) if e.kind == "element" and e.elem.tag == MESSAGE]
    bob, _ = online(offline_server, "bob", resource="main")
    assert bodies(bob, 1)[0].findtext(q(NS_CLIENT, "body")) == "for a real login"


def test_user_del_removes_stored_messages(offline_server):
    alice, _ = online(offline_server, "alice")
    send(alice, "bob@localhost", "never read")
    assert is_result(alice.ping("sync"))
    assert offline_server.cli("user", "del", "bob").returncode == 0
    offline_server.add_user("bob")
    bob, _ = online(offline_server, "bob")
    assert is_result(bob.ping("sync"))
    assert not [e for e in bob.poll_events(0.3) if e.kind == "element" and e.elem.tag == MESSAGE]


def test_messages_wait_for_a_negative_priority_to_become_positive(offline_server):
    alice, _ = online(offline_server, "alice")
    send(alice, "bob@localhost", "when you are really here")
    assert is_result(alice.ping("sync"))
    bob, bob_jid = login(offline_server.port, "bob", PASSWORD, resource="shy")
    bob.send("<presence><priority>-5</priority></presence>")
    assert is_result(bob.ping("sync"))
    assert not [e for e in bob.poll_events(0.3) if e.kind == "element" and e.elem.tag == MESSAGE]
    bob.send("<presence><priority>5</priority></presence>")
    assert bodies(bob, 1)[0].findtext(q(NS_CLIENT, "body")) == "when you are really here"


def test_stored_messages_are_on_disk_before_the_senders_next_stanza_is_answered(make_server):
    """RFC 6121 §8.5.2.2.1 / the IM issue: a message stored for an offline account is durable
    before the sender's stream moves on. A burst of messages and then a ping in one write;
    the moment the ping is answered the server is killed (SIGKILL, no shutdown), and every
    message must still be there after a restart."""
    server = make_server(extra="[modules.offline]\nmax_messages = 1000\n")
    for name in ("alice", "bob"):
        server.add_user(name)
    server.start()
    count = 300
    alice, _ = online(server, "alice")
    burst = "".join(f"<message to='bob@localhost' type='chat'><body>m{i}</body></message>" for i in range(count))
    alice.send(burst)
    assert is_result(alice.ping("sync"))
    server.process.kill()
    server.process.wait()
    server.start()
    bob, _ = online(server, "bob")
    got = bodies(bob, count)
    assert [m.findtext(q(NS_CLIENT, "body")) for m in got] == [f"m{i}" for i in range(count)]


def test_stored_messages_come_before_live_ones_sent_after_the_login(make_server):
    """Messages that arrive while the stored ones are being read wait for them: the
    recipient sees the conversation in the order it was written."""
    server = make_server(extra="[modules.offline]\nmax_messages = 1000\n")
    for name in ("alice", "bob"):
        server.add_user(name)
    server.start()
    stored = 900
    alice, _ = online(server, "alice")
    alice.send("".join(f"<message to='bob@localhost' type='chat'><body>stored {i}</body></message>"
                       for i in range(stored)))
    assert is_result(alice.ping("sync"))
    bob, bob_jid = login(server.port, "bob", PASSWORD, resource="late")
    bob.send("<presence/>")
    alice.send("".join(f"<message to='bob@localhost' type='chat'><body>live {i}</body></message>"
                       for i in range(20)))
    got = [m.findtext(q(NS_CLIENT, "body")) for m in bodies(bob, stored + 20)]
    assert got == [f"stored {i}" for i in range(stored)] + [f"live {i}" for i in range(20)]
