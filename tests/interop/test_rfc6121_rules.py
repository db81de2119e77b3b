"""RFC 6121 §2-§4: the server's MUSTs that no other interop test covers, one test per rule
(test_roster.py and test_presence.py hold the rest). Each test runs against a server of its
own at its defaults, with fresh accounts alice, bob and carol, over raw streams."""
import xml.etree.ElementTree as ET

import pytest

from conftest import PASSWORD
from raw_stream import NS_CLIENT, NS_STANZAS, is_result, login, q
from test_roster import NS_ROSTER, roster_iq

PRESENCE = q(NS_CLIENT, "presence")
IQ = q(NS_CLIENT, "iq")
NS_NICK = "http://jabber.org/protocol/nick"
NS_PARS = "urn:xmpp:pars:0"
NS_CAPS = "http://jabber.org/protocol/caps"


@pytest.fixture
def srv(make_server):
    """A server of this test's own, at its defaults, with fresh accounts alice, bob, carol."""
    server = make_server(defaults=True)
    for name in ("alice", "bob", "carol"):
        server.add_user(name)
    return server.start()


# -- helpers --------------------------------------------------------------------------------

def connect(server, user, resource="r", *, roster=True, available=True):
    """A session of `user`: interested (asked for the roster) and available (sent initial
    presence, whose echo is awaited) unless told otherwise."""
    s, jid = login(server.port, user, PASSWORD, resource=resource)
    if roster:
        assert is_result(roster_iq(s, "get"))
    if available:
        s.send("<presence/>")
        s.wait_for(lambda e: e.tag == PRESENCE and e.get("from") == jid and e.get("type") is None)
    return s, jid


def pres(from_=None, type_=None, prefix=None):
    """A predicate: a presence stanza from exactly `from_` (or from a JID starting with
    `prefix`) of this type (None: available)."""
    def match(e):
        if e.tag != PRESENCE or e.get("type") != type_:
            return False
        sender = e.get("from") or ""
        if from_ is not None and sender != from_:
            return False
        return prefix is None or sender.startswith(prefix)
    return match


def is_push(e):
    return e.tag == IQ and e.get("type") == "set" and e.find(q(NS_ROSTER, "query")) is not None


def push_item(push):
    found = push.findall(f"{q(NS_ROSTER, 'query')}/{q(NS_ROSTER, 'item')}")
    assert len(found) == 1, ET.tostring(push)
    return found[0]


def push_for(jid):
    return lambda e: is_push(e) and push_item(e).get("jid") == jid


def expect(stream, predicate, what, timeout=3):
    """The first element that matches, skipping others; a test failure naming `what` (and
    the last elements received) if none comes within the timeout."""
    try:
        return stream.wait_for(predicate, timeout)
    except TimeoutError:
        recent = [ev.raw.decode(errors="replace")[:300] for ev in stream.received[-6:]]
        raise AssertionError(f"no {what} within {timeout} s; last received: {recent}") from None


def until(stream, predicate, timeout=None):
    """Every element up to and including the first that matches, in the order received."""
    got = []
    while True:
        e = stream.element(timeout)
        got.append(e)
        if predicate(e):
            return got


def quiet(stream, wait=0.5):
    """The elements that arrive within `wait` seconds (after a ping round trip)."""
    assert is_result(stream.ping("quiet"))
    return [e.elem for e in stream.poll_events(wait) if e.kind == "element"]


def settle(*streams):
    """Waits until nothing more is on its way to these streams and forgets what came."""
    for s in streams:
        quiet(s, 0.3)


def grant(subscriber, subscriber_name, contact, contact_name):
    """subscriber asks for contact's presence and contact approves: 'to' on the subscriber's
    side, 'from' on the contact's. Both must be available."""
    subscriber.send(f"<presence type='subscribe' to='{contact_name}@localhost'/>")
    contact.wait_for(pres(f"{subscriber_name}@localhost", "subscribe"))
    contact.send(f"<presence type='subscribed' to='{subscriber_name}@localhost'/>")
    subscriber.wait_for(pres(f"{contact_name}@localhost", "subscribed"))


def item_of(stream, jid):
    reply = roster_iq(stream, "get")
    query = reply.find(q(NS_ROSTER, "query"))
    assert query is not None, ET.tostring(reply)
    found = [i for i in query.findall(q(NS_ROSTER, "item")) if i.get("jid") == jid]
    return found[0] if found else None


def show(elems):
    return [ET.tostring(e).decode() for e in elems]


# -- the three known breakages ----------------------------------------------------------------

def test_unavailable_presence_is_echoed_to_the_sender_and_the_users_other_resources(srv):
    """§4.5.2: the unavailable notification goes to all of the user's available resources
    'as well as to the resource that generated the unavailable presence'."""
    one, one_jid = connect(srv, "alice", "one")
    two, _ = connect(srv, "alice", "two")
    settle(one, two)
    one.send("<presence type='unavailable' id='bye1'><status>off to bed</status></presence>")
    for s, which in ((two, "the other resource"), (one, "the sender")):
        got = expect(s, pres(one_jid, "unavailable"), f"unavailable echoed to {which}")
        assert got.findtext(q(NS_CLIENT, "status")) == "off to bed", ET.tostring(got)


