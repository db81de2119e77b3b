"""XEP-0191 Blocking Command with slixmpp: the feature in disco, the blocklist (get, block,
unblock, unblock-all, errors, persistence, removal with the account), pushes to the
resources that asked for the list, and the effect of a block on stanzas both ways (§3.3),
on presence (unavailable at block, current presence at unblock) and on JID matching (§6).

Each test gets a fresh server: blocks outlive sessions, so tests sharing one would see
each other's lists. Checks that something does NOT arrive wait QUIET seconds after a
positive barrier (a reply that must arrive first), so they can fail."""
import asyncio
import uuid

import pytest
from slixmpp.stanza import Iq, Message, Presence

from xmpp_client import HANG_TIMEOUT, available, error_condition, login, run, wait_in

NS_BLOCKING = "urn:xmpp:blocking"
NS_BLOCKING_ERRORS = "urn:xmpp:blocking:errors"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_CLIENT = "jabber:client"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_ROSTER = "jabber:iq:roster"
PING = "<ping xmlns='urn:xmpp:ping'/>"
BLOCKLIST = f"<blocklist xmlns='{NS_BLOCKING}'/>"

# How long an absence is waited for, after a barrier; a bound, not a timing assertion.
QUIET = 0.7


def uid():
    return uuid.uuid4().hex[:10]


@pytest.fixture
def blocking_server(make_server):
    server = make_server()
    for name in ("alice", "bob", "carol", "dave"):
        server.add_user(name)
    server.start()
    yield server
    assert server.alive(), "the server died during the test:\n" + server.log()[-4000:]


# --- clients ---------------------------------------------------------------------------

async def connect(server, user, resource, *, blocking=False, present=True, priority=0):
    """A bound session that answers nothing about subscriptions on its own (slixmpp would
    otherwise approve and ask back by itself). blocking=True: slixmpp's xep_0191 plugin,
    the blocklist requested (so the server pushes changes here, §3.3) and pushes answered
    with a result. present=True: initial presence."""
    client = await login(server, user, resource=resource)
    client.roster.auto_authorize = None
    client.roster.auto_subscribe = False
    if blocking:
        with_blocking_plugin(client)
        await blocklist(client)
    if present:
        await available(client, priority)
    return client


def with_blocking_plugin(client):
    """slixmpp's xep_0191 only raises 'blocked'/'unblocked' events for a push and sends no
    answer (it has a handler, so not even slixmpp's feature-not-implemented): answer each
    push with a result here (RFC 6120 §8.2.3: every iq get/set is answered)."""
    client.register_plugin("xep_0191")

    def answer(iq):
        iq.reply(clear=True).send()

    client.add_event_handler("blocked", answer)
    client.add_event_handler("unblocked", answer)


async def answered(client, push):
    """Waits until `client` has answered the push with a result (with_blocking_plugin's
    handler runs after the push is recorded in `received`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANG_TIMEOUT
    while loop.time() < deadline:
        if any(isinstance(s, Iq) and s["type"] == "result" and s["id"] == push["id"] for s in client.sent):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{client.boundjid.full} did not answer {push}")


async def blocklist(client):
    """The JIDs in the account's blocklist, as strings."""
    reply = await client.query("get", None, BLOCKLIST)
    assert reply["type"] == "result", f"blocklist get: {reply}"
    element = reply.xml.find(f"{{{NS_BLOCKING}}}blocklist")
    assert element is not None, f"no <blocklist/> in {reply}"
    jids = [item.get("jid") for item in element.findall(f"{{{NS_BLOCKING}}}item")]
    assert len(jids) == len(set(jids)), f"duplicate items: {reply}"
    return set(jids)


def items_xml(jids):
    return "".join(f"<item jid='{j}'/>" for j in jids)


async def command(client, verb, *jids):
    """<block/> or <unblock/> with these items; the server's answer (result or error)."""
    return await client.query("set", None, f"<{verb} xmlns='{NS_BLOCKING}'>{items_xml(jids)}</{verb}>")


async def block(client, *jids):
    reply = await command(client, "block", *jids)
    assert reply["type"] == "result", f"block {jids}: {reply}"
    return reply


async def unblock(client, *jids):
    reply = await command(client, "unblock", *jids)
    assert reply["type"] == "result", f"unblock {jids}: {reply}"
    return reply


# --- stanzas ---------------------------------------------------------------------------

def bare(jid):
    return (jid or "").split("/")[0]


