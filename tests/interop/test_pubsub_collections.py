"""XEP-0248 PubSub Collection Nodes over the wire with slixmpp: creating a collection (§7.1) and
its identity in disco (§5.2), leaves and collections in a collection (pubsub#collection,
pubsub#children, §7.2), a collection holds no items (§4.1, §6.2.3), notifications through a
collection with the 'Collection' header (§5.3.1) by subscription type and depth (§6.1),
associating and dissociating (§7.5, §7.6) and their errors, no collection turned into a leaf
(§7.2.3.4), no cycle (§7.2.3.5), deleting a collection (§8.2) and persistence across a restart.

As in test_pubsub.py: stanzas are sent raw, all tests but the restart one share one server, each
test uses nodes of its own (uuid), errors are checked exactly (type, the one defined condition
and, where one is named, the 'http://jabber.org/protocol/pubsub#errors' condition), and a check
that something does NOT arrive waits QUIET seconds after a positive barrier."""
import pytest

from conftest import Server
from test_muc import NS_CLIENT, NS_DISCO_INFO, NS_DISCO_ITEMS, absent
from test_pubsub import (NS_ERRORS, NS_EVENT, NS_OWNER, NS_TEST, PUBSUB_MODULES, SERVICE,
                         assert_pubsub_error, connect, create, disco_items, entry, event, identities, new_node,
                         notification, ps, ps_owner, publish, pubsub_child, subscribe)
from test_pubsub_config import NODE_CONFIG, NS_DATA, configure, create_configured, parse_form
from test_pubsub_options import get_options, subscribe_configured
from xmpp_client import run

NS_SHIM = "http://jabber.org/protocol/shim"


@pytest.fixture(scope="module")
def collections_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("starling-pubsub-collections"), extra=PUBSUB_MODULES)
    for name in ("alice", "bob", "carol"):
        s.add_user(name)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def srv(collections_server):
    yield collections_server
    assert collections_server.alive(), "the server died during the test:\n" + collections_server.log()[-4000:]


# --- helpers -------------------------------------------------------------------------------------

async def create_collection(client, node, parent=None):
    """§7.1.1: create-and-configure with pubsub#node_type 'collection' (in `parent`, if given)."""
    fields = {"pubsub#node_type": "collection"}
    if parent:
        fields["pubsub#collection"] = parent
    await create_configured(client, node, fields)


async def create_leaf(client, node, parent):
    await create_configured(client, node, {"pubsub#collection": parent})


async def config(client, node):
    """The owner's configuration form of `node` (XEP-0060 §8.2.2) as parse_form."""
    reply = await client.query("get", SERVICE, ps_owner(f"<configure node='{node}'/>"))
    assert reply["type"] == "result", f"§8.2.2: configuration of {node}: {reply}"
    x = pubsub_child(reply, "configure", NS_OWNER).find(f"{{{NS_DATA}}}x")
    fields = parse_form(x)
    assert fields.get("FORM_TYPE", (None, None))[1] == [NODE_CONFIG], str(reply)
    return fields


def values(fields, var):
    """The non-empty values of a field (an empty <value/> names the root, §7.2.1)."""
    assert var in fields, f"no field {var}: {sorted(fields)}"
    return [v for v in fields[var][1] if v]


async def children(client, node):
    """The nodes disco#items lists in `node` (§5.2)."""
    reply = await client.query("get", SERVICE, f"<query xmlns='{NS_DISCO_ITEMS}' node='{node}'/>")
    assert reply["type"] == "result", f"§5.2: disco#items of {node}: {reply}"
    listed = disco_items(reply)
    assert all(j == SERVICE for j, _ in listed), str(reply)
    return sorted(n for _, n in listed)


async def collection_op(client, collection, op, child):
    """§7.5, §7.6: <associate/> or <dissociate/> `child` in `collection`."""
    return await client.query("set", SERVICE, ps_owner(f"<collection node='{collection}'><{op} node='{child}'/></collection>"))


async def collection_op_ok(client, collection, op, child):
    reply = await collection_op(client, collection, op, child)
    assert reply["type"] == "result" and len(reply.xml) == 0, f"§7.5.2/§7.6.2, an empty result: {reply}"