def test_roster_results_and_pushes_carry_ver_even_when_the_get_had_none(srv):
    """§2.6.3 (versioning is advertised): the updated version with each roster push, and
    'ver' on all results and pushes even when the client's get had no 'ver'."""
    s, _ = connect(srv, "alice", available=False, roster=False)
    plain = roster_iq(s, "get")
    assert is_result(plain)
    assert plain.find(q(NS_ROSTER, "query")).get("ver") is not None, ET.tostring(plain)
    versions = []
    for inner in ("<item jid='nurse@example.com'/>", "<item jid='nurse@example.com' name='N'/>",
                  "<item jid='nurse@example.com' subscription='remove'/>"):
        assert is_result(roster_iq(s, "set", inner))
        push = s.wait_for(is_push)
        versions.append(push.find(q(NS_ROSTER, "query")).get("ver"))
    assert None not in versions, versions
    again = roster_iq(s, "get")
    assert again.find(q(NS_ROSTER, "query")).get("ver") is not None, ET.tostring(again)


SUBSCRIBE_WITH_EXTENSIONS = (
    "<presence type='subscribe' to='bob@localhost' id='sub1'>"
    f"<nick xmlns='{NS_NICK}'>Ally</nick>"
    f"<preauth xmlns='{NS_PARS}' token='tok-123456'/>"
    "</presence>")


def assert_extensions_intact(request):
    assert request.get("from") == "alice@localhost", ET.tostring(request)
    assert request.findtext(q(NS_NICK, "nick")) == "Ally", ET.tostring(request)
    preauth = request.find(q(NS_PARS, "preauth"))
    assert preauth is not None and preauth.get("token") == "tok-123456", ET.tostring(request)


def test_subscription_request_reaches_an_online_contact_with_its_extensions(srv):
    """§3.1.3 #3 with XEP-0172 nick and XEP-0379 pre-auth token: the request is delivered
    as sent, extended content included (RFC 6120 §8.4)."""
    alice, _ = connect(srv, "alice")
    bob, _ = connect(srv, "bob")
    alice.send(SUBSCRIBE_WITH_EXTENSIONS)
    assert_extensions_intact(expect(bob, pres("alice@localhost", "subscribe"), "subscription request"))


@pytest.mark.parametrize("contact_online", [False, True], ids=["offline", "online-unanswered"])
def test_subscription_request_redelivered_at_login_keeps_its_extensions(srv, contact_online):
    """§3.1.3 #4: the server keeps 'the complete presence stanza comprising the subscription
    request, including any extended content' and delivers it at the contact's next login,
    and at each one after while it is unanswered: whether the contact was offline when it
    came, or online and did not answer."""
    if contact_online:
        bob, _ = connect(srv, "bob", "early")
    alice, _ = connect(srv, "alice")
    alice.send(SUBSCRIBE_WITH_EXTENSIONS)
    assert is_result(alice.ping("sync"))
    if contact_online:
        assert_extensions_intact(expect(bob, pres("alice@localhost", "subscribe"), "live request"))
        bob.close()
    for resource in ("first", "second"):
        bob, _ = connect(srv, "bob", resource)
        assert_extensions_intact(expect(bob, pres("alice@localhost", "subscribe"), f"request at login {resource}"))
        bob.close()


# -- §2 the roster ----------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["both", "to", "from", "none", "bogus"])
def test_roster_set_ignores_a_subscription_value_other_than_remove(srv, value):
    """§2.1.2.5, §2.1.5 #2: in a roster set the server MUST ignore every 'subscription'
    value but "remove"."""
    s, _ = connect(srv, "alice", available=False)
    assert is_result(roster_iq(s, "set", f"<item jid='nurse@example.com' subscription='{value}'/>"))
    assert push_item(s.wait_for(is_push)).get("subscription") == "none"
    assert item_of(s, "nurse@example.com").get("subscription") == "none"


def test_roster_update_replaces_the_item_exactly_as_sent(srv):
    """§2.4.1, §2.4.2: an item is atomic: updated exactly as provided (a name or group left
    out is gone), pushed to every interested resource, and the sender gets a result."""
    one, _ = connect(srv, "alice", "one", available=False)
    two, _ = connect(srv, "alice", "two", available=False)
    assert is_result(roster_iq(one, "set", "<item jid='romeo@example.net' name='Romeo'>"
                                            "<group>Friends</group><group>Lovers</group></item>"))
    settle(one, two)
    assert is_result(roster_iq(one, "set", "<item jid='romeo@example.net'><group>Lovers</group></item>"))
    for s in (one, two):
        item = push_item(s.wait_for(is_push))
        assert item.get("name") in (None, ""), ET.tostring(item)
        assert [g.text for g in item.findall(q(NS_ROSTER, "group"))] == ["Lovers"]
    stored = item_of(two, "romeo@example.net")
    assert stored.get("name") in (None, "") and [g.text for g in stored.findall(q(NS_ROSTER, "group"))] == ["Lovers"]


def test_removing_a_one_way_contact_sends_the_matching_cancellation(srv):
    """§2.5.2 #1 and #2: removing a contact the user is subscribed to sends "unsubscribe";
    removing one subscribed to the user sends "unsubscribed"."""
    alice, _ = connect(srv, "alice")
    bob, _ = connect(srv, "bob")
    carol, _ = connect(srv, "carol")
    grant(alice, "alice", bob, "bob")  # alice 'to' bob
    grant(carol, "carol", alice, "alice")  # alice 'from' carol
    settle(alice, bob, carol)
    assert is_result(roster_iq(alice, "set", "<item jid='bob@localhost' subscription='remove'/>"))
    bob.wait_for(pres("alice@localhost", "unsubscribe"))
    assert item_of(bob, "alice@localhost").get("subscription") == "none"
    assert is_result(roster_iq(alice, "set", "<item jid='carol@localhost' subscription='remove'/>"))
    carol.wait_for(pres("alice@localhost", "unsubscribed"))
    assert item_of(carol, "alice@localhost").get("subscription") == "none"