def send_chat(client, to, body=None):
    """A chat message with an id (to match its error); returns (id, body)."""
    ident = uid()
    body = body or f"text {ident}"
    msg = client.make_message(mto=to, mbody=body, mtype="chat")
    msg["id"] = ident
    msg.send()
    return ident, body


def message_with_body(body):
    return lambda s: isinstance(s, Message) and s["body"] == body and s["type"] != "error"


def error_for(ident):
    return lambda s: s.xml.get("id") == ident and s.xml.get("type") == "error"


def presence_from(jid, type_=None):
    """Presence from exactly `jid` (full) or any resource of it (bare), of this type
    (None: available)."""
    def match(s):
        if not isinstance(s, Presence) or s.xml.get("type") != type_:
            return False
        sender = s.xml.get("from") or ""
        return sender == jid if "/" in jid else bare(sender) == jid
    return match


def any_presence_from(account):
    return lambda s: isinstance(s, Presence) and bare(s.xml.get("from")) == account


def anything_from(account):
    return lambda s: isinstance(s, (Message, Iq, Presence)) and bare(s.xml.get("from")) == account


def is_push(verb):
    return lambda s: (isinstance(s, Iq) and s.xml.get("type") == "set"
                      and s.xml.find(f"{{{NS_BLOCKING}}}{verb}") is not None)


def any_push(s):
    return is_push("block")(s) or is_push("unblock")(s)


def push_items(push, verb):
    return {i.get("jid") for i in push.xml.find(f"{{{NS_BLOCKING}}}{verb}").findall(f"{{{NS_BLOCKING}}}item")}


async def absent(client, predicate, start, what, wait=QUIET):
    """Nothing matching `predicate` in what `client` received from index `start`, waiting
    `wait` seconds for it (call after a barrier)."""
    found = await wait_in(client.received, client._arrived, predicate, wait, start)
    assert found is None, f"{client.boundjid.full} got {what}: {found}"


def assert_blocked_error(stanza):
    """§3.3 Example 9: type cancel, <not-acceptable/> and <blocked xmlns='urn:xmpp:blocking:errors'/>."""
    assert stanza.xml.get("type") == "error", str(stanza)
    error = stanza.xml.find(f"{{{NS_CLIENT}}}error")
    assert error is not None, str(stanza)
    assert error.get("type") == "cancel", str(stanza)
    assert error.find(f"{{{NS_STANZAS}}}not-acceptable") is not None, str(stanza)
    assert error.find(f"{{{NS_BLOCKING_ERRORS}}}blocked") is not None, str(stanza)


async def subscribe_both_ways(a, b):
    """Mutual presence subscription between the two clients' accounts (RFC 6121 §3), both
    already available; returns once each has the other's available presence."""
    a_bare, b_bare = a.boundjid.bare, b.boundjid.bare
    a.send_presence(pto=b_bare, ptype="subscribe")
    await b.wait_for(presence_from(a_bare, "subscribe"), "subscription request")
    b.send_presence(pto=a_bare, ptype="subscribed")
    b.send_presence(pto=a_bare, ptype="subscribe")
    await a.wait_for(presence_from(b_bare, "subscribe"), "subscription request")
    a.send_presence(pto=b_bare, ptype="subscribed")
    await a.wait_for(presence_from(b.boundjid.full), "contact's presence after approval")
    await b.wait_for(presence_from(a.boundjid.full), "contact's presence after approval")


