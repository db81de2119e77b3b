"""RFC 6121 §3 and §4 between two local accounts over raw streams: subscription requests
and answers, roster pushes of the new states, presence broadcast, probes, unavailable at
logout, pending requests delivered again at login, pre-approval, and no presence for
anyone without a subscription."""
import xml.etree.ElementTree as ET

import pytest

from conftest import PASSWORD
from raw_stream import NS_CLIENT, NS_STANZAS, is_result, login, q
from test_roster import NS_ROSTER, is_push, items, roster_iq

PRESENCE = q(NS_CLIENT, "presence")


def online(server, user, resource="r"):
    s, jid = login(server.port, user, PASSWORD, resource=resource)
    roster_iq(s, "get")
    s.send("<presence/>")
    # The server echoes the presence to the user's own resources once it has recorded it.
    s.wait_for(lambda e: e.tag == PRESENCE and e.get("from") == jid and e.get("type") is None)
    return s, jid


_seen = {}


def presence_from(stream, sender, type_=None):
    """The next presence stanza from `sender` (bare or full JID prefix) of this type. Other
    presence stanzas read meanwhile are kept for later calls: the server answers with
    several stanzas whose relative order the RFC does not fix."""
    kept = _seen.setdefault(id(stream), [])

    def match(e):
        return e.tag == PRESENCE and (e.get("from") or "").startswith(sender) and e.get("type") == type_

    for e in kept:
        if match(e):
            kept.remove(e)
            return e

    def wanted(e):
        if match(e):
            return True
        if e.tag == PRESENCE:
            kept.append(e)
        return False

    return stream.wait_for(wanted)


def no_presence_from(stream, sender, wait=0.4):
    got = [e.elem for e in stream.poll_events(wait)
           if e.kind == "element" and e.elem.tag == PRESENCE and (e.elem.get("from") or "").startswith(sender)]
    assert not got, [ET.tostring(g) for g in got]


def roster_item(stream, jid):
    return items(roster_iq(stream, "get")).get(jid)


@pytest.fixture
def pair(make_server):
    server = make_server()
    for name in ("alice", "bob", "eve"):
        server.add_user(name)
    server.start()
    return server


@pytest.fixture
def strict_pair(make_server):
    """As pair, with the roster module refusing iqs to a full JID from someone sharing no
    presence (RFC 6121 §8.5.3.1's SHOULD NOT; off by default)."""
    server = make_server(extra="[modules.roster]\niq_needs_shared_presence = true\n")
    for name in ("alice", "bob", "eve"):
        server.add_user(name)
    server.start()
    return server


def subscribe_both_ways(server, alice, bob):
    alice.send("<presence type='subscribe' to='bob@localhost'/>")
    presence_from(bob, "alice@localhost", "subscribe")
    bob.send("<presence type='subscribed' to='alice@localhost'/>")
    bob.send("<presence type='subscribe' to='alice@localhost'/>")
    presence_from(alice, "bob@localhost", "subscribe")
    alice.send("<presence type='subscribed' to='bob@localhost'/>")


def test_subscription_request_and_approval_update_both_rosters_and_start_presence(pair):
    alice, _ = online(pair, "alice")
    bob, _ = online(pair, "bob")
    alice.send("<presence type='subscribe' to='bob@localhost'/>")
    request = presence_from(bob, "alice@localhost", "subscribe")
    assert request.get("from") == "alice@localhost"  # §3.1.2: from the bare JID
    item = roster_item(alice, "bob@localhost")
    assert item.get("subscription") == "none" and item.get("ask") == "subscribe"
    assert roster_item(bob, "alice@localhost") is None  # a request is not a roster item

    bob.send("<presence type='subscribed' to='alice@localhost'/>")
    presence_from(alice, "bob@localhost", "subscribed")
    presence_from(alice, "bob@localhost/r")  # bob's current presence follows the approval
    assert roster_item(alice, "bob@localhost").get("subscription") == "to"
    assert roster_item(alice, "bob@localhost").get("ask") is None
    assert roster_item(bob, "alice@localhost").get("subscription") == "from"

    bob.send("<presence><show>away</show></presence>")
    update = presence_from(alice, "bob@localhost/r")
    assert update.findtext(q(NS_CLIENT, "show")) == "away"


def test_no_presence_reaches_anyone_without_a_subscription(pair):
    alice, _ = online(pair, "alice")
    eve, _ = online(pair, "eve")
    alice.send("<presence><status>secret plans</status></presence>")
    assert is_result(alice.ping("sync"))
    no_presence_from(eve, "alice@localhost")
    # A probe from a stranger is answered with nothing at all.
    eve.send("<presence type='probe' to='alice@localhost'/>")
    no_presence_from(eve, "alice@localhost")


