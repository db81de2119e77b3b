"""XEP-0163 Personal Eventing Protocol over the wire, with slixmpp, against the server at its
defaults (module "pep" is on by default): the account's disco says it is a PEP service
(§6.1), publishing to one's own bare JID creates the node (§3, auto-create), publish-options
configure a new node and are preconditions after (XEP-0060 §7.1.5) exactly as OMEMO clients
use them, contacts hear of what they asked for in their caps (§4.2, +notify, learnt from
slixmpp's real XEP-0115 answers) and get the last item when they come online (§4.3.4),
strangers are refused as the access model says, and nodes live across a restart and go with
the account.

Checks that something does NOT arrive wait after a positive barrier (a notification that
must arrive first), so they can fail."""
import asyncio

import pytest
from slixmpp.stanza import Message, Presence

from conftest import Server
from test_muc import NS_CLIENT, NS_DISCO_INFO, absent, uid
from xmpp_client import Client, HANG_TIMEOUT, available, login, run

NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_EVENT = NS_PUBSUB + "#event"
NS_ERRORS = NS_PUBSUB + "#errors"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
DEVICES = "eu.siacs.conversations.axolotl.devicelist"
OMEMO_NS = "eu.siacs.conversations.axolotl"
OMEMO2 = "urn:xmpp:omemo:2"
TUNE = "http://jabber.org/protocol/tune"
USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")


@pytest.fixture(scope="module")
def pep_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("starling-pep"), defaults=True)
    for name in USERS:
        s.add_user(name)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def srv(pep_server):
    yield pep_server
    assert pep_server.alive(), "the server died during the test:\n" + pep_server.log()[-4000:]


# --- clients and stanzas -----------------------------------------------------------------

async def pep_login(server, user, interests=(), resource="test"):
    """A slixmpp client with XEP-0115 and XEP-0163 loaded, interested (+notify) in
    `interests`, logged in and available (its presence carries its caps)."""
    client = Client(f"{user}@{server.domain}/{resource}")
    for plugin in ("xep_0030", "xep_0060", "xep_0115", "xep_0163"):
        client.register_plugin(plugin)
    for ns in interests:
        client["xep_0163"].add_interest(ns)
    await asyncio.sleep(0)  # the caps update add_interest scheduled
    client.connect(("127.0.0.1", server.port))
    outcome = await asyncio.wait_for(asyncio.shield(client.outcome), HANG_TIMEOUT)
    assert outcome[0] == "bound", outcome
    await client["xep_0115"].update_caps(broadcast=False)
    await available(client)
    return client


def presence_from(prefix, type_=None):
    return lambda s: (isinstance(s, Presence) and s.xml.get("from", "").startswith(prefix)
                      and s.xml.get("type") == type_)


async def befriend(a, b):
    """Mutual presence subscription between two available clients (slixmpp accepts and
    subscribes back at its defaults); returns once each has the other's presence."""
    marks = (len(a.received), len(b.received))
    b.send_presence(pto=a.boundjid.bare, ptype="subscribe")
    await a.wait_for(presence_from(b.boundjid.full), "the contact's presence", start=marks[0])
    await b.wait_for(presence_from(a.boundjid.full), "the contact's presence", start=marks[1])


def ps(inner):
    return f"<pubsub xmlns='{NS_PUBSUB}'>{inner}</pubsub>"


def options(fields):
    values = "".join(f"<field var='{var}'><value>{value}</value></field>" for var, value in fields.items())
    return ("<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
            f"<value>{NS_PUBSUB}#publish-options</value></field>{values}</x></publish-options>")


async def publish(client, node, item_id, payload, fields=None):
    extra = options(fields) if fields else ""
    return await client.query("set", None, ps(f"<publish node='{node}'><item id='{item_id}'>{payload}</item></publish>{extra}"))


async def publish_ok(client, node, item_id, payload, fields=None):
    reply = await publish(client, node, item_id, payload, fields)
    assert reply["type"] == "result", str(reply)
    return reply


async def items(client, owner, node):
    return await client.query("get", owner, ps(f"<items node='{node}'/>"))


def item_ids(reply):
    assert reply["type"] == "result", str(reply)
    found = reply.xml.find(f"{{{NS_PUBSUB}}}pubsub/{{{NS_PUBSUB}}}items")
    return [i.get("id") for i in found.findall(f"{{{NS_PUBSUB}}}item")]


def device_list(*ids):
    return f"<list xmlns='{OMEMO_NS}'>" + "".join(f"<device id='{i}'/>" for i in ids) + "</list>"