async def wait_session_gone(watcher, full_jid):
    """Waits until the server routes nothing more to `full_jid` (its session has ended):
    an iq to a full JID without a session gets service-unavailable from the server."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANG_TIMEOUT
    while loop.time() < deadline:
        try:
            reply = await watcher.query("get", full_jid, PING, timeout=1)
        except AssertionError:  # no answer: still routed to the closed session
            continue
        if error_condition(reply) == "service-unavailable":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{full_jid} still has a session after {HANG_TIMEOUT}s")


async def logout(client, watcher):
    client.disconnect()
    await client.wait_closed()
    await wait_session_gone(watcher, client.boundjid.full)


# --- §3.1, §3.2: discovery and the list ------------------------------------------------

def test_server_disco_info_lists_the_blocking_feature(blocking_server):
    async def body():
        alice = await connect(blocking_server, "alice", "desk", present=False)
        reply = await alice.query("get", "localhost", f"<query xmlns='{NS_DISCO_INFO}'/>")
        assert reply["type"] == "result", str(reply)
        features = [f.get("var") for f in reply.xml.findall(f"{{{NS_DISCO_INFO}}}query/{{{NS_DISCO_INFO}}}feature")]
        assert NS_BLOCKING in features, features

    run(body())


def test_blocklist_of_a_fresh_account_is_an_empty_blocklist_element(blocking_server):
    async def body():
        alice = await connect(blocking_server, "alice", "desk", present=False)
        reply = await alice.query("get", None, BLOCKLIST)
        assert reply["type"] == "result", str(reply)
        element = reply.xml.find(f"{{{NS_BLOCKING}}}blocklist")
        assert element is not None, str(reply)
        assert list(element) == [], str(reply)

    run(body())


# --- §3.3, §3.4, §3.5: commands -------------------------------------------------------

def test_block_of_several_items_is_answered_with_an_empty_result_and_listed(blocking_server):
    async def body():
        alice = await connect(blocking_server, "alice", "desk", present=False)
        reply = await block(alice, "bob@localhost", "carol@localhost/phone", "example.org")
        assert len(reply.xml) == 0, f"§3.3 Example 7: an empty result: {reply}"
        assert await blocklist(alice) == {"bob@localhost", "carol@localhost/phone", "example.org"}
        # Blocking a JID already blocked keeps one item.
        await block(alice, "bob@localhost", "dave@localhost")
        assert await blocklist(alice) == {"bob@localhost", "carol@localhost/phone", "example.org", "dave@localhost"}

    run(body())


def test_block_without_items_is_a_bad_request_and_changes_nothing(blocking_server):
    async def body():
        alice = await connect(blocking_server, "alice", "desk", present=False)
        await block(alice, "bob@localhost")
        reply = await command(alice, "block")
        assert reply["type"] == "error", str(reply)
        assert error_condition(reply) == "bad-request", str(reply)
        assert await blocklist(alice) == {"bob@localhost"}

    run(body())


@pytest.mark.parametrize("bad", ["a@b@c", ""])
def test_block_of_an_invalid_jid_is_jid_malformed_and_stores_nothing(blocking_server, bad):
    async def body():
        alice = await connect(blocking_server, "alice", "desk", present=False)
        await block(alice, "bob@localhost")
        reply = await command(alice, "block", bad)
        assert reply["type"] == "error", str(reply)
        assert error_condition(reply) == "jid-malformed", str(reply)
        # Not even the valid item of a command with an invalid one.
        reply = await command(alice, "block", "dave@localhost", bad)
        assert error_condition(reply) == "jid-malformed", str(reply)
        assert await blocklist(alice) == {"bob@localhost"}

    run(body())


def test_unblock_removes_the_items_and_an_empty_unblock_removes_all(blocking_server):
    async def body():
        alice = await connect(blocking_server, "alice", "desk", present=False)
        await block(alice, "bob@localhost", "carol@localhost", "dave@localhost/x", "example.org")
        reply = await unblock(alice, "carol@localhost", "dave@localhost/x")
        assert len(reply.xml) == 0, str(reply)
        assert await blocklist(alice) == {"bob@localhost", "example.org"}
        # Unblocking a JID that is not blocked is no error.
        await unblock(alice, "nobody@localhost")
        assert await blocklist(alice) == {"bob@localhost", "example.org"}
        await unblock(alice)
        assert await blocklist(alice) == set()

    run(body())


def test_slixmpp_blocking_plugin_round_trip(blocking_server):
    """The same through slixmpp's own xep_0191 API (JIDs parsed by slixmpp)."""
    async def body():
        alice = await connect(blocking_server, "alice", "desk", present=False)
        with_blocking_plugin(alice)
        plugin = alice["xep_0191"]
        assert (await plugin.get_blocked())["blocklist"]["items"] == set()
        await plugin.block(["bob@localhost", "carol@localhost/phone"])
        got = (await plugin.get_blocked())["blocklist"]["items"]
        assert {j.full for j in got} == {"bob@localhost", "carol@localhost/phone"}
        await plugin.unblock(["bob@localhost"])
        assert {j.full for j in (await plugin.get_blocked())["blocklist"]["items"]} == {"carol@localhost/phone"}
        await plugin.unblock([])  # an empty <unblock/>
        assert (await plugin.get_blocked())["blocklist"]["items"] == set()

    run(body())


