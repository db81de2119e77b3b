"""XEP-0060 Publish-Subscribe, first slice, over the wire with slixmpp: the service at
pubsub.localhost (module "pubsub", off by default) in disco (§5.1, §5.2, §5.3), node creation
and instant nodes (§8.1), publishing (§7.1) with its notifications (§7.1.2) to bare and full
JIDs, subscribing and unsubscribing (§6.1, §6.2), retrieving items (§6.5), retracting (§7.2),
deleting and purging nodes (§8.4, §8.5), the entity's subscriptions and affiliations (§5.6,
§5.7), the default of 10 items per node (pubsub#max_items) and persistence across a restart.

Stanzas are sent raw so the tests say exactly what goes on the wire. All tests share one
server; each uses nodes of its own (uuid). Errors are checked exactly: the error type, the
defined condition (RFC 6120 §8.3.3) and, where XEP-0060 names one, the application condition
in 'http://jabber.org/protocol/pubsub#errors'. Checks that something does NOT arrive wait
QUIET seconds after a positive barrier (a notification that must arrive first), so they can
fail."""
import pytest
from slixmpp.stanza import Message

from conftest import Server
from test_muc import NS_CLIENT, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_STANZAS, absent, assert_error, uid
from xmpp_client import available, login, run

PUBSUB_MODULES = '[modules]\nenabled = ["disco", "ping", "roster", "pubsub"]\n'
SERVICE = "pubsub.localhost"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_OWNER = NS_PUBSUB + "#owner"
NS_EVENT = NS_PUBSUB + "#event"
NS_ERRORS = NS_PUBSUB + "#errors"
NS_TEST = "urn:test"

FEATURES = {NS_PUBSUB} | {f"{NS_PUBSUB}#{f}" for f in (
    "create-nodes", "delete-nodes", "instant-nodes", "item-ids", "publish", "purge-nodes",
    "retract-items", "retrieve-items", "subscribe", "retrieve-subscriptions",
    "retrieve-affiliations", "persistent-items", "access-open")}


@pytest.fixture(scope="module")
def pubsub_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("starling-pubsub"), extra=PUBSUB_MODULES)
    for name in ("alice", "bob", "carol"):
        s.add_user(name)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def srv(pubsub_server):
    yield pubsub_server
    assert pubsub_server.alive(), "the server died during the test:\n" + pubsub_server.log()[-4000:]


# --- stanzas -----------------------------------------------------------------------------

def new_node():
    return f"node-{uid()}"


def entry(text):
    return f"<entry xmlns='{NS_TEST}'>{text}</entry>"


def ps(inner):
    return f"<pubsub xmlns='{NS_PUBSUB}'>{inner}</pubsub>"


def ps_owner(inner):
    return f"<pubsub xmlns='{NS_OWNER}'>{inner}</pubsub>"


def assert_pubsub_error(stanza, type_, condition, app=None):
    """An error of `type_` with exactly one defined condition, `condition`, and, if `app` is
    given, the pubsub#errors application condition <app/>."""
    assert_error(stanza, type_, condition)
    error = stanza.xml.find(f"{{{NS_CLIENT}}}error")
    defined = [c.tag for c in error if c.tag.startswith(f"{{{NS_STANZAS}}}") and c.tag != f"{{{NS_STANZAS}}}text"]
    assert defined == [f"{{{NS_STANZAS}}}{condition}"], f"exactly one defined condition (RFC 6120 §8.3.2): {stanza}"
    if app is not None:
        assert error.find(f"{{{NS_ERRORS}}}{app}") is not None, f"want <{app} xmlns='{NS_ERRORS}'/>: {stanza}"


def pubsub_child(reply, tag, ns=NS_PUBSUB):
    """The <tag/> child of the reply's <pubsub/>, or None."""
    return reply.xml.find(f"{{{ns}}}pubsub/{{{ns}}}{tag}")


async def connect(server, user, resource="ps"):
    client = await login(server, user, resource=resource)
    await available(client)
    return client


async def create(client, node):
    reply = await client.query("set", SERVICE, ps(f"<create node='{node}'/>"))
    assert reply["type"] == "result", f"§8.1: creating {node}: {reply}"
    return reply


