"""XEP-0163 Personal Eventing Protocol at the server's defaults, with the payloads real
clients publish, over the wire with slixmpp 1.8's own PEP plugins: XEP-0084 user avatar
(data and metadata), XEP-0172 user nick, XEP-0080 user location, XEP-0107 user mood,
XEP-0118 user tune, XEP-0402 bookmarks (raw XML: slixmpp 1.8 has no xep_0402), and the
last published item sent to a contact who comes online.

How slixmpp asks for notifications: each PEP plugin calls xep_0163.register_pep() at
session_bind, which adds the disco features '<ns>' and '<ns>+notify' (add_interest) and
recomputes the XEP-0115 verification string (update_caps); xep_0115's 'out' filter puts
<c node= ver= hash=/> on every available presence. The server learns the features by asking
the client's disco#info for an unknown ver. Each client below checks that its disco#info
does hold the +notify features before it goes available (so a failure says which side is at
fault).

Caps are learnt asynchronously, so a live notification is only asserted once the server has
shown it knows the contact's interest: the contact first gets an earlier item of the node
(live, or as the last item when its caps were resolved), then a new publish must reach it.
Checks that something does NOT arrive wait QUIET seconds after such a positive barrier.

All tests share one server at its defaults (PEP is on by default) with accounts alice, bob,
carol and dave; alice is a mutual ('both') contact of bob, carol and dave, made once by the
fixture. alice publishes; her nodes keep max_items 1, so tests match items by unique content."""
import asyncio
import base64
import hashlib
import xml.etree.ElementTree as ET

import pytest
from slixmpp.stanza import Iq, Message

from conftest import Server
from test_muc import NS_CLIENT, NS_STANZAS, absent, uid
from xmpp_client import HANG_TIMEOUT, Client, available, run, wait_in

NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_EVENT = NS_PUBSUB + "#event"
NS_ERRORS = NS_PUBSUB + "#errors"
NS_ROSTER = "jabber:iq:roster"
NS_DATA = "jabber:x:data"
NS_AVATAR_DATA = "urn:xmpp:avatar:data"
NS_AVATAR_META = "urn:xmpp:avatar:metadata"
NS_NICK = "http://jabber.org/protocol/nick"
NS_GEOLOC = "http://jabber.org/protocol/geoloc"
NS_MOOD = "http://jabber.org/protocol/mood"
NS_TUNE = "http://jabber.org/protocol/tune"
NS_BOOKMARKS = "urn:xmpp:bookmarks:1"
ALICE = "alice@localhost"
QUIET = 1.0

USERS = ("alice", "bob", "carol", "dave")
CONTACTS = ("bob", "carol", "dave")


# --- server --------------------------------------------------------------------------------

async def _befriend(server, a, b):
    """Mutual presence subscription a <-> b (RFC 6121 §3), ending with roster pushes of
    subscription='both' on both sides."""
    ca = await pep_login(server, a, resource="setup")
    cb = await pep_login(server, b, resource="setup")
    for c in (ca, cb):
        c.auto_authorize = None  # the test answers requests itself
        c.auto_subscribe = False
        await c.get_roster(timeout=HANG_TIMEOUT)  # an interested resource: it gets roster pushes
        await available(c)
    ja, jb = f"{a}@localhost", f"{b}@localhost"

    def request(frm):
        return lambda s: s.xml.tag == f"{{{NS_CLIENT}}}presence" and s.xml.get("type") == "subscribe" \
            and s.xml.get("from", "").split("/")[0] == frm

    ca.send_raw(f"<presence type='subscribe' to='{jb}'/>")
    await cb.wait_for(request(ja), f"subscribe from {ja}")
    cb.send_raw(f"<presence type='subscribed' to='{ja}'/>")
    cb.send_raw(f"<presence type='subscribe' to='{ja}'/>")
    await ca.wait_for(request(jb), f"subscribe from {jb}")
    ca.send_raw(f"<presence type='subscribed' to='{jb}'/>")
    for c, other in ((ca, jb), (cb, ja)):
        await c.wait_for(lambda s, other=other: isinstance(s, Iq) and any(
            i.get("jid") == other and i.get("subscription") == "both"
            for i in s.xml.iter(f"{{{NS_ROSTER}}}item")), f"roster push of {other} with subscription both")
    for c in (ca, cb):
        c.close_now()