def test_blocks_survive_a_restart_and_apply_from_the_first_stanza(blocking_server):
    async def before():
        alice = await connect(blocking_server, "alice", "desk", present=False)
        await block(alice, "bob@localhost", "carol@localhost/phone", "example.org")

    async def after():
        bob = await connect(blocking_server, "bob", "phone")
        alice = await login(blocking_server, "alice", resource="again")
        ident, _ = send_chat(alice, "bob@localhost/phone")  # the first stanza of the session
        assert_blocked_error(await alice.wait_for(error_for(ident), "error for the message"))
        assert await blocklist(alice) == {"bob@localhost", "carol@localhost/phone", "example.org"}
        await absent(bob, lambda s: isinstance(s, Message), 0, "a message from a blocking account")

    run(before())
    blocking_server.stop()
    blocking_server.start()
    run(after())


# --- pushes -----------------------------------------------------------------------------

def test_changes_are_pushed_to_the_resources_that_requested_the_blocklist_only(blocking_server):
    async def body():
        one = await connect(blocking_server, "alice", "one", blocking=True)
        two = await connect(blocking_server, "alice", "two", blocking=True)
        three = await connect(blocking_server, "alice", "three")  # never asks for the list
        marks = {c: len(c.received) for c in (one, two, three)}

        async def pushes(verb, jids):
            for c in (one, two):
                push = await c.wait_for(is_push(verb), f"{verb} push", start=marks[c])
                assert push.xml.get("to") == c.boundjid.full, str(push)
                assert push.xml.get("from") in (None, "alice@localhost"), str(push)
                assert push_items(push, verb) == set(jids), str(push)
                await answered(c, push)
            await three.sync()
            await absent(three, any_push, marks[three], "a push without requesting the blocklist")
            for c in (one, two, three):
                marks[c] = len(c.received)

        await block(one, "bob@localhost", "carol@localhost/x")
        await pushes("block", ["bob@localhost", "carol@localhost/x"])
        await unblock(two, "carol@localhost/x")
        await pushes("unblock", ["carol@localhost/x"])
        await unblock(one)  # unblock all: an empty <unblock/> is pushed (§3.5)
        await pushes("unblock", [])
        # A failed command pushes nothing.
        assert error_condition(await command(one, "block")) == "bad-request"
        await one.sync()
        await two.sync()
        for c in (one, two):
            await absent(c, any_push, marks[c], "a push for a refused command")

    run(body())


def test_pushes_go_to_the_blocking_account_only(blocking_server):
    async def body():
        alice = await connect(blocking_server, "alice", "desk", blocking=True)
        bob = await connect(blocking_server, "bob", "phone", blocking=True)
        await block(alice, "bob@localhost")
        await alice.wait_for(is_push("block"), "block push")
        await bob.sync()
        await absent(bob, any_push, 0, "a push for another account's block")

    run(body())


# --- inbound from a blocked JID -------------------------------------------------------

async def blocked_pair(server):
    """alice/desk and bob/phone, available and subscribed both ways; then alice blocks bob
    (and bob has had alice's unavailable presence)."""
    alice = await connect(server, "alice", "desk", blocking=True)
    bob = await connect(server, "bob", "phone")
    await subscribe_both_ways(alice, bob)
    await block(alice, "bob@localhost")
    await bob.wait_for(presence_from(alice.boundjid.full, "unavailable"), "unavailable at the block")
    return alice, bob


def test_message_from_a_blocked_jid_is_refused_with_service_unavailable(blocking_server):
    async def body():
        alice, bob = await blocked_pair(blocking_server)
        mark = len(alice.received)
        for to in (alice.boundjid.full, "alice@localhost"):
            ident, _ = send_chat(bob, to)
            err = await bob.wait_for(error_for(ident), f"error for the message to {to}")
            assert error_condition(err) == "service-unavailable", str(err)
        await alice.sync()
        await absent(alice, lambda s: isinstance(s, Message), mark, "a message from a blocked JID")

    run(body())


def test_iq_from_a_blocked_jid_is_refused_with_service_unavailable(blocking_server):
    async def body():
        alice, bob = await blocked_pair(blocking_server)
        mark = len(alice.received)
        for payload in (PING, f"<query xmlns='{NS_DISCO_INFO}'/>"):
            reply = await bob.query("get", alice.boundjid.full, payload)
            # Had alice's slixmpp got it, it would have answered feature-not-implemented.
            assert reply["type"] == "error", str(reply)
            assert error_condition(reply) == "service-unavailable", str(reply)
        reply = await bob.query("set", alice.boundjid.full, "<query xmlns='urn:starling:test:x'/>")
        assert error_condition(reply) == "service-unavailable", str(reply)
        await alice.sync()
        await absent(alice, lambda s: isinstance(s, Iq) and bare(s.xml.get("from")) == "bob@localhost",
                     mark, "an iq from a blocked JID")

    run(body())