async def publish(client, node, item_id=None, payload=None):
    """Publishes one item (§7.1.1) and returns the id the result names (§7.1.2)."""
    ident = f" id='{item_id}'" if item_id is not None else ""
    payload = entry("x") if payload is None else payload
    reply = await client.query("set", SERVICE, ps(f"<publish node='{node}'><item{ident}>{payload}</item></publish>"))
    assert reply["type"] == "result", f"§7.1.2: publishing to {node}: {reply}"
    published = pubsub_child(reply, "publish")
    assert published is not None and published.get("node") == node, f"§7.1.2 Example 99: {reply}"
    items = published.findall(f"{{{NS_PUBSUB}}}item")
    assert len(items) == 1 and items[0].get("id"), f"§7.1.2 Example 99: the item's id: {reply}"
    if item_id is not None:
        assert items[0].get("id") == item_id, str(reply)
    return items[0].get("id")


async def subscribe(client, node, jid=None):
    """Subscribes `jid` (default: the client's bare JID) to `node` (§6.1.1); returns the
    <subscription/> of the result (§6.1.2)."""
    jid = jid or client.boundjid.bare
    reply = await client.query("set", SERVICE, ps(f"<subscribe node='{node}' jid='{jid}'/>"))
    assert reply["type"] == "result", f"§6.1.2: subscribing {jid} to {node}: {reply}"
    sub = pubsub_child(reply, "subscription")
    assert sub is not None, f"§6.1.2 Example 31: {reply}"
    assert (sub.get("node"), sub.get("jid"), sub.get("subscription")) == (node, jid, "subscribed"), str(reply)
    assert sub.get("subid"), f"a subid: {reply}"
    return sub


async def get_items(client, node, inner="", attrs=""):
    """The <item/>s of an items request (§6.5.2) as {id: item element}, in the order sent."""
    reply = await client.query("get", SERVICE, ps(f"<items node='{node}'{attrs}>{inner}</items>"))
    assert reply["type"] == "result", f"§6.5: items of {node}: {reply}"
    items = pubsub_child(reply, "items")
    assert items is not None and items.get("node") == node, f"§6.5.2 Example 78: {reply}"
    found = items.findall(f"{{{NS_PUBSUB}}}item")
    ids = [i.get("id") for i in found]
    assert len(set(ids)) == len(ids) and all(ids), f"distinct item ids: {reply}"
    return {i.get("id"): i for i in found}


def payload_text(item):
    entries = item.findall(f"{{{NS_TEST}}}entry")
    assert len(entries) == 1 and len(item) == 1, f"one payload element: {[e.tag for e in item]}"
    return entries[0].text


def event(message):
    return message.xml.find(f"{{{NS_EVENT}}}event") if isinstance(message, Message) else None


def notification(node, to=None, **want):
    """A message from the service with a pubsub#event: want item=ID (an <items/> with that
    <item/>), retract=ID (an <items/> with that <retract/>), delete=True or purge=True."""
    def match(s):
        ev = event(s)
        if ev is None or s.xml.get("from") != SERVICE or (to is not None and s.xml.get("to") != to):
            return False
        if "item" in want or "retract" in want:
            kind, ident = ("item", want["item"]) if "item" in want else ("retract", want["retract"])
            return any(x.get("id") == ident
                       for items in ev.findall(f"{{{NS_EVENT}}}items") if items.get("node") == node
                       for x in items.findall(f"{{{NS_EVENT}}}{kind}"))
        kind = "delete" if want.get("delete") else "purge"
        return any(x.get("node") == node for x in ev.findall(f"{{{NS_EVENT}}}{kind}"))
    return match


def any_event(node):
    """Any pubsub event about `node` (for absence checks)."""
    return lambda s: (event(s) is not None and s.xml.get("from") == SERVICE
                      and any(c.get("node") == node for c in event(s)))


def disco_items(reply):
    return [(i.get("jid"), i.get("node")) for i in reply.xml.iter(f"{{{NS_DISCO_ITEMS}}}item")]


def identities(reply):
    query = reply.xml.find(f"{{{NS_DISCO_INFO}}}query")
    return {(i.get("category"), i.get("type")) for i in query.findall(f"{{{NS_DISCO_INFO}}}identity")}


# --- §5: discovery -------------------------------------------------------------------------

def test_service_disco_info_identity_and_features_5_1(srv):
    async def body():
        alice = await connect(srv, "alice")
        info = await alice.query("get", SERVICE, f"<query xmlns='{NS_DISCO_INFO}'/>")
        assert info["type"] == "result", str(info)
        assert ("pubsub", "service") in identities(info), str(info)
        query = info.xml.find(f"{{{NS_DISCO_INFO}}}query")
        features = {f.get("var") for f in query.findall(f"{{{NS_DISCO_INFO}}}feature")}
        assert FEATURES <= features, f"missing {sorted(FEATURES - features)}: {info}"
        # Nothing this slice does not do.
        assert f"{NS_PUBSUB}#auto-create" not in features, str(info)

    run(body())