def test_roster_pushes_come_in_order_of_modification_with_unique_versions(srv):
    """§2.6.3: 'Roster pushes MUST occur in order of modification and the version contained
    in a roster push MUST be unique', live and in the interim pushes of a later login."""
    s, _ = connect(srv, "alice", available=False)
    start = roster_iq(s, "get", ver="").find(q(NS_ROSTER, "query")).get("ver")
    changes = [("a@example.com", ""), ("b@example.com", ""), ("a@example.com", " name='A'"),
               ("c@example.com", ""), ("b@example.com", " subscription='remove'")]
    s.send("".join(f"<iq type='set' id='o{i}'><query xmlns='{NS_ROSTER}'><item jid='{jid}'{extra}/></query></iq>"
                   for i, (jid, extra) in enumerate(changes)))
    pushes = [s.wait_for(is_push) for _ in changes]
    assert [push_item(p).get("jid") for p in pushes] == [jid for jid, _ in changes]
    versions = [p.find(q(NS_ROSTER, "query")).get("ver") for p in pushes]
    assert None not in versions and len(set(versions)) == len(versions), versions
    later, _ = connect(srv, "alice", "later", roster=False, available=False)
    reply = roster_iq(later, "get", ver=start)
    assert is_result(reply)
    if reply.find(q(NS_ROSTER, "query")) is not None:  # §2.6.3 allows the whole roster instead
        return
    interim = [later.wait_for(is_push) for _ in range(3)]
    assert [(push_item(p).get("jid"), push_item(p).get("subscription")) for p in interim] == [
        ("a@example.com", "none"), ("c@example.com", "none"), ("b@example.com", "remove")]
    interim_versions = [p.find(q(NS_ROSTER, "query")).get("ver") for p in interim]
    assert len(set(interim_versions)) == 3, interim_versions


# -- §3 subscriptions -------------------------------------------------------------------------

def test_subscription_stanzas_are_stamped_with_the_senders_bare_jid(srv):
    """§3 (implementation note), §3.1.2, §3.1.5, §3.2.2, §3.3.2: outbound subscribe,
    subscribed, unsubscribe and unsubscribed leave from the bare JID, never the full one."""
    alice, _ = connect(srv, "alice", "balcony")
    bob, _ = connect(srv, "bob", "chamber")
    alice.send("<presence type='subscribe' to='bob@localhost'/>")
    assert bob.wait_for(pres(prefix="alice@localhost", type_="subscribe")).get("from") == "alice@localhost"
    bob.send("<presence type='subscribed' to='alice@localhost'/>")
    assert alice.wait_for(pres(prefix="bob@localhost", type_="subscribed")).get("from") == "bob@localhost"
    alice.send("<presence type='unsubscribe' to='bob@localhost'/>")
    assert bob.wait_for(pres(prefix="alice@localhost", type_="unsubscribe")).get("from") == "alice@localhost"
    settle(alice, bob)  # bob's auto-reply "unsubscribed" (A.3.2) must not meet the next request
    grant(alice, "alice", bob, "bob")
    bob.send("<presence type='unsubscribed' to='alice@localhost'/>")
    assert alice.wait_for(pres(prefix="bob@localhost", type_="unsubscribed")).get("from") == "bob@localhost"


def test_roster_set_and_subscription_request_work_in_either_order(srv):
    """§3.1.1: 'A server MUST process a roster set and outbound presence subscription
    request in either order'."""
    alice, _ = connect(srv, "alice")
    assert is_result(roster_iq(alice, "set", "<item jid='bob@localhost' name='Bobby'><group>G</group></item>"))
    alice.send("<presence type='subscribe' to='bob@localhost'/>")
    alice.send("<presence type='subscribe' to='carol@localhost'/>")
    assert is_result(alice.ping("sync"))
    assert is_result(roster_iq(alice, "set", "<item jid='carol@localhost' name='Caz'/>"))
    bob_item, carol_item = item_of(alice, "bob@localhost"), item_of(alice, "carol@localhost")
    assert (bob_item.get("name"), bob_item.get("ask")) == ("Bobby", "subscribe"), ET.tostring(bob_item)
    assert [g.text for g in bob_item.findall(q(NS_ROSTER, "group"))] == ["G"]
    assert (carol_item.get("name"), carol_item.get("ask")) == ("Caz", "subscribe"), ET.tostring(carol_item)


def test_every_outbound_subscription_change_is_pushed_to_every_interested_resource(srv):
    """§3.1.2 (ask='subscribe', none), §3.1.5 (from), §3.2.2 #3 (none), §3.3.2 (none):
    the sender's server pushes the new state to all of the sender's interested resources."""
    a1, _ = connect(srv, "alice", "one")
    a2, _ = connect(srv, "alice", "two", available=False)
    b1, _ = connect(srv, "bob", "one")
    b2, _ = connect(srv, "bob", "two", available=False)
    settle(a1, a2, b1, b2)

    def pushed(streams, jid, subscription, ask=None):
        for s in streams:
            item = push_item(s.wait_for(push_for(jid)))
            assert (item.get("subscription"), item.get("ask")) == (subscription, ask), ET.tostring(item)

    a1.send("<presence type='subscribe' to='bob@localhost'/>")
    pushed((a1, a2), "bob@localhost", "none", "subscribe")  # §3.1.2
    b1.wait_for(pres("alice@localhost", "subscribe"))
    b1.send("<presence type='subscribed' to='alice@localhost'/>")
    pushed((b1, b2), "alice@localhost", "from")  # §3.1.5
    a1.wait_for(pres("bob@localhost", "subscribed"))
    settle(a1, a2, b1, b2)
    a1.send("<presence type='unsubscribe' to='bob@localhost'/>")
    pushed((a1, a2), "bob@localhost", "none")  # §3.3.2
    b1.wait_for(pres("alice@localhost", "unsubscribe"))
    settle(a1, a2, b1, b2)  # bob's auto-reply "unsubscribed" (A.3.2) must not meet the next request
    grant(a1, "alice", b1, "bob")
    settle(a1, a2, b1, b2)
    b1.send("<presence type='unsubscribed' to='alice@localhost'/>")
    pushed((b1, b2), "alice@localhost", "none")  # §3.2.2 #3