def test_requests_the_server_answers_for_the_account_are_refused_to_a_blocked_jid(blocking_server):
    """The server answers some iqs to the bare JID on the account's behalf (vCard, last
    activity): a blocked JID gets service-unavailable for those too, as if no one were there,
    while anyone else still gets the answer."""
    async def body():
        alice, bob = await blocked_pair(blocking_server)
        carol = await connect(blocking_server, "carol", "pad", present=False)
        published = await alice.query("set", None, "<vCard xmlns='vcard-temp'><FN>Alice</FN></vCard>")
        assert published["type"] == "result", str(published)
        reply = await carol.query("get", "alice@localhost", "<vCard xmlns='vcard-temp'/>")
        assert reply["type"] == "result", str(reply)
        for payload in ("<vCard xmlns='vcard-temp'/>", "<query xmlns='jabber:iq:last'/>"):
            reply = await bob.query("get", "alice@localhost", payload)
            assert error_condition(reply) == "service-unavailable", str(reply)

    run(body())


def test_presence_from_a_blocked_jid_is_dropped_silently(blocking_server):
    async def body():
        alice, bob = await blocked_pair(blocking_server)
        mark_alice, mark_bob = len(alice.received), len(bob.received)
        bob.send_presence(pshow="away", pstatus="can you see me")
        await bob.sync()
        await absent(alice, any_presence_from("bob@localhost"), mark_alice, "presence from a blocked JID")
        await absent(bob, lambda s: s.xml.get("type") == "error", mark_bob, "an error for its presence")
        # A new resource of alice probes her contacts at its initial presence: bob's answer
        # is not delivered either; her other resource's presence is (the barrier).
        second = await connect(blocking_server, "alice", "second")
        await second.wait_for(presence_from(alice.boundjid.full), "presence of alice's other resource")
        await absent(second, any_presence_from("bob@localhost"), 0, "presence from a blocked JID")
        await absent(bob, lambda s: s.xml.get("type") == "error", mark_bob, "an error for its presence")

    run(body())


def test_message_from_a_blocked_jid_to_an_offline_account_is_not_stored(blocking_server):
    async def body():
        carol = await connect(blocking_server, "carol", "watch")
        alice = await connect(blocking_server, "alice", "desk", blocking=True)
        await block(alice, "bob@localhost")
        await logout(alice, carol)
        bob = await connect(blocking_server, "bob", "phone")
        ident, _ = send_chat(bob, "alice@localhost", "stored?")
        err = await bob.wait_for(error_for(ident), "error for the message to an offline account")
        assert error_condition(err) == "service-unavailable", str(err)
        _, kept = send_chat(carol, "alice@localhost", "from carol, stored")  # not blocked
        await carol.sync()
        alice = await connect(blocking_server, "alice", "back")
        await alice.wait_for(message_with_body(kept), "carol's offline message")
        await absent(alice, lambda s: isinstance(s, Message) and bare(s.xml.get("from")) == "bob@localhost",
                     0, "an offline message from a blocked JID")

    run(body())


def test_subscription_request_from_a_blocked_stranger_is_dropped_silently(blocking_server):
    async def body():
        alice = await connect(blocking_server, "alice", "desk", blocking=True)
        await block(alice, "carol@localhost")
        carol = await connect(blocking_server, "carol", "phone")
        dave = await connect(blocking_server, "dave", "phone")  # not blocked: the barrier
        carol.send_presence(pto="alice@localhost", ptype="subscribe")
        await carol.sync()
        dave.send_presence(pto="alice@localhost", ptype="subscribe")
        await alice.wait_for(presence_from("dave@localhost", "subscribe"), "dave's request")
        await absent(alice, any_presence_from("carol@localhost"), 0, "a request from a blocked JID")
        await absent(carol, lambda s: s.xml.get("type") == "error", 0, "an error for the request")
        # Not kept as pending: a new session gets dave's request again, not carol's.
        later = await connect(blocking_server, "alice", "later")
        await later.wait_for(presence_from("dave@localhost", "subscribe"), "dave's pending request")
        await absent(later, any_presence_from("carol@localhost"), 0, "a request from a blocked JID")
        roster = await later.query("get", None, f"<query xmlns='{NS_ROSTER}'/>")
        assert roster["type"] == "result", str(roster)
        assert "carol@localhost" not in [i.get("jid") for i in roster.xml.iter(f"{{{NS_ROSTER}}}item")], str(roster)

    run(body())