@pytest.fixture(scope="module")
def pep_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("starling-pep"))  # the server's defaults: PEP is on
    for name in USERS:
        s.add_user(name)
    s.start()

    async def setup():
        for contact in CONTACTS:
            await _befriend(s, "alice", contact)

    try:
        run(setup())
    except BaseException:
        s.stop()
        raise
    yield s
    s.stop()


@pytest.fixture
def srv(pep_server):
    yield pep_server
    assert pep_server.alive(), "the server died during the test:\n" + pep_server.log()[-4000:]


# --- clients -------------------------------------------------------------------------------

async def pep_login(server, user, plugins=(), resource=None) -> Client:
    """A bound slixmpp session with `plugins` registered (before the stream starts, as a
    client does)."""
    client = Client(f"{user}@{server.domain}/{resource or 'pep-' + uid()}")
    for plugin in plugins:
        client.register_plugin(plugin)
    client.connect(("127.0.0.1", server.port))
    try:
        outcome = await asyncio.wait_for(asyncio.shield(client.outcome), HANG_TIMEOUT)
    except asyncio.TimeoutError:
        raise AssertionError(f"login of {user} timed out; received {[str(s) for s in client.received]}") from None
    assert outcome[0] == "bound", f"login of {user} failed: {outcome}\n{server.log()[-4000:]}"
    return client


async def pep_client(server, user, plugins=(), interests=(), events=()):
    """Logs in with `plugins`, checks that slixmpp now advertises '<ns>+notify' for each of
    `interests`, then sends the available presence carrying the caps. client.events[name]
    records the slixmpp events named in `events` (see collect) from before that presence."""
    client = await pep_login(server, user, plugins)
    client.events = {name: collect(client, name) for name in events}
    if "xep_0115" in client.plugin:
        # The plugins' own update_caps() calls were scheduled at session_bind: run one to
        # completion so the ver on the initial presence includes every interest.
        await client["xep_0115"].update_caps(broadcast=False)
        info = await client["xep_0030"].get_info(jid=client.boundjid.full, local=True)
        if isinstance(info, Iq):
            info = info["disco_info"]
        features = set(info["features"])
        for ns in interests:
            assert f"{ns}+notify" in features, f"slixmpp did not register {ns}+notify: {sorted(features)}"
        client.pep_features = features
    else:
        assert not interests
        client.pep_features = set()
    await available(client)
    return client


def collect(client, event_name):
    """Records the messages slixmpp raises as `event_name` (e.g. 'user_tune_publish')."""
    seen, arrived = [], asyncio.Event()

    def handler(msg):
        seen.append(msg)
        arrived.set()

    client.add_event_handler(event_name, handler)
    return seen, arrived


# --- stanzas -------------------------------------------------------------------------------

def event_items(stanza, node):
    """The <item/>s of a pubsub#event <items node=node/> in a message, [] if none."""
    if not isinstance(stanza, Message):
        return []
    ev = stanza.xml.find(f"{{{NS_EVENT}}}event")
    if ev is None:
        return []
    return [i for items in ev.findall(f"{{{NS_EVENT}}}items") if items.get("node") == node
            for i in items.findall(f"{{{NS_EVENT}}}item")]


def pep_event(node, pred=lambda item: True):
    """A headline from alice's bare JID with an event item of `node` matching `pred`."""
    return lambda s: (isinstance(s, Message) and s.xml.get("from") == ALICE
                      and any(pred(i) for i in event_items(s, node)))


def any_event(node):
    """Anything about `node` in a pubsub#event (for absence checks), from anyone."""
    def match(s):
        if not isinstance(s, Message):
            return False
        ev = s.xml.find(f"{{{NS_EVENT}}}event")
        return ev is not None and any(c.get("node") == node for c in ev)
    return match


def payload(item, ns, tag):
    found = item.find(f"{{{ns}}}{tag}")
    assert found is not None, f"want <{tag} xmlns='{ns}'/> in {ET.tostring(item).decode()}"
    return found


def assert_headline(message):
    assert message.xml.get("type") == "headline", f"PEP notifications are headlines: {message}"
    assert message.xml.get("from") == ALICE, f"from the account's bare JID (XEP-0163 §4.3.2): {message}"


def assert_pubsub_error(stanza, type_, condition, app):
    assert stanza.xml.get("type") == "error", str(stanza)
    error = stanza.xml.find(f"{{{NS_CLIENT}}}error")
    assert error is not None and error.get("type") == type_, f"want error type {type_}: {stanza}"
    defined = [c.tag for c in error if c.tag.startswith(f"{{{NS_STANZAS}}}") and c.tag != f"{{{NS_STANZAS}}}text"]
    assert defined == [f"{{{NS_STANZAS}}}{condition}"], f"want exactly <{condition}/>: {stanza}"
    assert error.find(f"{{{NS_ERRORS}}}{app}") is not None, f"want <{app} xmlns='{NS_ERRORS}'/>: {stanza}"