def test_subscription_request_to_an_unreachable_domain_gets_an_error(srv):
    """§3.1.2: a request that cannot be locally delivered or remotely routed ('the remote
    server does not exist', or any other error) MUST get an error stanza back to the user.
    The server has no federation, so no remote domain can be reached."""
    alice, _ = connect(srv, "alice")
    alice.send("<presence type='subscribe' to='romeo@example.net' id='far1'/>")
    reply = expect(alice, lambda e: e.tag == PRESENCE and e.get("type") == "error", "presence error")
    assert reply.get("from") == "romeo@example.net" and reply.get("id") == "far1", ET.tostring(reply)
    assert reply.find(f"{q(NS_CLIENT, 'error')}/{{{NS_STANZAS}}}remote-server-not-found") is not None, \
        ET.tostring(reply)


def test_request_from_an_already_subscribed_user_is_answered_subscribed_by_the_server(srv):
    """§3.1.3 #2: if the user already has a subscription to the contact, the contact's
    server MUST auto-reply "subscribed" from the contact's bare JID instead of asking the
    contact. The user's server delivers that reply only if the user's roster shows the
    request pending (§3.1.6), so the user's roster is lost here (the account deleted and
    made again while the server is stopped) and the contact's still shows 'from'."""
    alice, _ = connect(srv, "alice")
    bob, _ = connect(srv, "bob")
    grant(alice, "alice", bob, "bob")
    alice.close()
    bob.close()
    srv.stop()
    assert srv.cli("user", "del", "alice").returncode == 0
    srv.add_user("alice")
    srv.start()
    alice, _ = connect(srv, "alice")
    bob, _ = connect(srv, "bob")
    assert item_of(bob, "alice@localhost").get("subscription") == "from"
    settle(alice, bob)
    alice.send("<presence type='subscribe' to='bob@localhost'/>")
    got = expect(alice, pres(prefix="bob@localhost", type_="subscribed"), "auto-reply 'subscribed'")
    assert got.get("from") == "bob@localhost"
    assert not [e for e in quiet(bob) if pres("alice@localhost", "subscribe")(e)]
    assert item_of(alice, "bob@localhost").get("subscription") == "to"


def test_subscription_request_reaches_every_available_resource_of_the_contact(srv):
    """§3.1.3 #3: the request goes to all of the contact's available resources."""
    alice, _ = connect(srv, "alice")
    b1, _ = connect(srv, "bob", "one")
    b2, _ = connect(srv, "bob", "two")
    settle(b1, b2)
    alice.send("<presence type='subscribe' to='bob@localhost'/>")
    for s in (b1, b2):
        s.wait_for(pres("alice@localhost", "subscribe"), timeout=3)


def test_only_one_of_several_requests_sent_while_offline_is_delivered(srv):
    """§3.1.3 #4: the server MUST NOT deliver more than one subscription request from a
    given user when the contact next has an available resource."""
    alice, _ = connect(srv, "alice")
    for i in range(3):
        alice.send(f"<presence type='subscribe' to='bob@localhost' id='again{i}'/>")
    assert is_result(alice.ping("sync"))
    bob, _ = connect(srv, "bob")
    bob.wait_for(pres("alice@localhost", "subscribe"))
    extra = [e for e in quiet(bob, 0.8) if pres("alice@localhost", "subscribe")(e)]
    assert not extra, show(extra)
    assert item_of(bob, "alice@localhost") is None  # §3.1.3: no roster item until approved


def make_inbound_change(kind, alice, bob):
    """Brings alice and bob (both available) to where `kind` from bob to alice is the
    interesting inbound case, and returns (stanza bob sends, subscription alice's push shows)."""
    if kind == "subscribed":  # §3.1.6
        alice.send("<presence type='subscribe' to='bob@localhost'/>")
        bob.wait_for(pres("alice@localhost", "subscribe"))
        return "<presence type='subscribed' to='alice@localhost'/>", "to"
    if kind == "unsubscribed":  # §3.2.3
        grant(alice, "alice", bob, "bob")
        return "<presence type='unsubscribed' to='alice@localhost'/>", "none"
    grant(bob, "bob", alice, "alice")  # §3.3.3: alice 'from' bob
    return "<presence type='unsubscribe' to='alice@localhost'/>", "none"


