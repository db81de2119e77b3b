"""Stanzas: the server's own services (ping, version, time, disco) and routing between
clients (RFC 6120 §8, §10; RFC 6121 §8)."""
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest
from slixmpp.stanza import Iq
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from xmpp_client import available, error_condition, login, run

PING = "<ping xmlns='urn:xmpp:ping'/>"
VERSION_NS = "jabber:iq:version"
TIME_NS = "urn:xmpp:time"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
TEST_NS = "urn:starling:test:echo"


def uid():
    return uuid.uuid4().hex[:10]


# --- the server's own services -----------------------------------------------------------

def test_ping_to_the_server_is_answered_with_an_empty_result(server):
    async def body():
        alice = await login(server, "alice")
        reply = await alice.query("get", "localhost", PING)
        assert reply["type"] == "result", str(reply)
        assert reply["from"] == "localhost"
        assert len(reply.xml) == 0, str(reply)  # XEP-0199 §4.2: an empty result

    run(body())


def test_ping_to_own_bare_jid_is_answered_by_the_server_for_the_account(server):
    async def body():
        alice = await login(server, "alice")
        reply = await alice.query("get", "alice@localhost", PING)
        assert reply["type"] == "result", str(reply)
        assert reply["from"] == "alice@localhost"

    run(body())


@pytest.mark.parametrize("to", [None, "localhost"])
def test_legacy_session_request_is_answered_with_a_result(server, to):
    async def body():
        alice = await login(server, "alice")
        reply = await alice.query("set", to, "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>")
        assert reply["type"] == "result", str(reply)

    run(body())


def test_version_names_starling_and_hides_the_os_by_default(server):
    async def body():
        alice = await login(server, "alice")
        reply = await alice.query("get", "localhost", f"<query xmlns='{VERSION_NS}'/>")
        assert reply["type"] == "result", str(reply)
        q = reply.xml.find(f"{{{VERSION_NS}}}query")
        assert q is not None, str(reply)
        assert q.findtext(f"{{{VERSION_NS}}}name") == "Starling"
        assert (q.findtext(f"{{{VERSION_NS}}}version") or "").strip() != ""
        assert q.find(f"{{{VERSION_NS}}}os") is None, str(reply)

    run(body())


def test_version_includes_the_os_when_show_os_is_set(make_server):
    s = make_server(extra="[modules.version]\nshow_os = true\n")
    s.add_user("alice")
    s.start()

    async def body():
        alice = await login(s, "alice")
        reply = await alice.query("get", "localhost", f"<query xmlns='{VERSION_NS}'/>")
        assert reply["type"] == "result", str(reply)
        assert (reply.xml.findtext(f"{{{VERSION_NS}}}query/{{{VERSION_NS}}}os") or "").strip() != ""

    run(body())


def test_time_gives_utc_close_to_now(server):
    async def body():
        alice = await login(server, "alice")
        reply = await alice.query("get", "localhost", f"<time xmlns='{TIME_NS}'/>")
        assert reply["type"] == "result", str(reply)
        t = reply.xml.find(f"{{{TIME_NS}}}time")
        assert t is not None, str(reply)
        utc = t.findtext(f"{{{TIME_NS}}}utc")
        tzo = t.findtext(f"{{{TIME_NS}}}tzo")
        assert utc and utc.endswith("Z"), utc  # XEP-0202 §3: UTC, XEP-0082 format
        assert tzo and len(tzo) == 6 and tzo[0] in "+-", tzo
        when = datetime.fromisoformat(utc[:-1] + "+00:00")
        # Not a timing assertion: only that the server's clock and format make sense.
        assert abs(datetime.now(timezone.utc) - when) < timedelta(hours=1), utc

    run(body())


def test_disco_info_of_the_server_lists_identity_and_features(server):
    async def body():
        alice = await login(server, "alice")
        reply = await alice.query("get", "localhost", f"<query xmlns='{DISCO_INFO}'/>")
        assert reply["type"] == "result", str(reply)
        q = reply.xml.find(f"{{{DISCO_INFO}}}query")
        identities = {(i.get("category"), i.get("type")) for i in q.findall(f"{{{DISCO_INFO}}}identity")}
        features = [f.get("var") for f in q.findall(f"{{{DISCO_INFO}}}feature")]
        assert ("server", "im") in identities, str(reply)
        for ns in ("urn:xmpp:ping", VERSION_NS, TIME_NS, DISCO_INFO, DISCO_ITEMS):
            assert ns in features, (ns, features)
        assert len(features) == len(set(features)), features  # XEP-0030 §3.1: no duplicates

    run(body())


def test_disco_items_of_the_server_lists_its_services(server):
    """At the defaults, the server's services are Multi-User Chat at conference.localhost and
    Publish-Subscribe at pubsub.localhost."""
    async def body():
        alice = await login(server, "alice")
        reply = await alice.query("get", "localhost", f"<query xmlns='{DISCO_ITEMS}'/>")
        assert reply["type"] == "result", str(reply)
        q = reply.xml.find(f"{{{DISCO_ITEMS}}}query")
        assert q is not None, str(reply)
        assert sorted(i.get("jid") for i in q) == ["conference.localhost", "pubsub.localhost"], str(reply)

    run(body())