# --- outbound to a blocked JID --------------------------------------------------------

def test_message_and_iq_to_a_blocked_jid_are_refused_with_not_acceptable_blocked(blocking_server):
    async def body():
        alice, bob = await blocked_pair(blocking_server)
        mark = len(bob.received)
        for to in (bob.boundjid.full, "bob@localhost"):
            ident, _ = send_chat(alice, to)
            assert_blocked_error(await alice.wait_for(error_for(ident), f"error for the message to {to}"))
        reply = await alice.query("get", bob.boundjid.full, PING)
        assert_blocked_error(reply)
        await bob.sync()
        await absent(bob, anything_from("alice@localhost"), mark, "a stanza from the account blocking it")

    run(body())


# --- presence at block and unblock -----------------------------------------------------

def test_block_sends_unavailable_and_unblock_current_presence_to_the_contact(blocking_server):
    async def body():
        desk = await connect(blocking_server, "alice", "desk", blocking=True)
        laptop = await connect(blocking_server, "alice", "laptop")
        bob = await connect(blocking_server, "bob", "phone")
        await subscribe_both_ways(desk, bob)
        await bob.wait_for(presence_from(laptop.boundjid.full), "presence of alice's second resource")
        mark = len(bob.received)
        await block(desk, "bob@localhost")
        for c in (desk, laptop):
            await bob.wait_for(presence_from(c.boundjid.full, "unavailable"), "unavailable at the block", start=mark)
        # While blocked, alice's presence changes do not reach bob.
        mark = len(bob.received)
        laptop.send_presence(pshow="away", pstatus="gone fishing")
        await laptop.sync()
        await absent(bob, any_presence_from("alice@localhost"), mark, "presence from the account blocking it")

        mark = len(bob.received)
        await unblock(desk, "bob@localhost")
        await bob.wait_for(presence_from(desk.boundjid.full), "desk's presence at the unblock", start=mark)
        current = await bob.wait_for(presence_from(laptop.boundjid.full), "laptop's presence at the unblock",
                                     start=mark)
        assert current["show"] == "away" and current["status"] == "gone fishing", str(current)
        mark = len(bob.received)
        laptop.send_presence(pshow="dnd")
        later = await bob.wait_for(presence_from(laptop.boundjid.full), "a later presence change", start=mark)
        assert later["show"] == "dnd", str(later)

        # Messages flow again, both ways.
        _, text = send_chat(desk, bob.boundjid.full)
        await bob.wait_for(message_with_body(text), "alice's message after the unblock")
        _, text = send_chat(bob, desk.boundjid.full)
        await desk.wait_for(message_with_body(text), "bob's message after the unblock")

    run(body())


def test_unblock_all_lets_stanzas_through_again(blocking_server):
    async def body():
        alice, bob = await blocked_pair(blocking_server)
        await block(alice, "carol@localhost")
        await unblock(alice)
        await bob.wait_for(presence_from(alice.boundjid.full), "alice's presence after unblock-all")
        _, text = send_chat(bob, alice.boundjid.full)
        await alice.wait_for(message_with_body(text), "bob's message after unblock-all")
        _, text = send_chat(alice, "bob@localhost")
        await bob.wait_for(message_with_body(text), "alice's message after unblock-all")

    run(body())


# --- §6 matching ------------------------------------------------------------------------

async def alice_and_two_bobs(server):
    alice = await connect(server, "alice", "desk", blocking=True)
    one = await connect(server, "bob", "one")
    two = await connect(server, "bob", "two")
    return alice, one, two


def test_blocking_a_bare_jid_blocks_every_resource(blocking_server):
    async def body():
        alice, one, two = await alice_and_two_bobs(blocking_server)
        await block(alice, "bob@localhost")
        mark = len(alice.received)
        for bob in (one, two):
            ident, _ = send_chat(bob, alice.boundjid.full)
            err = await bob.wait_for(error_for(ident), "error for the message")
            assert error_condition(err) == "service-unavailable", str(err)
            ident, _ = send_chat(alice, bob.boundjid.full)
            assert_blocked_error(await alice.wait_for(error_for(ident), "error for the message"))
        await alice.sync()
        await absent(alice, lambda s: isinstance(s, Message) and s["type"] != "error", mark,
                     "a message from a blocked resource")

    run(body())