# --- the shared pattern for XEP-0172, 0080, 0107, 0118 ---------------------------------------

async def check_payload_reaches_interested_contact_only(srv, plugin, ns, event_name, publish, matches,
                                                       other_plugin, other_ns, other_publish, other_matches):
    """alice publishes to `ns` with slixmpp's `plugin` (publish(alice, tag) → awaitable);
    bob registered `plugin` and gets the slixmpp event `event_name` with the item; carol
    registered only `other_plugin` (interest in `other_ns`) and never hears of `ns`."""
    alice = await pep_login(srv, "alice", (plugin, other_plugin), resource="publisher")
    bob = await pep_client(srv, "bob", (plugin,), (ns,), (event_name,))
    carol = await pep_client(srv, "carol", (other_plugin,), (other_ns,))
    assert f"{ns}+notify" not in carol.pep_features
    events, arrived = bob.events[event_name]

    # Barriers: the server knows bob's interest in ns and carol's in other_ns.
    first, other = f"first-{uid()}", f"other-{uid()}"
    await publish(alice, first)
    await other_publish(alice, other)
    await bob.wait_for(pep_event(ns, matches(first)), f"{ns} item {first} (barrier)")
    await carol.wait_for(pep_event(other_ns, other_matches(other)), f"{other_ns} item {other} (barrier)")

    # The live notification.
    mark_bob, mark_carol, mark_events = len(bob.received), len(carol.received), len(events)
    tag = f"live-{uid()}"
    result = await publish(alice, tag)
    assert result["type"] == "result", str(result)
    got = await bob.wait_for(pep_event(ns, matches(tag)), f"{ns} notification with {tag}", start=mark_bob)
    assert_headline(got)
    items = [i for i in event_items(got, ns)]
    assert len(items) == 1 and items[0].get("id") == "current", \
        f"one item, with the id slixmpp published ('current'): {got}"
    # slixmpp's own PEP plugin recognised it.
    raised = await wait_in(events, arrived, lambda m: any(matches(tag)(i) for i in event_items(m, ns)),
                           HANG_TIMEOUT, mark_events)
    assert raised is not None, f"slixmpp raised no {event_name} for {got}"

    # carol: nothing of ns, ever (not even the last item at presence), while the barrier above
    # shows her other interest is known.
    await absent(carol, any_event(ns), 0, f"a {ns} notification without interest in it", QUIET)
    assert not any(any_event(ns)(s) for s in carol.received[:mark_carol])


# --- XEP-0084 ------------------------------------------------------------------------------