@pytest.mark.parametrize("kind", ["subscribed", "unsubscribed", "unsubscribe"])
def test_inbound_subscription_change_is_delivered_before_its_roster_push(srv, kind):
    """§3.1.6 #1-2, §3.2.3 #1-2, §3.3.3 #1-2: the inbound stanza goes to the user's
    resources, and this 'MUST occur before sending the roster push'; the push shows the
    new state."""
    alice, _ = connect(srv, "alice")
    bob, _ = connect(srv, "bob")
    stanza, state = make_inbound_change(kind, alice, bob)
    settle(alice, bob)
    bob.send(stanza)
    got = until(alice, push_for("bob@localhost"))
    seen = [e for e in got if pres("bob@localhost", kind)(e)]
    assert seen, f"the push came before the {kind} presence: {show(got)}"
    assert push_item(got[-1]).get("subscription") == state, show(got)


@pytest.mark.parametrize("kind", ["subscribed", "unsubscribed", "unsubscribe"])
def test_inbound_subscription_change_reaches_an_interested_resource_that_is_not_available(srv, kind):
    """§3.1.6 #1, §3.2.3 #1, §3.3.3 #1 name the user's *interested* resources (those that
    asked for the roster and so get the push), available or not: the stanza gives the push
    its context."""
    alice, _ = connect(srv, "alice")
    quiet_one, _ = connect(srv, "alice", "quiet", available=False)
    bob, _ = connect(srv, "bob")
    stanza, _ = make_inbound_change(kind, alice, bob)
    settle(alice, quiet_one, bob)
    bob.send(stanza)
    got = until(quiet_one, push_for("bob@localhost"), timeout=3)
    assert [e for e in got if pres("bob@localhost", kind)(e)], \
        f"no {kind} presence before the push on the interested resource: {show(got)}"


def test_inbound_approval_brings_the_contacts_presence_to_every_available_resource(srv):
    """§3.1.6 #3: after the approval, the available presence of each of the contact's
    available resources goes to each of the user's available resources."""
    a1, _ = connect(srv, "alice", "one")
    a2, _ = connect(srv, "alice", "two")
    b1, b1_jid = connect(srv, "bob", "one")
    b2, b2_jid = connect(srv, "bob", "two")
    b2.send("<presence><status>second</status></presence>")
    settle(a1, a2, b1, b2)
    a1.send("<presence type='subscribe' to='bob@localhost'/>")
    b1.wait_for(pres("alice@localhost", "subscribe"))
    b1.send("<presence type='subscribed' to='alice@localhost'/>")
    for s in (a1, a2):
        s.wait_for(pres(b1_jid))
        assert s.wait_for(pres(b2_jid)).findtext(q(NS_CLIENT, "status")) == "second"


@pytest.mark.parametrize("kind", ["subscribed", "unsubscribed", "unsubscribe"])
def test_unsolicited_subscription_answer_is_silently_ignored(srv, kind):
    """§3.1.6, §3.2.3, §3.3.3 'Otherwise': with no matching state (here: the sender is in
    the user's roster with subscription none, or not at all), the stanza is not delivered,
    the roster is not changed and nothing is pushed."""
    alice, _ = connect(srv, "alice")
    bob, _ = connect(srv, "bob")
    carol, _ = connect(srv, "carol")
    assert is_result(roster_iq(alice, "set", "<item jid='bob@localhost' name='Bob'/>"))
    settle(alice, bob, carol)
    bob.send(f"<presence type='{kind}' to='alice@localhost'/>")
    carol.send(f"<presence type='{kind}' to='alice@localhost'/>")
    assert is_result(bob.ping("s1")) and is_result(carol.ping("s2"))
    got = [e for e in quiet(alice, 0.8) if e.tag == IQ or (e.get("from") or "").split("/")[0] in
           ("bob@localhost", "carol@localhost")]
    assert not got, show(got)
    item = item_of(alice, "bob@localhost")
    assert (item.get("subscription"), item.get("ask"), item.get("name")) == ("none", None, "Bob")
    assert item_of(alice, "carol@localhost") is None


def test_inbound_unsubscribe_sends_the_user_unavailable_from_each_resource(srv):
    """§3.3.3 #3: on an unsubscribe from a subscriber, the contact's server generates
    unavailable presence from each of the contact's available resources to the user."""
    a1, a1_jid = connect(srv, "alice", "one")
    a2, a2_jid = connect(srv, "alice", "two")
    bob, _ = connect(srv, "bob")
    grant(bob, "bob", a1, "alice")  # bob subscribed to alice
    settle(a1, a2, bob)
    bob.send("<presence type='unsubscribe' to='alice@localhost'/>")
    for jid in (a1_jid, a2_jid):
        expect(bob, pres(jid, "unavailable"), f"unavailable from {jid}")


def test_presence_after_unavailable_starts_a_new_presence_session(srv):
    """§4.5.2 (implementation note): available presence sent after unavailable MUST go to
    all subscribers, as initial presence of a new session does."""
    alice, alice_jid = connect(srv, "alice")
    bob, _ = connect(srv, "bob")
    grant(bob, "bob", alice, "alice")
    settle(alice, bob)
    alice.send("<presence type='unavailable'/>")
    bob.wait_for(pres(alice_jid, "unavailable"))
    alice.send("<presence><status>back</status></presence>")
    got = expect(bob, pres(alice_jid), "the new session's presence")
    assert got.findtext(q(NS_CLIENT, "status")) == "back"


def test_withdrawn_request_is_not_delivered_at_the_next_login(srv):
    """§3.3.3, last paragraph: an unsubscribe from a user whose request the server keeps
    (the contact never added the user) removes any record of that request."""
    alice, _ = connect(srv, "alice")
    alice.send("<presence type='subscribe' to='bob@localhost'/>")
    alice.send("<presence type='unsubscribe' to='bob@localhost'/>")
    assert is_result(alice.ping("sync"))
    bob, _ = connect(srv, "bob")
    got = [e for e in quiet(bob, 0.8) if (e.get("from") or "").startswith("alice@localhost")]
    assert not got, show(got)
    assert item_of(bob, "alice@localhost") is None