def test_disco_items_lists_nodes_and_node_info_is_a_leaf_5_2_5_3(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        items = await bob.query("get", SERVICE, f"<query xmlns='{NS_DISCO_ITEMS}'/>")
        assert items["type"] == "result", str(items)
        assert (SERVICE, node) in disco_items(items), str(items)
        info = await bob.query("get", SERVICE, f"<query xmlns='{NS_DISCO_INFO}' node='{node}'/>")
        assert info["type"] == "result", str(info)
        assert info.xml.find(f"{{{NS_DISCO_INFO}}}query").get("node") == node, str(info)
        assert ("pubsub", "leaf") in identities(info), str(info)
        missing = await bob.query("get", SERVICE, f"<query xmlns='{NS_DISCO_INFO}' node='{new_node()}'/>")
        assert_pubsub_error(missing, "cancel", "item-not-found")

    run(body())


def test_node_info_has_the_meta_data_form_5_4(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        await subscribe(bob, node)
        info = await bob.query("get", SERVICE, f"<query xmlns='{NS_DISCO_INFO}' node='{node}'/>")
        form = info.xml.find(f"{{{NS_DISCO_INFO}}}query/{{jabber:x:data}}x")
        assert form is not None and form.get("type") == "result", f"§5.4: a meta-data form: {info}"
        values = {f.get("var"): [v.text for v in f.findall("{jabber:x:data}value")] for f in form}
        assert values["FORM_TYPE"] == [f"{NS_PUBSUB}#meta-data"], str(info)
        assert values["pubsub#creator"] == ["alice@localhost"] and values["pubsub#owner"] == ["alice@localhost"], str(info)
        assert values["pubsub#creation_date"][0].endswith("Z"), str(info)
        assert values["pubsub#num_subscribers"] == ["1"] and values["pubsub#access_model"] == ["open"], str(info)

    run(body())


def test_disco_items_of_a_leaf_are_its_item_ids_5_5(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        for ident in ("one", "two"):
            await publish(alice, node, ident)
        items = await bob.query("get", SERVICE, f"<query xmlns='{NS_DISCO_ITEMS}' node='{node}'/>")
        found = [(i.get("jid"), i.get("name"), i.get("node")) for i in items.xml.iter(f"{{{NS_DISCO_ITEMS}}}item")]
        assert found == [(SERVICE, "one", None), (SERVICE, "two", None)], f"§5.5 Example 15: {items}"
        missing = await bob.query("get", SERVICE, f"<query xmlns='{NS_DISCO_ITEMS}' node='{new_node()}'/>")
        assert_pubsub_error(missing, "cancel", "item-not-found")

    run(body())


def test_a_batch_is_published_and_retracted_whole_or_not_at_all_12_11(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        await subscribe(bob, node)
        batch = "".join(f"<item id='b{i}'>{entry(i)}</item>" for i in range(3))
        reply = await alice.query("set", SERVICE, ps(f"<publish node='{node}'>{batch}</publish>"))
        assert reply["type"] == "result", str(reply)
        ids = [i.get("id") for i in pubsub_child(reply, "publish").findall(f"{{{NS_PUBSUB}}}item")]
        assert ids == ["b0", "b1", "b2"], str(reply)
        await bob.wait_for(notification(node, item="b2"), "the batch")
        assert list(await get_items(bob, node)) == ["b0", "b1", "b2"]
        # One bad item fails the batch: nothing of it is kept (§12.11).
        bad = await alice.query("set", SERVICE, ps(f"<publish node='{node}'><item id='b3'>{entry(3)}</item><item id='b4'/></publish>"))
        assert_pubsub_error(bad, "modify", "bad-request", "payload-required")
        # More than the node keeps (10 by default) is max-items-exceeded.
        many = "".join(f"<item>{entry(i)}</item>" for i in range(11))
        over = await alice.query("set", SERVICE, ps(f"<publish node='{node}'>{many}</publish>"))
        assert_pubsub_error(over, "cancel", "not-allowed", "max-items-exceeded")
        assert list(await get_items(bob, node)) == ["b0", "b1", "b2"]
        # A retraction naming a missing item retracts nothing; a good one retracts all it names.
        missing = await alice.query("set", SERVICE, ps(f"<retract node='{node}'><item id='b0'/><item id='nope'/></retract>"))
        assert_pubsub_error(missing, "cancel", "item-not-found")
        assert list(await get_items(bob, node)) == ["b0", "b1", "b2"]
        done = await alice.query("set", SERVICE, ps(f"<retract node='{node}' notify='true'><item id='b0'/><item id='b2'/></retract>"))
        assert done["type"] == "result", str(done)
        await bob.wait_for(notification(node, retract="b2"), "the retraction")
        assert list(await get_items(bob, node)) == ["b1"]

    run(body())


def test_pubsub_is_served_at_the_default_modules(server):
    """The conftest server has no [modules] section: pubsub is on by default (as in ejabberd),
    found through the domain's disco#items (XEP-0030), and a local account may create nodes."""
    async def body():
        alice = await connect(server, "alice")
        items = await alice.query("get", "localhost", f"<query xmlns='{NS_DISCO_ITEMS}'/>")
        assert (SERVICE, None) in disco_items(items), str(items)
        info = await alice.query("get", SERVICE, f"<query xmlns='{NS_DISCO_INFO}'/>")
        assert info["type"] == "result" and ("pubsub", "service") in identities(info), str(info)
        created = await alice.query("set", SERVICE, ps(f"<create node='{new_node()}'/>"))
        assert created["type"] == "result", str(created)

    run(body())


# --- §8.1: creating nodes --------------------------------------------------------------------

def test_create_makes_the_creator_owner_and_a_second_create_conflicts_8_1(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        # §5.7: the creator is the owner; bob has no affiliation with the node.
        mine = await alice.query("get", SERVICE, ps("<affiliations/>"))
        assert mine["type"] == "result", str(mine)
        affs = pubsub_child(mine, "affiliations")
        assert affs is not None, str(mine)
        assert [a.get("affiliation") for a in affs.findall(f"{{{NS_PUBSUB}}}affiliation")
                if a.get("node") == node] == ["owner"], str(mine)
        # The NodeID already exists: conflict, for the owner and anyone else (§8.1.1 Example 129).
        for who in (bob, alice):
            again = await who.query("set", SERVICE, ps(f"<create node='{node}'/>"))
            assert_pubsub_error(again, "cancel", "conflict")
        theirs = await bob.query("get", SERVICE, ps("<affiliations/>"))
        assert theirs["type"] == "result", str(theirs)
        assert node not in {a.get("node") for a in theirs.xml.iter(f"{{{NS_PUBSUB}}}affiliation")}, str(theirs)

    run(body())


def test_instant_node_gets_a_generated_nodeid_8_1_2(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        reply = await alice.query("set", SERVICE, ps("<create/>"))
        assert reply["type"] == "result", str(reply)
        created = pubsub_child(reply, "create")
        assert created is not None and created.get("node"), f"§8.1.2 Example 132: {reply}"
        node = created.get("node")
        other = pubsub_child(await alice.query("set", SERVICE, ps("<create/>")), "create")
        assert other is not None and other.get("node") and other.get("node") != node, "unique NodeIDs"
        # It is a real node, owned by its creator.
        items = await bob.query("get", SERVICE, f"<query xmlns='{NS_DISCO_ITEMS}'/>")
        assert (SERVICE, node) in disco_items(items), str(items)
        await publish(alice, node, "i1")
        forbidden = await bob.query("set", SERVICE, ps(f"<publish node='{node}'><item id='b'>{entry('b')}</item></publish>"))
        assert_pubsub_error(forbidden, "auth", "forbidden")

    run(body())


# --- §7.1: publishing ------------------------------------------------------------------------

def test_publish_with_and_without_an_item_id_7_1(srv):
    async def body():
        alice, carol = await connect(srv, "alice"), await connect(srv, "carol")
        node = new_node()
        await create(alice, node)
        assert await publish(alice, node, "i1", entry("first")) == "i1"
        generated = await publish(alice, node, None, entry("second"))
        another = await publish(alice, node, None, entry("third"))
        assert len({"i1", generated, another}) == 3, (generated, another)
        # §6.5: open access: carol, neither owner nor subscriber, may retrieve them.
        items = await get_items(carol, node)
        assert set(items) == {"i1", generated, another}, list(items)
        assert payload_text(items["i1"]) == "first" and payload_text(items[generated]) == "second"

    run(body())


def test_publish_to_a_missing_node_is_item_not_found_and_creates_nothing_7_1_3_3(srv):
    async def body():
        alice = await connect(srv, "alice")
        node = new_node()
        reply = await alice.query("set", SERVICE, ps(f"<publish node='{node}'><item id='i1'>{entry('x')}</item></publish>"))
        assert_pubsub_error(reply, "cancel", "item-not-found")
        # No automatic creation (§7.1.4) in this slice.
        again = await alice.query("get", SERVICE, ps(f"<items node='{node}'/>"))
        assert_pubsub_error(again, "cancel", "item-not-found")
        await create(alice, node)

    run(body())


def test_publish_by_someone_not_a_publisher_is_forbidden_and_stores_nothing_7_1_3_1(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        await subscribe(bob, node)  # a subscriber is no publisher
        reply = await bob.query("set", SERVICE, ps(f"<publish node='{node}'><item id='b1'>{entry('b')}</item></publish>"))
        assert_pubsub_error(reply, "auth", "forbidden")
        assert await get_items(alice, node) == {}

    run(body())


def test_publish_of_an_item_with_two_payloads_is_invalid_payload_7_1_3_6(srv):
    async def body():
        alice = await connect(srv, "alice")
        node = new_node()
        await create(alice, node)
        reply = await alice.query("set", SERVICE, ps(
            f"<publish node='{node}'><item id='i1'>{entry('a')}<other xmlns='{NS_TEST}'/></item></publish>"))
        assert_pubsub_error(reply, "modify", "bad-request", "invalid-payload")
        assert await get_items(alice, node) == {}

    run(body())


def test_publish_without_an_item_is_item_required_7_1_3_7(srv):
    async def body():
        alice = await connect(srv, "alice")
        node = new_node()
        await create(alice, node)
        reply = await alice.query("set", SERVICE, ps(f"<publish node='{node}'/>"))
        assert_pubsub_error(reply, "modify", "bad-request", "item-required")
        assert await get_items(alice, node) == {}

    run(body())


def test_republishing_an_item_id_replaces_the_item_7_1_2(srv):
    async def body():
        alice = await connect(srv, "alice")
        node = new_node()
        await create(alice, node)
        await publish(alice, node, "i1", entry("old"))
        await publish(alice, node, "i2", entry("other"))
        await publish(alice, node, "i1", entry("new"))
        items = await get_items(alice, node)
        assert set(items) == {"i1", "i2"}, list(items)
        assert payload_text(items["i1"]) == "new" and payload_text(items["i2"]) == "other"

    run(body())


def test_a_node_keeps_the_newest_ten_items_max_items(srv):
    async def body():
        alice = await connect(srv, "alice")
        node = new_node()
        await create(alice, node)
        for i in range(1, 12):
            await publish(alice, node, f"i{i}", entry(f"n{i}"))
        items = await get_items(alice, node)
        assert set(items) == {f"i{i}" for i in range(2, 12)}, f"the oldest, i1, is dropped: {list(items)}"
        assert payload_text(items["i11"]) == "n11"
        # Replacing an item keeps the count.
        await publish(alice, node, "i5", entry("again"))
        items = await get_items(alice, node)
        assert len(items) == 10 and payload_text(items["i5"]) == "again", list(items)

    run(body())


# --- §7.1.2, §6.1: subscriptions and notifications ---------------------------------------------

def test_a_bare_jid_subscriber_is_notified_with_the_payload_and_others_are_not_7_1_2(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        node = new_node()
        await create(alice, node)
        await subscribe(bob, node)
        marks = {c: len(c.received) for c in (alice, bob, carol)}
        await publish(alice, node, "i1", entry("hello"))
        got = await bob.wait_for(notification(node, to="bob@localhost", item="i1"), "the notification",
                                 start=marks[bob])
        items = event(got).findall(f"{{{NS_EVENT}}}items")
        assert len(items) == 1, str(got)
        item = items[0].find(f"{{{NS_EVENT}}}item")
        # deliver_payloads defaults to true: the payload, as published, in its own namespace.
        assert item.find(f"{{{NS_TEST}}}entry") is not None and item.find(f"{{{NS_TEST}}}entry").text == "hello", str(got)
        for c in (alice, carol):
            await absent(c, any_event(node), marks[c], "a notification for a node it is not subscribed to")

    run(body())


def test_a_full_jid_subscription_notifies_that_resource_only_6_1(srv):
    async def body():
        alice = await connect(srv, "alice")
        one, two = await connect(srv, "bob", "one"), await connect(srv, "bob", "two")
        node = new_node()
        await create(alice, node)
        await subscribe(one, node, "bob@localhost/one")
        marks = {c: len(c.received) for c in (one, two)}
        await publish(alice, node, "i1", entry("to one"))
        await one.wait_for(notification(node, to="bob@localhost/one", item="i1"), "the notification",
                           start=marks[one])
        await absent(two, any_event(node), marks[two], "a notification for the other resource's subscription")

    run(body())


def test_subscribing_someone_else_is_invalid_jid_6_1_3_1(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        node = new_node()
        await create(alice, node)
        for jid in ("carol@localhost", "carol@localhost/ps", "localhost"):
            reply = await bob.query("set", SERVICE, ps(f"<subscribe node='{node}' jid='{jid}'/>"))
            assert_pubsub_error(reply, "modify", "bad-request", "invalid-jid")
        # Nobody got subscribed: carol hears nothing of a publish.
        await subscribe(alice, node)
        marks = {c: len(c.received) for c in (alice, carol)}
        await publish(alice, node, "i1")
        await alice.wait_for(notification(node, item="i1"), "alice's own notification", start=marks[alice])
        await absent(carol, any_event(node), marks[carol], "a notification from a subscription bob made")

    run(body())


def test_subscribing_to_a_missing_node_is_item_not_found_6_1_3_12(srv):
    async def body():
        bob = await connect(srv, "bob")
        reply = await bob.query("set", SERVICE, ps(f"<subscribe node='{new_node()}' jid='bob@localhost'/>"))
        assert_pubsub_error(reply, "cancel", "item-not-found")

    run(body())


def test_unsubscribe_stops_notifications_and_twice_is_not_subscribed_6_2(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        node = new_node()
        await create(alice, node)
        await subscribe(bob, node)
        await subscribe(carol, node)
        reply = await bob.query("set", SERVICE, ps(f"<unsubscribe node='{node}' jid='bob@localhost'/>"))
        assert reply["type"] == "result", f"§6.2.2: {reply}"
        marks = {c: len(c.received) for c in (bob, carol)}
        await publish(alice, node, "i1")
        # carol, still subscribed, is the barrier.
        await carol.wait_for(notification(node, item="i1"), "carol's notification", start=marks[carol])
        await absent(bob, any_event(node), marks[bob], "a notification after unsubscribing")
        again = await bob.query("set", SERVICE, ps(f"<unsubscribe node='{node}' jid='bob@localhost'/>"))
        assert_pubsub_error(again, "cancel", "unexpected-request", "not-subscribed")
        never = await alice.query("set", SERVICE, ps(f"<unsubscribe node='{node}' jid='alice@localhost'/>"))
        assert_pubsub_error(never, "cancel", "unexpected-request", "not-subscribed")

    run(body())


# --- §6.5: retrieving items ------------------------------------------------------------------

def test_retrieve_all_items_the_newest_and_one_by_id_6_5(srv):
    async def body():
        alice, carol = await connect(srv, "alice"), await connect(srv, "carol")
        node = new_node()
        await create(alice, node)
        for i in (1, 2, 3):
            await publish(alice, node, f"i{i}", entry(f"p{i}"))
        items = await get_items(carol, node)
        assert set(items) == {"i1", "i2", "i3"}, list(items)
        assert [payload_text(items[f"i{i}"]) for i in (1, 2, 3)] == ["p1", "p2", "p3"]
        newest = await get_items(carol, node, attrs=" max_items='1'")
        assert list(newest) == ["i3"] and payload_text(newest["i3"]) == "p3", f"§6.5.7: {list(newest)}"
        one = await get_items(carol, node, inner="<item id='i1'/>")
        assert list(one) == ["i1"] and payload_text(one["i1"]) == "p1", f"§6.5.8: {list(one)}"
        missing = await carol.query("get", SERVICE, ps(f"<items node='{new_node()}'/>"))
        assert_pubsub_error(missing, "cancel", "item-not-found")

    run(body())


# --- §7.2: retracting -----------------------------------------------------------------------

def test_retract_notifies_and_removes_the_item_7_2(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        await subscribe(bob, node)
        await publish(alice, node, "i1", entry("doomed"))
        await publish(alice, node, "i2", entry("kept"))
        mark = len(bob.received)
        reply = await alice.query("set", SERVICE, ps(f"<retract node='{node}' notify='true'><item id='i1'/></retract>"))
        assert reply["type"] == "result", f"§7.2.2: {reply}"
        got = await bob.wait_for(notification(node, to="bob@localhost", retract="i1"), "the retraction", start=mark)
        assert event(got).find(f"{{{NS_EVENT}}}items/{{{NS_EVENT}}}item") is None, f"§7.2.2.1 Example 117: {got}"
        items = await get_items(bob, node)
        assert set(items) == {"i2"}, list(items)
        # Gone now: item-not-found (§7.2.3.2), as for an item that never was.
        for ident in ("i1", "never"):
            again = await alice.query("set", SERVICE, ps(f"<retract node='{node}' notify='true'><item id='{ident}'/></retract>"))
            assert_pubsub_error(again, "cancel", "item-not-found")

    run(body())


def test_retract_by_a_non_publisher_is_forbidden_7_2_3_1(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        await publish(alice, node, "i1", entry("mine"))
        reply = await bob.query("set", SERVICE, ps(f"<retract node='{node}' notify='true'><item id='i1'/></retract>"))
        assert_pubsub_error(reply, "auth", "forbidden")
        assert set(await get_items(bob, node)) == {"i1"}
        missing = await alice.query("set", SERVICE, ps(f"<retract node='{new_node()}'><item id='i1'/></retract>"))
        assert_pubsub_error(missing, "cancel", "item-not-found")

    run(body())


# --- §8.4, §8.5: deleting and purging -------------------------------------------------------

def test_delete_by_the_owner_notifies_and_the_node_is_gone_8_4(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        await subscribe(bob, node)
        await publish(alice, node, "i1", entry("x"))
        refused = await bob.query("set", SERVICE, ps_owner(f"<delete node='{node}'/>"))
        assert_pubsub_error(refused, "auth", "forbidden")
        assert set(await get_items(bob, node)) == {"i1"}, "a refused delete deletes nothing"
        mark = len(bob.received)
        reply = await alice.query("set", SERVICE, ps_owner(f"<delete node='{node}'/>"))
        assert reply["type"] == "result", f"§8.4.2: {reply}"
        await bob.wait_for(notification(node, to="bob@localhost", delete=True), "the deletion", start=mark)
        gone = await bob.query("get", SERVICE, ps(f"<items node='{node}'/>"))
        assert_pubsub_error(gone, "cancel", "item-not-found")
        listed = await bob.query("get", SERVICE, f"<query xmlns='{NS_DISCO_ITEMS}'/>")
        assert (SERVICE, node) not in disco_items(listed), str(listed)
        info = await bob.query("get", SERVICE, f"<query xmlns='{NS_DISCO_INFO}' node='{node}'/>")
        assert_pubsub_error(info, "cancel", "item-not-found")
        # §8.4.3.2: deleting it again: it does not exist.
        again = await alice.query("set", SERVICE, ps_owner(f"<delete node='{node}'/>"))
        assert_pubsub_error(again, "cancel", "item-not-found")
        # The name is free; the new node has none of the old one's items or subscribers.
        await create(bob, node)
        assert await get_items(bob, node) == {}
        mark = len(bob.received)
        await publish(bob, node, "j1")
        subs = await bob.query("get", SERVICE, ps(f"<subscriptions node='{node}'/>"))
        assert subs["type"] == "result" and not list(subs.xml.iter(f"{{{NS_PUBSUB}}}subscription")), str(subs)
        await absent(bob, any_event(node), mark, "a notification from a subscription to the deleted node")

    run(body())


def test_purge_by_the_owner_notifies_and_empties_the_node_8_5(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        await subscribe(bob, node)
        await publish(alice, node, "i1", entry("a"))
        await publish(alice, node, "i2", entry("b"))
        refused = await bob.query("set", SERVICE, ps_owner(f"<purge node='{node}'/>"))
        assert_pubsub_error(refused, "auth", "forbidden")
        assert set(await get_items(bob, node)) == {"i1", "i2"}, "a refused purge purges nothing"
        mark = len(bob.received)
        reply = await alice.query("set", SERVICE, ps_owner(f"<purge node='{node}'/>"))
        assert reply["type"] == "result", f"§8.5.2: {reply}"
        await bob.wait_for(notification(node, to="bob@localhost", purge=True), "the purge", start=mark)
        assert await get_items(bob, node) == {}
        # The node and the subscription are still there.
        mark = len(bob.received)
        await publish(alice, node, "i3", entry("c"))
        await bob.wait_for(notification(node, item="i3"), "a notification after the purge", start=mark)
        assert set(await get_items(bob, node)) == {"i3"}
        missing = await alice.query("set", SERVICE, ps_owner(f"<purge node='{new_node()}'/>"))
        assert_pubsub_error(missing, "cancel", "item-not-found")

    run(body())


# --- §5.6, §5.7: the entity's subscriptions and affiliations -----------------------------------

def test_retrieve_own_subscriptions_and_affiliations_5_6_5_7(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        n1, n2, n3 = new_node(), new_node(), new_node()
        for n in (n1, n2, n3):
            await create(alice, n)
        s1 = await subscribe(bob, n1)
        s2 = await subscribe(bob, n2, bob.boundjid.full)
        await subscribe(carol, n3)

        async def subscriptions(client, attrs=""):
            reply = await client.query("get", SERVICE, ps(f"<subscriptions{attrs}/>"))
            assert reply["type"] == "result", f"§5.6: {reply}"
            subs = pubsub_child(reply, "subscriptions")
            assert subs is not None, f"§5.6 Example 17/18: {reply}"
            return {(s.get("node"), s.get("jid"), s.get("subscription"), s.get("subid"))
                    for s in subs.findall(f"{{{NS_PUBSUB}}}subscription")}

        mine = await subscriptions(bob)
        ours = {s for s in mine if s[0] in (n1, n2, n3)}
        assert ours == {(n1, "bob@localhost", "subscribed", s1.get("subid")),
                        (n2, bob.boundjid.full, "subscribed", s2.get("subid"))}, mine
        assert {s[0] for s in await subscriptions(bob, f" node='{n1}'")} == {n1}
        assert await subscriptions(alice, f" node='{n1}'") == set(), "alice has no subscription to n1"
        assert {s[0] for s in await subscriptions(carol) if s[0] in (n1, n2, n3)} == {n3}

        async def affiliations(client):
            reply = await client.query("get", SERVICE, ps("<affiliations/>"))
            assert reply["type"] == "result", f"§5.7: {reply}"
            affs = pubsub_child(reply, "affiliations")
            assert affs is not None, f"§5.7 Example 23/24: {reply}"
            return {(a.get("node"), a.get("affiliation")) for a in affs.findall(f"{{{NS_PUBSUB}}}affiliation")}

        assert {(n, "owner") for n in (n1, n2, n3)} <= await affiliations(alice)
        assert not {a for a in await affiliations(bob) if a[0] in (n1, n2, n3) and a[1] != "none"}

    run(body())


# --- persistence --------------------------------------------------------------------------

def test_nodes_items_and_subscriptions_survive_a_restart(make_server):
    server = make_server(extra=PUBSUB_MODULES)
    for name in ("alice", "bob"):
        server.add_user(name)
    server.start()
    node = new_node()

    async def before():
        alice, bob = await connect(server, "alice"), await connect(server, "bob")
        await create(alice, node)
        await publish(alice, node, "i1", entry("kept one"))
        await publish(alice, node, "i2", entry("kept two"))
        await subscribe(bob, node)
        await alice.sync()

    run(before())
    server.stop()
    server.start()

    async def after():
        alice, bob = await connect(server, "alice"), await connect(server, "bob")
        listed = await bob.query("get", SERVICE, f"<query xmlns='{NS_DISCO_ITEMS}'/>")
        assert (SERVICE, node) in disco_items(listed), str(listed)
        items = await get_items(bob, node)
        assert set(items) == {"i1", "i2"}, list(items)
        assert payload_text(items["i1"]) == "kept one" and payload_text(items["i2"]) == "kept two"
        assert_pubsub_error(await alice.query("set", SERVICE, ps(f"<create node='{node}'/>")), "cancel", "conflict")
        # bob is still subscribed: he is notified, and the subscription is listed.
        mark = len(bob.received)
        await publish(alice, node, "i3", entry("after"))
        await bob.wait_for(notification(node, to="bob@localhost", item="i3"), "a notification after the restart",
                           start=mark)
        subs = await bob.query("get", SERVICE, ps(f"<subscriptions node='{node}'/>"))
        assert [(s.get("jid"), s.get("subscription")) for s in subs.xml.iter(f"{{{NS_PUBSUB}}}subscription")] \
            == [("bob@localhost", "subscribed")], str(subs)
        # alice is still the owner; bob still may not publish.
        affs = await alice.query("get", SERVICE, ps("<affiliations/>"))
        assert (node, "owner") in {(a.get("node"), a.get("affiliation"))
                                   for a in affs.xml.iter(f"{{{NS_PUBSUB}}}affiliation")}, str(affs)
        refused = await bob.query("set", SERVICE, ps(f"<publish node='{node}'><item id='b'>{entry('b')}</item></publish>"))
        assert_pubsub_error(refused, "auth", "forbidden")

    run(after())