def test_avatar_metadata_notifies_and_the_data_is_retrieved_by_id_xep_0084(srv):
    async def body():
        alice = await pep_login(srv, "alice", ("xep_0084",), resource="publisher")
        bob = await pep_client(srv, "bob", ("xep_0084",), (NS_AVATAR_META,), ("avatar_metadata_publish",))
        assert f"{NS_AVATAR_DATA}+notify" not in bob.pep_features, "slixmpp asks for metadata only"
        metas, arrived = bob.events["avatar_metadata_publish"]

        async def publish_avatar(data):
            ident = hashlib.sha1(data).hexdigest()
            r = await alice["xep_0084"].publish_avatar(data)
            assert r["type"] == "result", str(r)
            published = r.xml.find(f"{{{NS_PUBSUB}}}pubsub/{{{NS_PUBSUB}}}publish")
            assert published is not None and published.get("node") == NS_AVATAR_DATA, str(r)
            r = await alice["xep_0084"].publish_avatar_metadata(
                # Strings: slixmpp 1.8 cannot serialise int attributes here.
                {"id": ident, "type": "image/png", "bytes": str(len(data)), "width": "64", "height": "64"})
            assert r["type"] == "result", str(r)
            return ident

        # Barrier: an earlier avatar reaches bob (live or as the last item).
        first = await publish_avatar(b"\x89PNG first " + uid().encode())
        await bob.wait_for(pep_event(NS_AVATAR_META, lambda i: i.get("id") == first), "first avatar metadata")

        mark, mark_events = len(bob.received), len(metas)
        data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + uid().encode()
        ident = await publish_avatar(data)
        got = await bob.wait_for(pep_event(NS_AVATAR_META, lambda i: i.get("id") == ident),
                                 f"avatar metadata notification for {ident}", start=mark)
        assert_headline(got)
        [item] = event_items(got, NS_AVATAR_META)
        infos = payload(item, NS_AVATAR_META, "metadata").findall(f"{{{NS_AVATAR_META}}}info")
        assert [(i.get("id"), i.get("type"), i.get("bytes"), i.get("width"), i.get("height")) for i in infos] \
            == [(ident, "image/png", str(len(data)), "64", "64")], str(got)
        raised = await wait_in(metas, arrived, lambda m: m["pubsub_event"]["items"]["item"]["id"] == ident,
                               HANG_TIMEOUT, mark_events)
        assert raised is not None, "slixmpp raised no avatar_metadata_publish"
        assert raised["pubsub_event"]["items"]["item"]["avatar_metadata"]["info"]["id"] == ident

        # Then bob fetches the data by the id the metadata named (XEP-0084 §4.3).
        reply = await bob["xep_0084"].retrieve_avatar(ALICE, ident, timeout=HANG_TIMEOUT)
        assert reply["type"] == "result", str(reply)
        items = reply.xml.find(f"{{{NS_PUBSUB}}}pubsub/{{{NS_PUBSUB}}}items")
        assert items is not None and items.get("node") == NS_AVATAR_DATA, str(reply)
        found = items.findall(f"{{{NS_PUBSUB}}}item")
        assert [i.get("id") for i in found] == [ident], str(reply)
        raw = payload(found[0], NS_AVATAR_DATA, "data").text or ""
        assert base64.b64decode("".join(raw.split())) == data, "the avatar's bytes, unchanged"
        assert reply["pubsub"]["items"]["item"]["avatar_data"]["value"] == data

        # Nobody asked for avatar:data notifications.
        await absent(bob, any_event(NS_AVATAR_DATA), 0, "an avatar:data notification without +notify", QUIET)

    run(body())


# --- XEP-0172, 0080, 0107, 0118 --------------------------------------------------------------

async def _nick(client, text):
    return await client["xep_0172"].publish_nick(text, timeout=HANG_TIMEOUT)


async def _mood(client, text):
    return await client["xep_0107"].publish_mood("happy", text, timeout=HANG_TIMEOUT)


async def _tune(client, text):
    return await client["xep_0118"].publish_tune(artist="Yes", length=686, rating=8, source="Yessongs",
                                                  title=text, track="3", uri="http://www.yesworld.com/",
                                                  timeout=HANG_TIMEOUT)


async def _geoloc(client, text):
    return await client["xep_0080"].publish_location(lat=45.44, lon=12.33, accuracy=20, country="Italy",
                                                      locality="Venice", text=text, timeout=HANG_TIMEOUT)


def _nick_is(text):
    def match(item):
        p = item.find(f"{{{NS_NICK}}}nick")
        return p is not None and p.text == text
    return match


def _mood_is(text):
    def match(item):
        p = item.find(f"{{{NS_MOOD}}}mood")
        return p is not None and p.findtext(f"{{{NS_MOOD}}}text") == text \
            and p.find(f"{{{NS_MOOD}}}happy") is not None
    return match


def _tune_is(text):
    def match(item):
        p = item.find(f"{{{NS_TUNE}}}tune")
        return p is not None and p.findtext(f"{{{NS_TUNE}}}title") == text \
            and (p.findtext(f"{{{NS_TUNE}}}artist"), p.findtext(f"{{{NS_TUNE}}}length"),
                 p.findtext(f"{{{NS_TUNE}}}source"), p.findtext(f"{{{NS_TUNE}}}track")) \
            == ("Yes", "686", "Yessongs", "3")
    return match


def _geoloc_is(text):
    def match(item):
        p = item.find(f"{{{NS_GEOLOC}}}geoloc")
        return p is not None and p.findtext(f"{{{NS_GEOLOC}}}text") == text \
            and (p.findtext(f"{{{NS_GEOLOC}}}locality"), p.findtext(f"{{{NS_GEOLOC}}}country")) \
            == ("Venice", "Italy") \
            and float(p.findtext(f"{{{NS_GEOLOC}}}lat")) == 45.44 \
            and float(p.findtext(f"{{{NS_GEOLOC}}}lon")) == 12.33
    return match