def collection_headers(message):
    """The values of the message's SHIM 'Collection' headers (XEP-0131)."""
    return [h.text for h in message.xml.findall(f"{{{NS_SHIM}}}headers/{{{NS_SHIM}}}header") if h.get("name") == "Collection"]


def created(node):
    """A node notification (§5.3.1.2): <create node=.../> in the event."""
    return lambda s: (event(s) is not None and s.xml.get("from") == SERVICE
                      and any(c.get("node") == node for c in event(s).findall(f"{{{NS_EVENT}}}create")))


async def items_subscriber(client, collection, depth=None):
    fields = {"pubsub#subscription_type": "items"}
    if depth is not None:
        fields["pubsub#subscription_depth"] = depth
    await subscribe_configured(client, collection, fields)


async def via(client, collection, node, start, **want):
    """The notification about `node` delivered through `collection`: one 'Collection' header
    naming it (§5.3.1)."""
    got = await client.wait_for(notification(node, **want), f"{want} of {node} through {collection}", start=start)
    assert collection_headers(got) == [collection], f"§5.3.1 Example 7: the Collection header: {got}"
    return got


# --- §7.1, §5.2: creating collections and leaves in them ---------------------------------------------

def test_create_a_collection_and_its_disco_identity_7_1(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        coll, leaf = new_node(), new_node()
        await create_collection(alice, coll)
        await create(alice, leaf)
        for node, type_ in ((coll, "collection"), (leaf, "leaf")):
            info = await bob.query("get", SERVICE, f"<query xmlns='{NS_DISCO_INFO}' node='{node}'/>")
            assert info["type"] == "result", str(info)
            assert ("pubsub", type_) in identities(info), str(info)
            assert ("pubsub", "leaf" if type_ == "collection" else "collection") not in identities(info), str(info)

    run(body())


def test_a_leaf_created_in_a_collection_is_its_child_7_2_8_3(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        coll, leaf = new_node(), new_node()
        await create_collection(alice, coll)
        await create_leaf(alice, leaf, coll)
        assert await children(bob, coll) == [leaf]
        fields = await config(alice, leaf)
        assert fields["pubsub#node_type"][1] == ["leaf"] and values(fields, "pubsub#collection") == [coll], fields
        fields = await config(alice, coll)
        assert fields["pubsub#node_type"][1] == ["collection"] and values(fields, "pubsub#children") == [leaf], fields

    run(body())


def test_a_collection_takes_no_publish_and_has_no_items_4_1_6_2_3(srv):
    async def body():
        alice = await connect(srv, "alice")
        coll = new_node()
        await create_collection(alice, coll)
        published = await alice.query("set", SERVICE, ps(f"<publish node='{coll}'><item id='i1'>{entry('x')}</item></publish>"))
        retrieved = await alice.query("get", SERVICE, ps(f"<items node='{coll}'/>"))
        for reply, feature in ((published, "publish"), (retrieved, "retrieve-items")):
            # XEP-0060 §7.1.3.2, §6.5.9.5: the feature is not supported by this node.
            assert_pubsub_error(reply, "cancel", "feature-not-implemented", "unsupported")
            unsupported = reply.xml.find(f"{{{NS_CLIENT}}}error/{{{NS_ERRORS}}}unsupported")
            assert unsupported.get("feature") == feature, str(reply)

    run(body())


# --- §5.3, §6.1: notifications through a collection ----------------------------------------------------

def test_an_items_subscriber_gets_the_leafs_items_and_retractions_with_the_header_5_3_1_1(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        coll, leaf = new_node(), new_node()
        await create_collection(alice, coll)
        await create_leaf(alice, leaf, coll)
        await items_subscriber(bob, coll)
        mark = len(bob.received)
        await publish(alice, leaf, "i1", entry("via the collection"))
        got = await via(bob, coll, leaf, mark, item="i1")
        item = event(got).find(f"{{{NS_EVENT}}}items/{{{NS_EVENT}}}item")
        assert item.findtext(f"{{{NS_TEST}}}entry") == "via the collection", f"the payload: {got}"
        mark = len(bob.received)
        reply = await alice.query("set", SERVICE, ps(f"<retract node='{leaf}' notify='true'><item id='i1'/></retract>"))
        assert reply["type"] == "result", str(reply)
        await via(bob, coll, leaf, mark, retract="i1")

    run(body())


def test_a_nodes_subscriber_gets_creations_and_not_items_5_3_1_2_6_1(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        coll, leaf = new_node(), new_node()
        await create_collection(alice, coll)
        await subscribe(bob, coll)  # the defaults: subscription_type 'nodes', depth '1'
        fields = await get_options(bob, coll)
        assert (fields["pubsub#subscription_type"][1], fields["pubsub#subscription_depth"][1]) == (["nodes"], ["1"]), fields
        await items_subscriber(carol, coll)
        mark = len(bob.received)
        await create_leaf(alice, leaf, coll)
        got = await bob.wait_for(created(leaf), "the creation event through the collection", start=mark)
        assert collection_headers(got) == [coll], f"§5.3.1.2 Example 8: {got}"
        marks = {c: len(c.received) for c in (bob, carol)}
        await publish(alice, leaf, "i1")
        await via(carol, coll, leaf, marks[carol], item="i1")  # the barrier
        await absent(bob, notification(leaf, item="i1"), marks[bob], "an item event with subscription type 'nodes'")

    run(body())


def test_subscription_depth_one_and_all_6_1(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        c1, c2, l3 = new_node(), new_node(), new_node()
        await create_collection(alice, c1)
        await create_collection(alice, c2, c1)
        await create_leaf(alice, l3, c2)
        assert await children(bob, c1) == [c2] and await children(bob, c2) == [l3]
        await items_subscriber(bob, c1, "1")
        await items_subscriber(carol, c1, "all")
        await items_subscriber(alice, c2)
        marks = {c: len(c.received) for c in (alice, bob, carol)}
        await publish(alice, l3, "i1")
        await via(carol, c1, l3, marks[carol], item="i1")
        await via(alice, c2, l3, marks[alice], item="i1")
        await absent(bob, notification(l3, item="i1"), marks[bob], "an item two levels down with depth 1")

    run(body())


# --- §7.5, §7.6: associating and dissociating -------------------------------------------------------------

def test_associate_and_dissociate_a_node_7_5_7_6(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        coll, x = new_node(), new_node()
        await create_collection(alice, coll)
        await create(alice, x)
        await items_subscriber(bob, coll)
        await subscribe(carol, x)
        await collection_op_ok(alice, coll, "associate", x)
        assert await children(bob, coll) == [x]
        assert values(await config(alice, x), "pubsub#collection") == [coll], "§8.3: the configuration follows"
        mark = len(bob.received)
        await publish(alice, x, "i1")
        await via(bob, coll, x, mark, item="i1")
        await collection_op_ok(alice, coll, "dissociate", x)
        assert await children(bob, coll) == []
        assert values(await config(alice, coll), "pubsub#children") == []
        marks = {c: len(c.received) for c in (bob, carol)}
        await publish(alice, x, "i2")
        await carol.wait_for(notification(x, item="i2"), "the direct subscriber's notification (the barrier)",
                             start=marks[carol])
        await absent(bob, notification(x, item="i2"), marks[bob], "an item of a dissociated node")
        # §7.6.3.1: not associated (any more).
        assert_pubsub_error(await collection_op(alice, coll, "dissociate", x), "modify", "bad-request")

    run(body())


def test_association_errors_7_5_3(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        coll, c2, leaf, x, theirs = (new_node() for _ in range(5))
        await create_collection(alice, coll)
        await create_collection(alice, c2, coll)
        await create_leaf(alice, leaf, coll)
        await create(alice, x)
        await create(bob, theirs)
        # §7.5.3.1: bob owns his node but not the collection (type cancel, as Example 39).
        assert_pubsub_error(await collection_op(bob, coll, "associate", theirs), "cancel", "forbidden")
        # §7.2.3.1: no children under a leaf.
        assert_pubsub_error(await collection_op(alice, leaf, "associate", x), "cancel", "not-allowed", "invalid-options")
        # §7.5.3.3: c2 is in coll; coll in c2 would be a cycle.
        assert_pubsub_error(await collection_op(alice, c2, "associate", coll), "cancel", "not-allowed", "invalid-options")
        # No such collection.
        assert_pubsub_error(await collection_op(alice, new_node(), "associate", x), "cancel", "item-not-found")
        # None of it changed anything.
        assert await children(alice, coll) == sorted([c2, leaf]) and await children(alice, c2) == []
        assert values(await config(alice, coll), "pubsub#collection") == []
        assert values(await config(alice, x), "pubsub#collection") == []

    run(body())


# --- §7.2: configuration -----------------------------------------------------------------------------------

def test_a_collection_cannot_become_a_leaf_7_2_3_4(srv):
    async def body():
        alice = await connect(srv, "alice")
        coll, leaf = new_node(), new_node()
        await create_collection(alice, coll)
        await create_leaf(alice, leaf, coll)
        reply = await configure(alice, coll, {"pubsub#node_type": "leaf"})
        assert_pubsub_error(reply, "cancel", "not-allowed", "invalid-options")
        fields = await config(alice, coll)
        assert fields["pubsub#node_type"][1] == ["collection"] and values(fields, "pubsub#children") == [leaf], fields

    run(body())


def test_pubsub_collection_naming_a_missing_node_is_item_not_found_7_2(srv):
    async def body():
        alice = await connect(srv, "alice")
        coll, leaf = new_node(), new_node()
        await create_collection(alice, coll)
        await create_leaf(alice, leaf, coll)
        reply = await configure(alice, leaf, {"pubsub#collection": new_node(), "pubsub#title": "moved?"})
        assert_pubsub_error(reply, "cancel", "item-not-found")
        fields = await config(alice, leaf)
        assert values(fields, "pubsub#collection") == [coll] and values(fields, "pubsub#title") == [], fields
        assert await children(alice, coll) == [leaf]

    run(body())


# --- §8.2: deleting a collection -----------------------------------------------------------------------------

def test_deleting_a_collection_orphans_its_children_8_2(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        coll, c2, leaf = new_node(), new_node(), new_node()
        await create_collection(alice, coll)
        await create_collection(alice, c2, coll)
        await create_leaf(alice, leaf, coll)
        reply = await alice.query("set", SERVICE, ps_owner(f"<delete node='{coll}'/>"))
        assert reply["type"] == "result", f"§7.4.2: {reply}"
        listed = await bob.query("get", SERVICE, f"<query xmlns='{NS_DISCO_ITEMS}'/>")
        assert {(SERVICE, c2), (SERVICE, leaf)} <= set(disco_items(listed)), str(listed)
        assert (SERVICE, coll) not in disco_items(listed), str(listed)
        for node in (c2, leaf):
            assert values(await config(alice, node), "pubsub#collection") == [], f"{node} has no parent now"
        await publish(alice, leaf, "i1")  # still a working leaf

    run(body())


# --- persistence -----------------------------------------------------------------------------------------------

def test_collections_survive_a_restart(make_server):
    server = make_server(extra=PUBSUB_MODULES)
    for name in ("alice", "bob"):
        server.add_user(name)
    server.start()
    coll, leaf, x = new_node(), new_node(), new_node()

    async def before():
        alice, bob = await connect(server, "alice"), await connect(server, "bob")
        await create_collection(alice, coll)
        await create_leaf(alice, leaf, coll)
        await create(alice, x)
        await collection_op_ok(alice, coll, "associate", x)
        await items_subscriber(bob, coll)

    run(before())
    server.stop()
    server.start()

    async def after():
        alice, bob = await connect(server, "alice"), await connect(server, "bob")
        assert await children(bob, coll) == sorted([leaf, x])
        info = await bob.query("get", SERVICE, f"<query xmlns='{NS_DISCO_INFO}' node='{coll}'/>")
        assert ("pubsub", "collection") in identities(info), str(info)
        assert values(await config(alice, leaf), "pubsub#collection") == [coll]
        for node in (leaf, x):
            mark = len(bob.received)
            await publish(alice, node, "i1")
            await via(bob, coll, node, mark, item="i1")

    run(after())
