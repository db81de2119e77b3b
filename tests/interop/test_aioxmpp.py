"""A second real client library against Starling: aioxmpp 0.13 (Debian's python3-aioxmpp,
with aiosasl 0.5) logs in, subscribes to a slixmpp user both ways (RFC 6121 §3), sees that
user's presence come and go, and exchanges chat messages with it.

aioxmpp checks certificates with pyOpenSSL; the test server's certificate is self-signed,
so the security layer is made with `no_verify=True` (aioxmpp's switch for controlled test
setups). aioxmpp's PasswordSASLProvider offers aiosasl's SCRAM (SHA-1 and SHA-256, never
-PLUS, gs2 flag 'n') and, over TLS, PLAIN; SCRAM is preferred and SHA-256 over SHA-1.

Timeouts only guard against hangs; no assertion depends on how long anything took."""
import asyncio
import re
from typing import Callable

import aioxmpp
import aioxmpp.connector
import aioxmpp.dispatcher
import pytest

from conftest import PASSWORD
from xmpp_client import HANG_TIMEOUT, available, login, run, wait_in

ROSTER_NS = "jabber:iq:roster"


class AioClient:
    """An aioxmpp Client for `user` on the test server, recording what its services report
    (subscription presences, contacts' presences, chat messages, roster changes) in
    `events`, in order."""

    def __init__(self, server, user: str, resource: str = "aioxmpp", direct_tls: bool = False):
        self.jid = aioxmpp.JID.fromstr(f"{user}@{server.domain}/{resource}")
        if direct_tls:
            peer = ("127.0.0.1", server.tls_port, aioxmpp.connector.XMPPOverTLSConnector())
        else:
            peer = ("127.0.0.1", server.port, aioxmpp.connector.STARTTLSConnector())
        self.client = aioxmpp.Client(
            self.jid,
            aioxmpp.make_security_layer(PASSWORD, no_verify=True),
            override_peer=[peer],
            max_initial_attempts=1,
        )
        self.roster = self.client.summon(aioxmpp.RosterClient)
        self.presence = self.client.summon(aioxmpp.PresenceClient)
        self.presence_server = self.client.summon(aioxmpp.PresenceServer)
        self.dispatcher = self.client.summon(aioxmpp.dispatcher.SimpleMessageDispatcher)
        self.events: list = []
        self._arrived = asyncio.Event()
        loop = asyncio.get_running_loop()
        self.established = loop.create_future()  # True, or the failure's exception
        self.stopped = loop.create_future()

        def record(*event):
            self.events.append(event)
            self._arrived.set()

        def on_established():
            if not self.established.done():
                self.established.set_result(True)

        def on_failure(exc):
            if not self.established.done():
                self.established.set_result(exc)
            if not self.stopped.done():
                self.stopped.set_result(("failure", exc))

        def on_stopped():
            if not self.stopped.done():
                self.stopped.set_result(("stopped", None))

        # aioxmpp disconnects a callback that returns a true value: every one returns None.
        self.client.on_stream_established.connect(on_established)
        self.client.on_failure.connect(on_failure)
        self.client.on_stopped.connect(on_stopped)
        self.roster.on_subscribe.connect(lambda st: record("subscribe", st.from_) and None)
        self.roster.on_subscribed.connect(lambda st: record("subscribed", st.from_) and None)
        self.roster.on_entry_subscription_state_changed.connect(
            lambda item: record("roster", item.jid, item.subscription) and None)
        self.roster.on_entry_added.connect(lambda item: record("roster", item.jid, item.subscription) and None)
        self.presence.on_available.connect(lambda jid, st: record("available", jid, st) and None)
        self.presence.on_unavailable.connect(lambda jid, st: record("unavailable", jid, st) and None)
        self.dispatcher.register_callback(
            aioxmpp.MessageType.CHAT, None, lambda msg: record("message", msg.from_, msg) and None)

    async def start(self, timeout: float = HANG_TIMEOUT):
        """Starts the client available (initial presence at session start) and waits until
        the stream is established; fails the test if it is not."""
        self.presence_server.set_presence(aioxmpp.PresenceState(available=True))
        self.client.start()
        try:
            result = await asyncio.wait_for(asyncio.shield(self.established), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"aioxmpp login of {self.jid} neither succeeded nor failed within {timeout}s") from None
        return result

    async def stop(self, timeout: float = HANG_TIMEOUT):
        if self.client.running:
            self.client.stop()
        if self.client.running or not self.stopped.done():
            try:
                await asyncio.wait_for(asyncio.shield(self.stopped), timeout)
            except asyncio.TimeoutError:
                raise AssertionError(f"aioxmpp client {self.jid} did not stop within {timeout}s") from None

    async def wait_for(self, predicate: Callable, what: str, timeout: float = HANG_TIMEOUT):
        """The first recorded event matching `predicate`, waiting for it if need be."""
        found = await wait_in(self.events, self._arrived, predicate, timeout)
        if found is not None:
            return found
        raise AssertionError(f"{self.jid}: no {what} within {timeout}s; events: {self.events}")


def mechanisms_used(server, bare_jid: str):
    """The SASL mechanisms of the server's 'authenticated as <user> with <MECH>' lines."""
    user = bare_jid.split("@")[0]
    found = re.findall(r"authenticated as (\S+) with (\S+)", server.log())
    return [mech for who, mech in found if who in (user, bare_jid)]