def test_user_nick_reaches_an_interested_contact_only_xep_0172(srv):
    run(check_payload_reaches_interested_contact_only(
        srv, "xep_0172", NS_NICK, "user_nick_publish", _nick, _nick_is,
        "xep_0118", NS_TUNE, _tune, _tune_is))


def test_user_location_reaches_an_interested_contact_only_xep_0080(srv):
    run(check_payload_reaches_interested_contact_only(
        srv, "xep_0080", NS_GEOLOC, "user_location_publish", _geoloc, _geoloc_is,
        "xep_0107", NS_MOOD, _mood, _mood_is))


def test_user_mood_reaches_an_interested_contact_only_xep_0107(srv):
    run(check_payload_reaches_interested_contact_only(
        srv, "xep_0107", NS_MOOD, "user_mood_publish", _mood, _mood_is,
        "xep_0172", NS_NICK, _nick, _nick_is))


def test_user_tune_reaches_an_interested_contact_only_xep_0118(srv):
    run(check_payload_reaches_interested_contact_only(
        srv, "xep_0118", NS_TUNE, "user_tune_publish", _tune, _tune_is,
        "xep_0080", NS_GEOLOC, _geoloc, _geoloc_is))


# --- XEP-0402 ------------------------------------------------------------------------------

BOOKMARK_OPTIONS = (
    f"<publish-options><x xmlns='{NS_DATA}' type='submit'>"
    f"<field var='FORM_TYPE' type='hidden'><value>{NS_PUBSUB}#publish-options</value></field>"
    "<field var='pubsub#persist_items'><value>true</value></field>"
    "<field var='pubsub#max_items'><value>max</value></field>"
    "<field var='pubsub#send_last_published_item'><value>never</value></field>"
    "<field var='pubsub#access_model'><value>whitelist</value></field>"
    "</x></publish-options>")


def conference(name, nick):
    return (f"<conference xmlns='{NS_BOOKMARKS}' name='{name}' autojoin='true'>"
            f"<nick>{nick}</nick></conference>")