def test_cancelling_a_subscription_sends_unavailable_before_unsubscribed(srv):
    """§3.2.2 #3: 'While the user is still subscribed ... (i.e., before the contact's server
    routes or delivers the presence stanza of type "unsubscribed" to the user), the
    contact's server MUST send a presence stanza of type "unavailable" from all of the
    contact's online resources to the user.'"""
    alice, _ = connect(srv, "alice")
    b1, b1_jid = connect(srv, "bob", "one")
    b2, b2_jid = connect(srv, "bob", "two")
    grant(alice, "alice", b1, "bob")
    settle(alice, b1, b2)
    b1.send("<presence type='unsubscribed' to='alice@localhost'/>")
    got = until(alice, pres("bob@localhost", "unsubscribed"))
    before = {e.get("from") for e in got if pres(type_="unavailable")(e)}
    later = set(before)
    while later != {b1_jid, b2_jid}:  # §3.2.3: delivered at all
        e = expect(alice, lambda e: pres(type_="unavailable")(e) and e.get("from") in (b1_jid, b2_jid),
                   f"unavailable from {sorted({b1_jid, b2_jid} - later)}")
        later.add(e.get("from"))
    assert before == {b1_jid, b2_jid}, f"unavailable came after unsubscribed: {show(got)}"


def test_unsubscribed_without_a_subscription_sends_no_unavailable(srv):
    """§3.2.2 #1: with the user's JID not in the contact's roster, or in state "None",
    "None + Pending Out" or "To", the contact's server MUST NOT send unavailable."""
    alice, _ = connect(srv, "alice")
    bob, bob_jid = connect(srv, "bob")
    carol, carol_jid = connect(srv, "carol")
    grant(bob, "bob", alice, "alice")  # bob 'to' alice: alice has no subscription to bob
    settle(alice, bob, carol)
    bob.send("<presence type='unsubscribed' to='alice@localhost'/>")
    carol.send("<presence type='unsubscribed' to='alice@localhost'/>")  # not in carol's roster
    assert is_result(bob.ping("s1")) and is_result(carol.ping("s2"))
    got = [e for e in quiet(alice, 0.8) if pres(type_="unavailable")(e) and e.get("from") in (bob_jid, carol_jid)]
    assert not got, show(got)
    assert item_of(bob, "alice@localhost").get("subscription") == "to"


def test_unsubscribed_cancels_a_pre_approval_without_routing_it(srv):
    """§3.2.2 #2: with a pre-approval, "unsubscribed" MUST remove it (pushed without
    'approved') and MUST NOT be routed; a later request is then asked, not approved."""
    alice, _ = connect(srv, "alice")
    bob, _ = connect(srv, "bob")
    bob.send("<presence type='subscribed' to='alice@localhost'/>")
    assert push_item(bob.wait_for(push_for("alice@localhost"))).get("approved") == "true"
    settle(alice, bob)
    bob.send("<presence type='unsubscribed' to='alice@localhost'/>")
    item = push_item(bob.wait_for(push_for("alice@localhost")))
    assert item.get("approved") in (None, "false"), ET.tostring(item)
    assert not [e for e in quiet(alice) if (e.get("from") or "").startswith("bob@localhost")]
    alice.send("<presence type='subscribe' to='bob@localhost'/>")
    bob.wait_for(pres("alice@localhost", "subscribe"), timeout=3)
    assert item_of(bob, "alice@localhost").get("subscription") == "none"


@pytest.mark.parametrize("before,after", [
    ("absent", "from"), ("none", "from"), ("pending_out", "from"), ("to", "both")])
def test_pre_approval_is_noted_pushed_and_not_routed(srv, before, after):
    """§3.4.2 #3 ("To", "None", "None + Pending Out") and #4 (not in the roster: an item
    with state "None" is made): the server sets approved="true", pushes the item to the
    interested resources and MUST NOT route the "subscribed"; a later request from the
    contact is then not delivered to the user but answered "subscribed" by the server."""
    alice, _ = connect(srv, "alice")
    bob, _ = connect(srv, "bob")
    if before == "none":
        assert is_result(roster_iq(bob, "set", "<item jid='alice@localhost'/>"))
    elif before == "pending_out":
        bob.send("<presence type='subscribe' to='alice@localhost'/>")
        alice.wait_for(pres("bob@localhost", "subscribe"))
    elif before == "to":
        grant(bob, "bob", alice, "alice")
    settle(alice, bob)
    state = item_of(bob, "alice@localhost")
    state = None if state is None else state.get("subscription")
    bob.send("<presence type='subscribed' to='alice@localhost'/>")
    item = push_item(bob.wait_for(push_for("alice@localhost")))
    assert (item.get("subscription"), item.get("approved")) == (state or "none", "true"), ET.tostring(item)
    assert item_of(bob, "alice@localhost").get("approved") == "true"
    assert not [e for e in quiet(alice) if (e.get("from") or "").startswith("bob@localhost")]
    alice.send("<presence type='subscribe' to='bob@localhost'/>")
    alice.wait_for(pres("bob@localhost", "subscribed"), timeout=3)
    assert not [e for e in quiet(bob) if pres("alice@localhost", "subscribe")(e)]
    assert item_of(bob, "alice@localhost").get("subscription") == after