async def roster_subscription(slix_client, contact: str):
    """`subscription` of `contact` in the slixmpp user's roster, from a fresh roster get."""
    reply = await slix_client.query("get", None, f"<query xmlns='{ROSTER_NS}'/>")
    assert reply["type"] == "result", str(reply)
    for item in reply.xml.iter(f"{{{ROSTER_NS}}}item"):
        if item.get("jid") == contact:
            return item.get("subscription")
    return None


def is_presence(stanza, sender: str, type_: str) -> bool:
    return stanza.name == "presence" and stanza["from"].full == sender and stanza["type"] == type_


@pytest.fixture
def pair(make_server):
    server = make_server()
    for name in ("alice", "bob"):
        server.add_user(name)
    server.start()
    return server


@pytest.mark.parametrize("direct_tls", [False, True], ids=["starttls", "direct-tls"])
def test_aioxmpp_logs_in_with_scram_sha_256(make_server, direct_tls):
    server = make_server()
    server.add_user("alice")
    server.start()

    async def scenario():
        alice = AioClient(server, "alice", direct_tls=direct_tls)
        try:
            result = await alice.start()
            assert result is True, f"aioxmpp login failed: {result!r}\n--- server log tail ---\n{server.log()[-4000:]}"
            assert str(alice.client.local_jid) == "alice@localhost/aioxmpp"
        finally:
            await alice.stop()
        # aiosasl prefers SCRAM-SHA-256 among what Starling offers (it has no SHA-512 and
        # aioxmpp does not use -PLUS).
        assert mechanisms_used(server, "alice@localhost") == ["SCRAM-SHA-256"], server.log()[-4000:]

    run(scenario())


def test_aioxmpp_and_slixmpp_subscribe_see_presence_and_chat(pair):
    async def scenario():
        bob = await login(pair, "bob", resource="slix")
        bob.auto_authorize = None  # bob answers subscription requests himself
        bob.auto_subscribe = False
        await available(bob)
        alice = AioClient(pair, "alice")
        try:
            result = await alice.start()
            assert result is True, f"aioxmpp login failed: {result!r}\n--- server log tail ---\n{pair.log()[-4000:]}"
            alice_full = str(alice.client.local_jid)
            assert alice_full == "alice@localhost/aioxmpp"
            bob_bare = aioxmpp.JID.fromstr("bob@localhost")
            bob_full = aioxmpp.JID.fromstr("bob@localhost/slix")

            # alice (aioxmpp) asks; bob (slixmpp) gets the request from her bare JID.
            alice.roster.subscribe(bob_bare)
            await bob.wait_for(lambda s: is_presence(s, "alice@localhost", "subscribe"),
                               "subscription request from alice")
            # bob approves and asks back.
            bob.send_presence(pto="alice@localhost", ptype="subscribed")
            bob.send_presence(pto="alice@localhost", ptype="subscribe")
            await alice.wait_for(lambda e: e[:2] == ("subscribed", bob_bare), "subscribed from bob")
            # The approval is followed by bob's current presence (RFC 6121 §3.1.6).
            _, _, st = await alice.wait_for(lambda e: e[:2] == ("available", bob_full), "bob's presence")
            assert st.type_ == aioxmpp.PresenceType.AVAILABLE
            await alice.wait_for(lambda e: e[:2] == ("subscribe", bob_bare), "subscription request from bob")
            alice.roster.approve(bob_bare)
            await bob.wait_for(lambda s: is_presence(s, "alice@localhost", "subscribed"), "subscribed from alice")
            await bob.wait_for(lambda s: is_presence(s, alice_full, "available"), "alice's presence")
            await alice.wait_for(lambda e: e == ("roster", bob_bare, "both"), "roster push: bob, both")
            assert alice.roster.items[bob_bare].subscription == "both"
            assert alice.roster.items[bob_bare].ask is None
            assert await roster_subscription(bob, "alice@localhost") == "both"
            assert alice.presence.get_peer_resources(bob_bare).keys() == {"slix"}

            # Chat both ways: aioxmpp to bob's bare JID, slixmpp answers the full JID it got.
            out = aioxmpp.Message(type_=aioxmpp.MessageType.CHAT, to=bob_bare)
            out.body[None] = "hello from aioxmpp ✓"
            await asyncio.wait_for(alice.client.send(out), HANG_TIMEOUT)
            got = await bob.message(lambda m: m["body"] == "hello from aioxmpp ✓", "alice's message")
            assert got["type"] == "chat"
            assert got["from"].full == alice_full
            assert got["to"].bare == "bob@localhost"
            bob.send_message(mto=got["from"], mbody="hello from slixmpp <&>", mtype="chat")
            _, sender, msg = await alice.wait_for(lambda e: e[0] == "message", "bob's message")
            assert sender == bob_full
            assert msg.to == alice.client.local_jid
            assert msg.body.any() == "hello from slixmpp <&>"
            # And slixmpp to aioxmpp's bare JID: routed to her only available resource.
            bob.send_message(mto="alice@localhost", mbody="to your bare JID", mtype="chat")
            _, sender, msg = await alice.wait_for(
                lambda e: e[0] == "message" and e[2].body.any() == "to your bare JID", "bob's second message")
            assert sender == bob_full

            # bob goes: alice sees him unavailable, and no resource of his is left.
            bob.disconnect()
            await bob.wait_closed()
            _, _, st = await alice.wait_for(lambda e: e[:2] == ("unavailable", bob_full), "bob's unavailable")
            assert st.type_ == aioxmpp.PresenceType.UNAVAILABLE
            assert alice.presence.get_peer_resources(bob_bare) == {}
        finally:
            await alice.stop()
        assert mechanisms_used(pair, "alice@localhost") == ["SCRAM-SHA-256"], pair.log()[-4000:]

    run(scenario())