def test_bookmarks_2_whitelist_node_keeps_both_rooms_for_the_owner_only_xep_0402(srv):
    async def body():
        alice = await pep_login(srv, "alice", ("xep_0107",), resource="bookmarks")

        async def interested(user, resource=None):
            # Interest in bookmarks (XEP-0402 §3.3) and in mood (for the barrier below).
            c = await pep_login(srv, user, ("xep_0107",), resource=resource)
            c["xep_0163"].add_interest(NS_BOOKMARKS)
            await c["xep_0115"].update_caps(broadcast=False)
            await available(c)
            return c

        watcher = await interested("alice", "watcher")  # another of alice's clients
        bob = await interested("bob")  # a mutual contact
        # Barrier: the server knows both clients' caps once each has alice's mood (live or
        # as the last item); the bookmarks node sends no last item (send_last_published_item
        # never), so its notifications below must be live.
        text = f"barrier-{uid()}"
        assert (await _mood(alice, text))["type"] == "result"
        for c in (watcher, bob):
            await c.wait_for(pep_event(NS_MOOD, _mood_is(text)), f"mood {text} (barrier)")

        rooms = {f"room-{uid()}@conference.localhost": (f"Room {n}", f"nick{n}") for n in (1, 2)}
        for jid, (name, nick) in rooms.items():
            reply = await alice.query("set", None, (
                f"<pubsub xmlns='{NS_PUBSUB}'><publish node='{NS_BOOKMARKS}'>"
                f"<item id='{jid}'>{conference(name, nick)}</item></publish>{BOOKMARK_OPTIONS}</pubsub>"))
            assert reply["type"] == "result", f"publishing bookmark {jid} with XEP-0402's options: {reply}"
            published = reply.xml.find(f"{{{NS_PUBSUB}}}pubsub/{{{NS_PUBSUB}}}publish")
            assert published is not None and published.get("node") == NS_BOOKMARKS, str(reply)
            assert [i.get("id") for i in published.findall(f"{{{NS_PUBSUB}}}item")] == [jid], str(reply)

        # The owner gets both back (max_items=max keeps them).
        reply = await alice.query("get", None, f"<pubsub xmlns='{NS_PUBSUB}'><items node='{NS_BOOKMARKS}'/></pubsub>")
        assert reply["type"] == "result", str(reply)
        items = reply.xml.find(f"{{{NS_PUBSUB}}}pubsub/{{{NS_PUBSUB}}}items")
        assert items is not None and items.get("node") == NS_BOOKMARKS, str(reply)
        got = {i.get("id"): i for i in items.findall(f"{{{NS_PUBSUB}}}item")}
        assert set(rooms) <= set(got), f"both rooms: {reply}"
        for jid, (name, nick) in rooms.items():
            conf = payload(got[jid], NS_BOOKMARKS, "conference")
            assert (conf.get("name"), conf.get("autojoin"), conf.findtext(f"{{{NS_BOOKMARKS}}}nick")) \
                == (name, "true", nick), ET.tostring(got[jid]).decode()

        # The owner's other resource was notified of each (barrier for bob's absence check).
        last = list(rooms)[-1]
        note = await watcher.wait_for(pep_event(NS_BOOKMARKS, lambda i: i.get("id") == last),
                                      f"bookmarks notification of {last}")
        assert_headline(note)

        # A mutual contact may not read them, nor hear of them.
        for request in (f"<items node='{NS_BOOKMARKS}'/>",
                        f"<items node='{NS_BOOKMARKS}'><item id='{last}'/></items>"):
            denied = await bob.query("get", ALICE, f"<pubsub xmlns='{NS_PUBSUB}'>{request}</pubsub>")
            assert_pubsub_error(denied, "cancel", "not-allowed", "closed-node")
            assert denied.xml.find(f"{{{NS_PUBSUB}}}pubsub/{{{NS_PUBSUB}}}items/{{{NS_PUBSUB}}}item") is None
        await absent(bob, any_event(NS_BOOKMARKS), 0, "a notification from a whitelist node", QUIET)

        # The options are preconditions now: the same ones are accepted again...
        jid = list(rooms)[0]
        name, nick = rooms[jid]
        again = await alice.query("set", None, (
            f"<pubsub xmlns='{NS_PUBSUB}'><publish node='{NS_BOOKMARKS}'>"
            f"<item id='{jid}'>{conference(name, nick)}</item></publish>{BOOKMARK_OPTIONS}</pubsub>"))
        assert again["type"] == "result", f"republishing with the same options: {again}"
        # ...and different ones refused (XEP-0060 §7.1.5), storing nothing.
        stray = f"room-{uid()}@conference.localhost"
        opened = BOOKMARK_OPTIONS.replace("<value>whitelist</value>", "<value>open</value>")
        refused = await alice.query("set", None, (
            f"<pubsub xmlns='{NS_PUBSUB}'><publish node='{NS_BOOKMARKS}'>"
            f"<item id='{stray}'>{conference('Stray', 'x')}</item></publish>{opened}</pubsub>"))
        assert_pubsub_error(refused, "cancel", "conflict", "precondition-not-met")
        check = await alice.query("get", None, f"<pubsub xmlns='{NS_PUBSUB}'><items node='{NS_BOOKMARKS}'/></pubsub>")
        assert check["type"] == "result", str(check)
        ids = {i.get("id") for i in check.xml.iter(f"{{{NS_PUBSUB}}}item")}
        assert set(rooms) <= ids and stray not in ids, str(check)
        # The node is still closed to bob.
        denied = await bob.query("get", ALICE, f"<pubsub xmlns='{NS_PUBSUB}'><items node='{NS_BOOKMARKS}'/></pubsub>")
        assert_pubsub_error(denied, "cancel", "not-allowed", "closed-node")

    run(body())


# --- the last item when a contact comes online ------------------------------------------------

def test_a_contact_coming_online_with_interest_gets_the_last_mood_xep_0163(srv):
    async def body():
        alice = await pep_login(srv, "alice", ("xep_0107",), resource="publisher")
        text = f"offline-{uid()}"
        reply = await _mood(alice, text)
        assert reply["type"] == "result", str(reply)
        # bob was offline; he logs in with interest in mood and asks for nothing.
        bob = await pep_client(srv, "bob", ("xep_0107",), (NS_MOOD,), ("user_mood_publish",))
        moods, arrived = bob.events["user_mood_publish"]
        got = await bob.wait_for(pep_event(NS_MOOD, _mood_is(text)), f"alice's last mood {text}")
        assert_headline(got)
        raised = await wait_in(moods, arrived, lambda m: any(_mood_is(text)(i) for i in event_items(m, NS_MOOD)),
                               HANG_TIMEOUT)
        assert raised is not None, "slixmpp raised no user_mood_publish"
        asked = [str(s) for s in bob.sent if isinstance(s, Iq) and s.xml.find(f"{{{NS_PUBSUB}}}pubsub") is not None]
        assert not asked, f"bob never asked: {asked}"

    run(body())