def test_subscribed_to_a_contact_already_subscribed_is_silently_ignored(srv):
    """§3.4.2 #1: "subscribed" to a contact in state "Both", "From" or "From + Pending Out"
    is silently ignored: nothing routed, nothing pushed."""
    alice, _ = connect(srv, "alice")
    bob, _ = connect(srv, "bob")
    grant(bob, "bob", alice, "alice")  # alice 'from' bob
    settle(alice, bob)
    alice.send("<presence type='subscribed' to='bob@localhost'/>")
    assert not [e for e in quiet(alice) if is_push(e)]
    assert not [e for e in quiet(bob) if pres(prefix="alice@localhost", type_="subscribed")(e)]


# -- §4 presence ------------------------------------------------------------------------------

def test_probe_from_a_client_is_answered_with_the_full_presence_and_no_error(srv):
    """§4.3: a probe from a connected client MUST NOT be the sole cause of a stanza or
    stream error; §4.3.2 #4: the answer is the full XML of the last presence of each of the
    contact's available resources, from their full JIDs."""
    alice, _ = connect(srv, "alice")
    bob, bob_jid = connect(srv, "bob")
    grant(alice, "alice", bob, "bob")
    bob.send(f"<presence id='last1'><show>dnd</show><status>busy</status><priority>3</priority>"
             f"<c xmlns='{NS_CAPS}' hash='sha-1' node='http://example.org' ver='abc='/></presence>")
    alice.wait_for(lambda e: pres(bob_jid)(e) and e.findtext(q(NS_CLIENT, "status")) == "busy")
    settle(alice, bob)
    alice.send("<presence type='probe' to='bob@localhost' id='probe1'/>")
    got = until(alice, pres(bob_jid), timeout=3)
    assert not [e for e in got if e.get("type") == "error"], show(got)
    answer = got[-1]
    assert answer.findtext(q(NS_CLIENT, "show")) == "dnd" and answer.findtext(q(NS_CLIENT, "priority")) == "3"
    caps = answer.find(q(NS_CAPS, "c"))
    assert caps is not None and caps.get("ver") == "abc=", ET.tostring(answer)
    assert is_result(alice.ping("alive"))


def test_probe_does_not_cancel_a_pre_approval(srv):
    """§4.3.2 #1: the reply to a probe from someone without a subscription 'MUST NOT result
    in cancellation of a subscription pre-approval'."""
    alice, _ = connect(srv, "alice")
    bob, _ = connect(srv, "bob")
    bob.send("<presence type='subscribed' to='alice@localhost'/>")
    bob.wait_for(push_for("alice@localhost"))
    alice.send("<presence type='probe' to='bob@localhost'/>")
    assert is_result(alice.ping("sync"))
    settle(alice, bob)
    assert item_of(bob, "alice@localhost").get("approved") == "true"
    alice.send("<presence type='subscribe' to='bob@localhost'/>")
    alice.wait_for(pres("bob@localhost", "subscribed"), timeout=3)


def test_probe_to_a_full_jid_is_answered_for_that_resource_only(srv):
    """§4.3.2: for a probe to a full JID the server MUST NOT return presence of any other
    resource, and if the resource is there and the prober is subscribed MUST return an
    available presence notification (§8.5.3.1: a probe follows §4.3, it is not delivered
    to the client)."""
    alice, _ = connect(srv, "alice")
    b1, b1_jid = connect(srv, "bob", "one")
    b2, b2_jid = connect(srv, "bob", "two")
    grant(alice, "alice", b1, "bob")
    settle(alice, b1, b2)
    alice.send(f"<presence type='probe' to='{b1_jid}'/>")
    expect(alice, pres(b1_jid), "answer to the full-JID probe")
    others = [e for e in quiet(alice) if (e.get("from") or "") == b2_jid]
    assert not others, show(others)
    assert not [e for e in quiet(b1) if pres(type_="probe")(e)]


def test_presence_reaches_every_available_resource_of_a_subscriber(srv):
    """§4.2.3, §4.4.3, §4.5.3: the contact's server delivers initial, subsequent and
    unavailable presence to all of the contact's available resources."""
    alice, _ = connect(srv, "alice")
    b1, _ = connect(srv, "bob", "one")
    grant(b1, "bob", alice, "alice")  # bob subscribed to alice
    b2, _ = connect(srv, "bob", "two")
    settle(alice, b1, b2)
    newer, newer_jid = connect(srv, "alice", "newer")  # initial presence
    for s in (b1, b2):
        s.wait_for(pres(newer_jid), timeout=3)
    newer.send("<presence><status>update</status></presence>")
    for s in (b1, b2):
        assert s.wait_for(pres(newer_jid), timeout=3).findtext(q(NS_CLIENT, "status")) == "update"
    newer.send("<presence type='unavailable'/>")
    for s in (b1, b2):
        s.wait_for(pres(newer_jid, "unavailable"), timeout=3)


def test_presence_update_is_broadcast_in_full_to_subscribers_and_own_resources(srv):
    """§4.4.2: the full XML of the presence goes to the 'from'/'both' contacts and to all of
    the user's available resources, the sender included."""
    a1, a1_jid = connect(srv, "alice", "one")
    a2, _ = connect(srv, "alice", "two")
    bob, _ = connect(srv, "bob")
    grant(bob, "bob", a1, "alice")
    settle(a1, a2, bob)
    a1.send(f"<presence id='upd1'><show>away</show><status>lunch</status><priority>5</priority>"
            f"<c xmlns='{NS_CAPS}' hash='sha-1' node='http://example.org' ver='xyz='/></presence>")
    for s in (bob, a1, a2):
        got = s.wait_for(pres(a1_jid), timeout=3)
        assert got.get("id") == "upd1", ET.tostring(got)
        assert [got.findtext(q(NS_CLIENT, n)) for n in ("show", "status", "priority")] == ["away", "lunch", "5"]
        assert got.find(q(NS_CAPS, "c")) is not None, ET.tostring(got)