@pytest.mark.parametrize("type_", ["get", "set"])
def test_unknown_iq_payload_to_the_server_gets_service_unavailable(server, type_):
    async def body():
        alice = await login(server, "alice")
        reply = await alice.query(type_, "localhost", "<query xmlns='urn:starling:test:nothing-here'/>")
        assert reply["type"] == "error", str(reply)
        assert error_condition(reply) == "service-unavailable", str(reply)
        assert reply["from"] == "localhost"

    run(body())


# --- routing between clients ------------------------------------------------------------

async def exchange_chat(server):
    """alice and bob send each other chat messages to full JIDs."""
    alice = await login(server, "alice", resource="desk")
    bob = await login(server, "bob", resource="phone")
    text = "hello " + uid()
    alice.send_message(mto=bob.boundjid.full, mbody=text, mtype="chat")
    msg = await bob.message(lambda m: m["body"] == text)
    assert msg["from"] == alice.boundjid.full
    assert msg["to"] == bob.boundjid.full
    assert msg["type"] == "chat"
    answer = "hi " + uid()
    bob.send_message(mto=alice.boundjid.full, mbody=answer, mtype="chat")
    msg = await alice.message(lambda m: m["body"] == answer)
    assert msg["from"] == bob.boundjid.full
    assert msg["to"] == alice.boundjid.full


def test_chat_message_between_full_jids_arrives_from_the_senders_full_jid(server):
    run(exchange_chat(server))


@pytest.mark.parametrize("shards", [1, 4])
def test_chat_message_between_full_jids_arrives_with_any_number_of_shards(make_server, shards):
    s = make_server(shards=shards)
    for name in ("alice", "bob"):
        s.add_user(name)
    s.start()
    run(exchange_chat(s))


def test_server_stamps_the_senders_full_jid_over_a_spoofed_from(server):
    async def body():
        alice = await login(server, "alice", resource="honest")
        bob = await login(server, "bob", resource="reader")
        text = "spoof " + uid()
        alice.send_raw(f"<message to='{bob.boundjid.full}' from='carol@localhost/x' type='chat' id='{uid()}'>"
                       f"<body>{text}</body></message>")
        msg = await bob.message(lambda m: m["body"] == text)
        assert msg["from"] == alice.boundjid.full

    run(body())


def test_message_to_a_bare_jid_reaches_the_available_resource(server):
    async def body():
        bob = await login(server, "bob", resource="present")
        await available(bob)
        alice = await login(server, "alice")
        text = "bare " + uid()
        alice.send_message(mto="bob@localhost", mbody=text, mtype="chat")
        msg = await bob.message(lambda m: m["body"] == text)
        assert msg["from"] == alice.boundjid.full
        # No error came back to the sender.
        await alice.sync()
        assert not [m for m in alice.messages() if m["type"] == "error"], [str(m) for m in alice.messages()]

    run(body())


def test_message_to_a_nonexistent_user_bounces_with_service_unavailable(server):
    async def body():
        alice = await login(server, "alice")
        id_ = uid()
        alice.send_raw(f"<message to='nobody@localhost' type='chat' id='{id_}'><body>anyone?</body></message>")
        err = await alice.message(lambda m: m["id"] == id_ and m["type"] == "error", "error for the message")
        assert error_condition(err) == "service-unavailable", str(err)
        assert err["from"] == "nobody@localhost"

    run(body())


def test_message_to_an_unknown_resource_of_an_online_user_goes_to_the_bare_jid(server):
    async def body():
        bob = await login(server, "bob", resource="only")
        await available(bob)
        alice = await login(server, "alice")
        text = "lost resource " + uid()
        alice.send_message(mto="bob@localhost/no-such-resource", mbody=text, mtype="chat")
        msg = await bob.message(lambda m: m["body"] == text)
        assert msg["from"] == alice.boundjid.full

    run(body())


def test_iq_to_another_users_full_jid_is_routed_and_the_reply_routed_back(server):
    async def body():
        alice = await login(server, "alice", resource="asker")
        bob = await login(server, "bob", resource="answerer")
        seen = []

        def answer(iq):
            seen.append(iq["from"].full)
            reply = iq.reply(clear=True)
            echo = ET.Element(f"{{{TEST_NS}}}echo")
            echo.text = "pong:" + iq.xml.findtext(f"{{{TEST_NS}}}echo")
            reply.append(echo)
            reply.send()

        bob.register_handler(Callback("echo", MatchXPath(f"{{jabber:client}}iq/{{{TEST_NS}}}echo"), answer))
        # RFC 6121 §8.5.3.1: bob shares presence with alice (directed presence), so her
        # request reaches him.
        bob.send_presence(pto=alice.boundjid.full)
        await alice.wait_for(lambda s: s.name == "presence" and s["from"] == bob.boundjid.full, "bob's presence")
        token = uid()
        reply = await alice.query("get", bob.boundjid.full, f"<echo xmlns='{TEST_NS}'>{token}</echo>")
        assert reply["type"] == "result", str(reply)
        assert reply["from"] == bob.boundjid.full
        assert reply.xml.findtext(f"{{{TEST_NS}}}echo") == "pong:" + token
        assert seen == [alice.boundjid.full]

    run(body())