def test_initial_presence_probes_contacts_and_logout_broadcasts_unavailable(pair):
    alice, _ = online(pair, "alice")
    bob, _ = online(pair, "bob")
    subscribe_both_ways(pair, alice, bob)
    presence_from(bob, "alice@localhost/r")
    # A second resource of alice learns bob's presence from the probe at its login.
    alice2, _ = online(pair, "alice", resource="second")
    presence_from(alice2, "bob@localhost/r")
    presence_from(alice2, "alice@localhost/r")  # and alice's other resource
    # bob disconnects without a word: alice gets unavailable.
    bob.close()
    presence_from(alice, "bob@localhost/r", "unavailable")


def test_pending_request_is_delivered_again_at_each_login_until_answered(pair):
    alice, _ = online(pair, "alice")
    alice.send("<presence type='subscribe' to='bob@localhost'/>")
    assert is_result(alice.ping("sync"))
    for resource in ("first", "again"):
        bob, _ = online(pair, "bob", resource=resource)
        presence_from(bob, "alice@localhost", "subscribe")
        bob.close()
    bob, _ = online(pair, "bob", resource="answer")
    presence_from(bob, "alice@localhost", "subscribe")
    bob.send("<presence type='unsubscribed' to='alice@localhost'/>")
    presence_from(alice, "bob@localhost", "unsubscribed")
    assert roster_item(alice, "bob@localhost").get("ask") is None
    bob.close()
    bob, _ = online(pair, "bob", resource="after")
    no_presence_from(bob, "alice@localhost")


def test_pre_approval_grants_a_later_request_without_asking(pair):
    alice, _ = online(pair, "alice")
    bob, _ = online(pair, "bob")
    bob.send("<presence type='subscribed' to='alice@localhost'/>")  # §3.4 pre-approval
    assert is_result(bob.ping("sync"))
    no_presence_from(alice, "bob@localhost")  # M.N.: not routed
    alice.send("<presence type='subscribe' to='bob@localhost'/>")
    presence_from(alice, "bob@localhost", "subscribed")
    assert roster_item(alice, "bob@localhost").get("subscription") == "to"
    assert roster_item(bob, "alice@localhost").get("subscription") == "from"


def test_unsubscribe_ends_the_flow_of_presence(pair):
    alice, _ = online(pair, "alice")
    bob, _ = online(pair, "bob")
    subscribe_both_ways(pair, alice, bob)
    presence_from(alice, "bob@localhost/r")
    alice.send("<presence type='unsubscribe' to='bob@localhost'/>")
    presence_from(bob, "alice@localhost", "unsubscribe")
    assert roster_item(alice, "bob@localhost").get("subscription") == "from"
    assert roster_item(bob, "alice@localhost").get("subscription") == "to"
    bob.send("<presence><status>now</status></presence>")
    assert is_result(bob.ping("sync"))
    no_presence_from(alice, "bob@localhost/r")


def test_directed_presence_is_followed_by_unavailable_when_the_session_ends(pair):
    alice, alice_jid = online(pair, "alice")
    eve, _ = online(pair, "eve")  # no subscription either way
    alice.send("<presence to='eve@localhost'><status>just for you</status></presence>")
    got = presence_from(eve, alice_jid)
    assert got.findtext(q(NS_CLIENT, "status")) == "just for you"
    alice.close()
    presence_from(eve, alice_jid, "unavailable")


def test_broadcast_unavailable_also_reaches_directed_presence_recipients(pair):
    alice, alice_jid = online(pair, "alice")
    eve, _ = online(pair, "eve")
    alice.send("<presence to='eve@localhost'/>")
    presence_from(eve, alice_jid)
    alice.send("<presence type='unavailable'/>")
    presence_from(eve, alice_jid, "unavailable")


def test_removing_a_contact_ends_both_subscriptions_and_tells_the_contact(pair):
    alice, alice_jid = online(pair, "alice")
    bob, _ = online(pair, "bob")
    subscribe_both_ways(pair, alice, bob)
    presence_from(bob, alice_jid)
    roster_iq(alice, "set", "<item jid='bob@localhost' subscription='remove'/>")
    presence_from(bob, "alice@localhost", "unsubscribe")
    presence_from(bob, "alice@localhost", "unsubscribed")
    presence_from(bob, alice_jid, "unavailable")
    assert roster_item(bob, "alice@localhost").get("subscription") == "none"