def event(node, owner, item_id=None, text=None):
    """A PEP notification from `owner`'s bare JID (XEP-0163 §4.3.1) about `node`."""
    def match(s):
        if not isinstance(s, Message) or s.xml.get("from") != owner:
            return False
        items_ = s.xml.find(f"{{{NS_EVENT}}}event/{{{NS_EVENT}}}items")
        if items_ is None or items_.get("node") != node:
            return False
        item = items_.find(f"{{{NS_EVENT}}}item")
        if item_id is not None and (item is None or item.get("id") != item_id):
            return False
        from xml.etree import ElementTree as ET
        return text is None or text in ET.tostring(s.xml, encoding="unicode")
    return match


def assert_error(reply, type_, condition, app=None):
    assert reply["type"] == "error", str(reply)
    error = reply.xml.find(f"{{{NS_CLIENT}}}error")
    assert error.get("type") == type_, str(reply)
    assert error.find(f"{{{NS_STANZAS}}}{condition}") is not None, str(reply)
    if app:
        assert error.find(f"{{{NS_ERRORS}}}{app}") is not None, str(reply)


# --- tests -------------------------------------------------------------------------------

def test_the_account_is_a_pep_service_with_publish_options_6_1(srv):
    async def body():
        alice = await login(srv, "alice")
        reply = await alice.query("get", "alice@localhost", f"<query xmlns='{NS_DISCO_INFO}'/>")
        assert reply["type"] == "result", str(reply)
        query = reply.xml.find(f"{{{NS_DISCO_INFO}}}query")
        identities = {(i.get("category"), i.get("type")) for i in query.findall(f"{{{NS_DISCO_INFO}}}identity")}
        features = {f.get("var") for f in query.findall(f"{{{NS_DISCO_INFO}}}feature")}
        assert ("pubsub", "pep") in identities, identities
        # What Conversations and Dino look for before they publish OMEMO keys.
        for f in ("publish-options", "auto-create", "auto-subscribe", "filtered-notifications", "access-open",
                  "access-presence", "access-whitelist", "last-published", "persistent-items", "retrieve-items"):
            assert f"{NS_PUBSUB}#{f}" in features, f
        assert NS_PUBSUB in features
    run(body())


def test_omemo_device_list_and_bundles_with_publish_options_reach_a_contact(srv):
    async def body():
        alice = await pep_login(srv, "alice", resource="phone")
        open_ = {"pubsub#access_model": "open"}
        # eu.siacs.conversations.axolotl: the device list and one bundle node per device,
        # both published with access_model=open before anyone asks.
        await publish_ok(alice, DEVICES, "current", device_list(1111), open_)
        bundle = f"<bundle xmlns='{OMEMO_NS}'><signedPreKeyPublic signedPreKeyId='1'>AAAA</signedPreKeyPublic></bundle>"
        await publish_ok(alice, f"{OMEMO_NS}.bundles:1111", "current", bundle, open_)
        # urn:xmpp:omemo:2: one bundles node for every device, max_items=max.
        many = {"pubsub#access_model": "open", "pubsub#max_items": "max"}
        await publish_ok(alice, f"{OMEMO2}:devices", "current", f"<devices xmlns='{OMEMO2}'><device id='1111'/></devices>", many)
        for device in ("1111", "2222"):
            await publish_ok(alice, f"{OMEMO2}:bundles", device, f"<bundle xmlns='{OMEMO2}'><spk id='{device}'>AA</spk></bundle>", many)
        # A stranger fetches the keys (open), as a client does before the first message.
        carol = await login(srv, "carol")
        assert item_ids(await items(carol, "alice@localhost", DEVICES)) == ["current"]
        assert item_ids(await items(carol, "alice@localhost", f"{OMEMO_NS}.bundles:1111")) == ["current"]
        assert sorted(item_ids(await items(carol, "alice@localhost", f"{OMEMO2}:bundles"))) == ["1111", "2222"]
        # The same options again are met; a different access model is not.
        await publish_ok(alice, DEVICES, "current", device_list(1111), open_)
        reply = await publish(alice, DEVICES, "current", device_list(1111), {"pubsub#access_model": "presence"})
        assert_error(reply, "cancel", "conflict", "precondition-not-met")

        # bob's client wants device lists (+notify in its caps): once he is a contact he gets
        # the newest list unasked (§4.3.4), then each new one.
        bob = await pep_login(srv, "bob", interests=(DEVICES,))
        mark = len(bob.received)
        await befriend(alice, bob)
        await bob.wait_for(event(DEVICES, "alice@localhost", "current", "1111"), "the device list", start=mark)
        mark = len(bob.received)
        await publish_ok(alice, DEVICES, "current", device_list(1111, 3333), open_)
        notification = await bob.wait_for(event(DEVICES, "alice@localhost", "current", "3333"), "the new list", start=mark)
        assert notification.xml.get("type") == "headline"
        # alice's own client did not ask for device lists: nothing to it.
        await absent(alice, event(DEVICES, "alice@localhost", "current", "3333"), 0, "a notification without +notify")
    run(body())