@pytest.mark.parametrize("payload", [
    "<query xmlns='http://jabber.org/protocol/disco#info'/>",
    "<query xmlns='jabber:iq:version'/>",
], ids=["disco_info", "version"])
def test_iq_to_a_full_jid_from_someone_sharing_no_presence_is_delivered(server, payload):
    """RFC 6121 §8.5.3.1 lets a server refuse it (SHOULD NOT deliver), but clients query the
    disco and version of a resource before any subscription, and Jingle runs between
    non-contacts; Prosody and ejabberd deliver it, and so does Starling by default."""
    async def body():
        carol = await login(server, "carol", resource="stranger")
        bob = await login(server, "bob", resource="open")
        mark = len(bob.received)
        reply = await carol.query("get", bob.boundjid.full, payload)
        # bob's own slixmpp answers (disco#info plugin, or feature-not-implemented for version).
        assert reply["from"] == bob.boundjid.full, str(reply)
        assert error_condition(reply) != "service-unavailable", str(reply)
        got = [st for st in bob.received[mark:] if st.name == "iq" and st["from"] == carol.boundjid.full]
        assert len(got) == 1, [str(st) for st in bob.received[mark:]]

    run(body())


def test_iq_to_a_full_jid_from_someone_sharing_no_presence_is_refused_when_configured(make_server):
    """[modules.roster] iq_needs_shared_presence follows §8.5.3.1's SHOULD NOT: the answer is
    the same as for a resource that is not there, so a stranger cannot tell who is online."""
    s = make_server(extra="[modules.roster]\niq_needs_shared_presence = true\n")
    for name in ("bob", "carol"):
        s.add_user(name)
    s.start()

    async def body():
        carol = await login(s, "carol", resource="stranger")
        bob = await login(s, "bob", resource="private")
        mark = len(bob.received)
        token = uid()
        reply = await carol.query("get", bob.boundjid.full, f"<echo xmlns='{TEST_NS}'>{token}</echo>")
        assert reply["type"] == "error" and error_condition(reply) == "service-unavailable", str(reply)
        # bob's slixmpp would have answered feature-not-implemented had it seen the request.
        assert reply.xml.find("{urn:ietf:params:xml:ns:xmpp-stanzas}feature-not-implemented") is None
        await bob.sync()
        assert not [st for st in bob.received[mark:] if st.name == "iq" and st["from"] == carol.boundjid.full]
        # Directed presence is presence shared: now her request reaches him.
        bob.send_presence(pto=carol.boundjid.full)
        await carol.wait_for(lambda st: st.name == "presence" and st["from"] == bob.boundjid.full, "bob's presence")
        reply = await carol.query("get", bob.boundjid.full, f"<echo xmlns='{TEST_NS}'>{token}</echo>")
        assert reply["from"] == bob.boundjid.full and error_condition(reply) != "service-unavailable", str(reply)
        assert [st for st in bob.received[mark:] if st.name == "iq" and st["from"] == carol.boundjid.full]

    run(body())


@pytest.mark.parametrize("to", ["carol@localhost/nowhere", "bob@localhost/no-such-resource", "nobody@localhost/x"])
def test_iq_to_a_nonexistent_full_jid_gets_service_unavailable(server, to):
    async def body():
        bob = await login(server, "bob", resource="online")  # bob has a session, not that one
        alice = await login(server, "alice")
        reply = await alice.query("get", to, f"<echo xmlns='{TEST_NS}'>x</echo>")
        assert reply["type"] == "error", str(reply)
        assert error_condition(reply) == "service-unavailable", str(reply)
        assert reply["from"] == to
        await bob.sync()
        assert not [s for s in bob.received if isinstance(s, Iq) and s["type"] == "get"]

    run(body())


def test_message_to_a_remote_domain_bounces_with_remote_server_not_found(server):
    async def body():
        alice = await login(server, "alice")
        id_ = uid()
        alice.send_raw(f"<message to='someone@example.org' type='chat' id='{id_}'><body>far away</body></message>")
        err = await alice.message(lambda m: m["id"] == id_, "error for the message")
        assert err["type"] == "error", str(err)
        assert error_condition(err) == "remote-server-not-found", str(err)
        assert err["from"] == "someone@example.org"

    run(body())


@pytest.mark.parametrize("bad", ["a b@localhost", "@localhost", "alice@localhost/", "alice@exa mple.org"])
def test_invalid_jid_in_to_gets_jid_malformed(server, bad):
    async def body():
        alice = await login(server, "alice")
        id_ = uid()
        alice.send_raw(f"<message to='{bad}' type='chat' id='{id_}'><body>malformed</body></message>")
        err = await alice.message(lambda m: m["id"] == id_, "error for the message")
        assert err["type"] == "error", str(err)
        assert error_condition(err) == "jid-malformed", str(err)
        # The stream survives a stanza error.
        await alice.sync()

    run(body())