def test_blocking_a_full_jid_blocks_only_that_resource(blocking_server):
    async def body():
        alice, one, two = await alice_and_two_bobs(blocking_server)
        await block(alice, "bob@localhost/one")
        mark = len(alice.received)
        ident, blocked_text = send_chat(one, alice.boundjid.full)
        err = await one.wait_for(error_for(ident), "error for the message")
        assert error_condition(err) == "service-unavailable", str(err)
        _, text = send_chat(two, alice.boundjid.full)
        got = await alice.wait_for(message_with_body(text), "a message from the other resource", start=mark)
        assert got["from"] == two.boundjid.full
        await absent(alice, message_with_body(blocked_text), mark, "a message from the blocked resource")

        ident, _ = send_chat(alice, one.boundjid.full)
        assert_blocked_error(await alice.wait_for(error_for(ident), "error for the message"))
        _, text = send_chat(alice, two.boundjid.full)
        await two.wait_for(message_with_body(text), "alice's message to the other resource")
        await one.sync()
        await absent(one, lambda s: isinstance(s, Message) and s["type"] != "error", 0,
                     "a message from the account blocking it")

    run(body())


def test_blocking_the_domain_blocks_every_user_but_not_the_server(blocking_server):
    async def body():
        alice = await connect(blocking_server, "alice", "desk", blocking=True)
        bob = await connect(blocking_server, "bob", "phone")
        carol = await connect(blocking_server, "carol", "phone")
        await block(alice, "localhost")
        mark = len(alice.received)
        for other in (bob, carol):
            ident, _ = send_chat(other, alice.boundjid.full)
            err = await other.wait_for(error_for(ident), "error for the message")
            assert error_condition(err) == "service-unavailable", str(err)
            ident, _ = send_chat(alice, other.boundjid.full)
            assert_blocked_error(await alice.wait_for(error_for(ident), "error for the message"))
        # The server still answers its user.
        ping = await alice.query("get", "localhost", PING)
        assert ping["type"] == "result", str(ping)
        disco = await alice.query("get", "localhost", f"<query xmlns='{NS_DISCO_INFO}'/>")
        assert disco["type"] == "result", str(disco)
        roster = await alice.query("get", None, f"<query xmlns='{NS_ROSTER}'/>")
        assert roster["type"] == "result", str(roster)
        assert await blocklist(alice) == {"localhost"}
        await absent(alice, lambda s: isinstance(s, Message) and s["type"] != "error", mark,
                     "a message from a user of the blocked domain")

    run(body())


# --- sessions and accounts -------------------------------------------------------------

def test_a_session_bound_after_a_block_has_it_from_its_first_stanza(blocking_server):
    async def body():
        bob = await connect(blocking_server, "bob", "phone")
        desk = await connect(blocking_server, "alice", "desk", blocking=True)
        await block(desk, "bob@localhost")
        second = await login(blocking_server, "alice", resource="second")
        ident, _ = send_chat(second, bob.boundjid.full)  # no round trip before it
        assert_blocked_error(await second.wait_for(error_for(ident), "error for the first stanza"))
        await bob.sync()
        await absent(bob, lambda s: isinstance(s, Message), 0, "a message from the account blocking it")

    run(body())


def test_user_del_removes_the_blocklist(blocking_server):
    async def before():
        carol = await connect(blocking_server, "carol", "watch")
        alice = await connect(blocking_server, "alice", "desk", present=False)
        await block(alice, "bob@localhost", "localhost")
        assert await blocklist(alice) == {"bob@localhost", "localhost"}
        await logout(alice, carol)

    async def after():
        alice = await connect(blocking_server, "alice", "new")
        assert await blocklist(alice) == set()
        bob = await connect(blocking_server, "bob", "phone")
        _, text = send_chat(bob, "alice@localhost")
        await alice.wait_for(message_with_body(text), "bob's message to the new account")

    run(before())
    r = blocking_server.cli("user", "del", "alice")
    assert r.returncode == 0, r.stderr
    blocking_server.add_user("alice")
    run(after())