def test_a_contact_without_interest_gets_nothing_and_one_with_it_gets_each_item_4_2(srv):
    async def body():
        dave = await pep_login(srv, "dave", resource="desk")
        erin = await pep_login(srv, "erin", interests=(TUNE,))
        frank = await pep_login(srv, "frank")  # a contact, but no +notify for tunes
        await befriend(dave, erin)
        await befriend(dave, frank)
        marks = {c: len(c.received) for c in (erin, frank)}
        tune = f"<tune xmlns='{TUNE}'><title>Song {uid()}</title></tune>"
        await publish_ok(dave, TUNE, "t1", tune)
        await erin.wait_for(event(TUNE, "dave@localhost", "t1"), "the tune", start=marks[erin])
        await absent(frank, event(TUNE, "dave@localhost"), marks[frank], "a tune frank did not ask for")
        # A second resource of dave's that wants tunes gets the last one on coming online, and
        # the next ones.
        dave2 = await pep_login(srv, "dave", interests=(TUNE,), resource="laptop")
        await dave2.wait_for(event(TUNE, "dave@localhost", "t1"), "the last tune")
        await publish_ok(dave, TUNE, "t2", tune)
        await dave2.wait_for(event(TUNE, "dave@localhost", "t2"), "the next tune")
    run(body())


def test_strangers_and_contacts_are_refused_as_the_spec_says(srv):
    async def body():
        grace = await pep_login(srv, "grace")
        heidi = await pep_login(srv, "heidi")
        carol = await login(srv, "carol")
        await befriend(grace, heidi)
        await publish_ok(grace, TUNE, "t1", f"<tune xmlns='{TUNE}'><title>mine</title></tune>")
        # The default access model is presence (§5): the contact reads, the stranger may not.
        assert item_ids(await items(heidi, "grace@localhost", TUNE)) == ["t1"]
        assert_error(await items(carol, "grace@localhost", TUNE), "auth", "not-authorized", "presence-subscription-required")
        # Only the account publishes to or creates nodes at its JID.
        reply = await heidi.query("set", "grace@localhost", ps(f"<publish node='{TUNE}'><item id='x'><tune xmlns='{TUNE}'/></item></publish>"))
        assert_error(reply, "auth", "forbidden")
        reply = await heidi.query("set", "grace@localhost", ps("<create node='mine'/>"))
        assert_error(reply, "auth", "forbidden")
        # A node that is not there, and a whitelist node (bookmarks) to a contact.
        assert_error(await items(heidi, "grace@localhost", "no-such-node"), "cancel", "item-not-found")
        bookmarks = {"pubsub#access_model": "whitelist", "pubsub#persist_items": "true", "pubsub#max_items": "max",
                     "pubsub#send_last_published_item": "never"}
        await publish_ok(grace, "urn:xmpp:bookmarks:1", "room@conference.localhost",
                         "<conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'/>", bookmarks)
        assert_error(await items(heidi, "grace@localhost", "urn:xmpp:bookmarks:1"), "cancel", "not-allowed", "closed-node")
        assert item_ids(await items(grace, None, "urn:xmpp:bookmarks:1")) == ["room@conference.localhost"]
    run(body())


def test_nodes_survive_a_restart_and_go_with_the_account(srv):
    async def body_before():
        erin = await login(srv, "erin", resource="keep")
        await publish_ok(erin, "urn:xmpp:avatar:metadata", "abc", "<metadata xmlns='urn:xmpp:avatar:metadata'/>",
                         {"pubsub#access_model": "open"})
    run(body_before())
    srv.stop()
    srv.start()

    async def body_after():
        carol = await login(srv, "carol")
        assert item_ids(await items(carol, "erin@localhost", "urn:xmpp:avatar:metadata")) == ["abc"]
        erin = await login(srv, "erin", resource="leaving")
        reply = await erin.query("set", None, "<query xmlns='jabber:iq:register'><remove/></query>")
        assert reply["type"] == "result", str(reply)
    run(body_after())
    srv.add_user("erin")

    async def body_again():
        erin = await login(srv, "erin", resource="new")
        assert_error(await items(erin, None, "urn:xmpp:avatar:metadata"), "cancel", "item-not-found")
    run(body_again())