def test_requests_from_strangers_are_bounded(make_server):
    server = make_server(extra="[modules.roster]\nmax_items = 2\n")
    names = ("target", "s1", "s2", "s3")
    for name in names:
        server.add_user(name)
    server.start()
    for name in names[1:]:
        s, _ = online(server, name)
        s.send("<presence type='subscribe' to='target@localhost'/>")
        assert is_result(s.ping("sync"))
        s.close()
    target, _ = online(server, "target")
    first_two = sorted(presence_from(target, "s", "subscribe").get("from") for _ in range(2))
    assert first_two == ["s1@localhost", "s2@localhost"]
    extra = [e.elem for e in target.poll_events(0.5)
             if e.kind == "element" and e.elem.tag == PRESENCE and e.elem.get("type") == "subscribe"]
    extra += [e for e in _seen.pop(id(target), []) if e.get("type") == "subscribe"]
    assert not extra, [ET.tostring(e) for e in extra]


def test_a_removal_is_not_lost_to_versioning_when_the_contact_asks_again(pair):
    alice, _ = online(pair, "alice")
    roster_iq(alice, "set", "<item jid='bob@localhost'/>")
    version = roster_iq(alice, "get", ver="").find(q(NS_ROSTER, "query")).get("ver")
    roster_iq(alice, "set", "<item jid='bob@localhost' subscription='remove'/>")
    bob, _ = online(pair, "bob")
    bob.send("<presence type='subscribe' to='alice@localhost'/>")  # now a stranger's request
    presence_from(alice, "bob@localhost", "subscribe")
    later, _ = login(pair.port, "alice", PASSWORD, resource="later")
    reply = roster_iq(later, "get", ver=version)
    assert reply.find(q(NS_ROSTER, "query")) is None  # incremental: pushes follow
    push = later.wait_for(lambda e: e.tag == q(NS_CLIENT, "iq") and e.get("type") == "set")
    item = push.find(f"{q(NS_ROSTER, 'query')}/{q(NS_ROSTER, 'item')}")
    assert (item.get("jid"), item.get("subscription")) == ("bob@localhost", "remove")


def test_iq_to_a_full_jid_reaches_a_contact_subscribed_to_the_users_presence(strict_pair):
    """RFC 6121 §8.5.3.1: a 'from' (or 'both') subscription is presence shared, so the
    contact's request reaches the resource; where configured, a stranger's does not."""
    pair = strict_pair
    alice, alice_jid = online(pair, "alice")
    bob, bob_jid = online(pair, "bob")
    eve, _ = online(pair, "eve")
    subscribe_both_ways(pair, alice, bob)
    presence_from(bob, alice_jid)
    bob.send(f"<iq type='get' id='q1' to='{alice_jid}'><query xmlns='urn:starling:test'/></iq>")
    got = alice.wait_for(lambda e: e.tag == q(NS_CLIENT, "iq") and e.get("id") == "q1")
    assert got.get("from") == bob_jid
    eve.send(f"<iq type='get' id='q2' to='{alice_jid}'><query xmlns='urn:starling:test'/></iq>")
    reply = eve.wait_for(lambda e: e.get("id") == "q2")
    assert reply.get("type") == "error" and reply.find(f".//{{{NS_STANZAS}}}service-unavailable") is not None


def test_revoking_a_subscription_is_seen_by_the_next_probe_and_iq(strict_pair):
    """The server keeps an online user's subscriber list to answer probes and §8.5.3.1
    checks without a store read: a revocation must reach that list at once."""
    pair = strict_pair
    alice, alice_jid = online(pair, "alice")
    bob, _ = online(pair, "bob")
    subscribe_both_ways(pair, alice, bob)
    presence_from(bob, alice_jid)
    # A presence change: the server reads alice's subscribers and keeps them.
    alice.send("<presence><status>here</status></presence>")
    presence_from(bob, alice_jid)
    bob2, bob2_jid = online(pair, "bob", resource="second")
    assert presence_from(bob2, alice_jid).findtext(q(NS_CLIENT, "status")) == "here"
    bob2.send(f"<iq type='get' id='ok1' to='{alice_jid}'><query xmlns='urn:starling:test'/></iq>")
    assert alice.wait_for(lambda e: e.tag == q(NS_CLIENT, "iq") and e.get("id") == "ok1").get("from") == bob2_jid

    alice.send("<presence type='unsubscribed' to='bob@localhost'/>")
    presence_from(bob, "alice@localhost", "unsubscribed")
    bob3, _ = online(pair, "bob", resource="third")
    no_presence_from(bob3, alice_jid, wait=0.6)
    bob3.send(f"<iq type='get' id='no1' to='{alice_jid}'><query xmlns='urn:starling:test'/></iq>")
    reply = bob3.wait_for(lambda e: e.get("id") == "no1")
    assert reply.get("type") == "error" and reply.find(f".//{{{NS_STANZAS}}}service-unavailable") is not None
    # And alice's next change no longer reaches bob.
    alice.send("<presence><status>gone for bob</status></presence>")
    assert is_result(alice.ping("sync"))
    no_presence_from(bob3, alice_jid, wait=0.6)