def test_graceful_unavailable_is_broadcast_in_full_to_subscribers(srv):
    """§4.5.2: 'If the unavailable notification was gracefully received from the client,
    then the server MUST broadcast the full XML of the presence stanza.'"""
    alice, alice_jid = connect(srv, "alice")
    bob, _ = connect(srv, "bob")
    grant(bob, "bob", alice, "alice")
    settle(alice, bob)
    alice.send("<presence type='unavailable' id='gone1'><status>gone fishing</status></presence>")
    got = bob.wait_for(pres(alice_jid, "unavailable"), timeout=3)
    assert got.findtext(q(NS_CLIENT, "status")) == "gone fishing" and got.get("id") == "gone1", ET.tostring(got)


def test_directed_presence_does_not_add_the_entity_to_later_broadcasts(srv):
    """§4.6.3 #2: directed presence to someone without a subscription MUST NOT put them in
    later broadcasts of available presence."""
    alice, alice_jid = connect(srv, "alice")
    carol, _ = connect(srv, "carol")
    alice.send("<presence to='carol@localhost'><status>hi</status></presence>")
    carol.wait_for(pres(alice_jid))
    settle(alice, carol)
    alice.send("<presence><status>for subscribers only</status></presence>")
    assert is_result(alice.ping("sync"))
    assert not [e for e in quiet(carol) if e.get("from") == alice_jid]


def test_directed_unavailable_takes_the_entity_off_the_directed_list(srv):
    """§4.6.1: the server MUST remove from the directed-presence list any entity to which
    the user sends directed unavailable presence: the session's end then owes it nothing."""
    alice, alice_jid = connect(srv, "alice")
    carol, _ = connect(srv, "carol")
    alice.send("<presence to='carol@localhost'/>")
    carol.wait_for(pres(alice_jid))
    alice.send("<presence type='unavailable' to='carol@localhost'/>")
    carol.wait_for(pres(alice_jid, "unavailable"))
    settle(alice, carol)
    alice.send("<presence type='unavailable'/>")
    alice.close()
    got = [e for e in quiet(carol, 0.8) if e.get("from") == alice_jid]
    assert not got, show(got)


def test_directed_presence_before_initial_presence_still_ends_with_unavailable(srv):
    """§4.6.3 #3: directed presence from a connected but not available resource is treated
    as case #2: when the resource goes, the entity gets unavailable."""
    alice, alice_jid = connect(srv, "alice", available=False)
    carol, _ = connect(srv, "carol")
    alice.send("<presence to='carol@localhost'/>")
    carol.wait_for(pres(alice_jid))
    alice.close()
    carol.wait_for(pres(alice_jid, "unavailable"), timeout=3)


def test_a_subscription_takes_precedence_over_directed_presence(srv):
    """§4.6.1: a contact that got directed presence and then a subscription gets later
    broadcasts as any subscriber (and directed presence in full, §4.6.3 #1); when the user then cancels the subscription, the contact
    gets unavailable even though it also got directed presence."""
    alice, alice_jid = connect(srv, "alice")
    bob, _ = connect(srv, "bob")
    alice.send("<presence to='bob@localhost'/>")
    bob.wait_for(pres(alice_jid))
    grant(bob, "bob", alice, "alice")
    settle(alice, bob)
    alice.send("<presence><status>broadcast</status></presence>")
    assert bob.wait_for(pres(alice_jid), timeout=3).findtext(q(NS_CLIENT, "status")) == "broadcast"
    alice.send("<presence to='bob@localhost'><status>just bob</status></presence>")  # §4.6.3 #1
    assert bob.wait_for(pres(alice_jid), timeout=3).findtext(q(NS_CLIENT, "status")) == "just bob"
    settle(alice, bob)
    alice.send("<presence type='unsubscribed' to='bob@localhost'/>")
    bob.wait_for(pres(alice_jid, "unavailable"), timeout=3)


def test_presence_without_priority_counts_as_priority_zero(srv):
    """§4.7.2.3: 'If no priority is provided, the processing server ... MUST consider the
    priority to be zero': above a resource at -1, below one at 1."""
    alice, _ = connect(srv, "alice")
    plain, _ = connect(srv, "bob", "plain")  # no <priority/>
    other, other_jid = login(srv.port, "bob", PASSWORD, resource="other")
    other.send("<presence><priority>-1</priority></presence>")
    other.wait_for(pres(other_jid))
    settle(plain, other)
    alice.send("<message to='bob@localhost' type='chat' id='m1'><body>one</body></message>")
    plain.wait_for(lambda e: e.tag == q(NS_CLIENT, "message"), timeout=3)
    assert not [e for e in quiet(other) if e.tag == q(NS_CLIENT, "message")]
    other.send("<presence><priority>1</priority></presence>")
    other.wait_for(pres(other_jid))
    settle(plain, other)
    alice.send("<message to='bob@localhost' type='chat' id='m2'><body>two</body></message>")
    other.wait_for(lambda e: e.tag == q(NS_CLIENT, "message"), timeout=3)
    assert not [e for e in quiet(plain) if e.tag == q(NS_CLIENT, "message")]
