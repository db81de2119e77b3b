"""XEP-0060 Publish-Subscribe, subscription options and paging, over the wire with slixmpp: the
options form of a subscription (§6.3.2, §6.3.3) and its errors (§6.3.4), submitting it (§6.3.5,
§6.3.6), pubsub#deliver and pubsub#show-values in force, subscribe-and-configure (§6.3.7), the
default subscription options (§6.4), their persistence across a restart, and retrieving items a
page at a time with Result Set Management (§6.5.4, XEP-0059).

As in test_pubsub.py: stanzas are sent raw, all tests but the restart one share one server, each
test uses nodes of its own (uuid), errors are checked exactly (type, the one defined condition
and, where XEP-0060 names one, the 'http://jabber.org/protocol/pubsub#errors' condition), and a
check that something does NOT arrive waits QUIET seconds after a positive barrier.

The RSM <set/> of a request is sent as the sibling of <items/> inside <pubsub/>, where the reply
carries it (§6.5.4 Example 76) and where slixmpp's and ejabberd's pubsub put it; the first page
is also asked for with the <set/> inside <items/>, which XEP-0060 does not rule out."""
import pytest
from slixmpp.stanza import Presence

from conftest import Server
from test_muc import NS_CLIENT, NS_DISCO_INFO, absent
from test_pubsub import (NS_PUBSUB, PUBSUB_MODULES, SERVICE, assert_pubsub_error, connect, create,
                         entry, get_items, new_node, notification, ps, publish, pubsub_child, subscribe)
from test_pubsub_config import NS_DATA, boolean, create_configured, parse_form
from xmpp_client import login, run

SUB_OPTIONS = NS_PUBSUB + "#subscribe_options"
NS_RSM = "http://jabber.org/protocol/rsm"
SHOWS = {"chat", "online", "away", "xa", "dnd"}
FEATURES = {f"{NS_PUBSUB}#{f}" for f in (
    "subscription-options", "retrieve-default-sub", "rsm", "collections", "multi-collections")}


@pytest.fixture(scope="module")
def options_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("starling-pubsub-options"), extra=PUBSUB_MODULES)
    for name in ("alice", "bob", "carol"):
        s.add_user(name)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def srv(options_server):
    yield options_server
    assert options_server.alive(), "the server died during the test:\n" + options_server.log()[-4000:]


# --- subscription options ----------------------------------------------------------------------

def sub_form(fields, type_="submit"):
    """A pubsub#subscribe_options form of `type_`; a field's value may be a list (list-multi)."""
    inner = f"<field var='FORM_TYPE' type='hidden'><value>{SUB_OPTIONS}</value></field>"
    for var, v in fields.items():
        values = v if isinstance(v, (list, tuple)) else [v]
        inner += f"<field var='{var}'>" + "".join(f"<value>{x}</value>" for x in values) + "</field>"
    return f"<x xmlns='{NS_DATA}' type='{type_}'>{inner}</x>"


def options_of(x, form_type):
    """parse_form of a subscribe_options form of `form_type`, its FORM_TYPE checked."""
    assert x is not None and x.get("type") == form_type, f"want a form of type {form_type}"
    fields = parse_form(x)
    assert fields.get("FORM_TYPE", (None, None))[:2] == ("hidden", [SUB_OPTIONS]), f"FORM_TYPE: {fields.get('FORM_TYPE')}"
    return fields


def deliver(fields):
    values = fields["pubsub#deliver"][1]
    assert len(values) == 1, f"pubsub#deliver: {values}"
    return boolean(values[0])


def shows(fields):
    return set(fields["pubsub#show-values"][1])


async def try_options(client, node, jid, attrs=""):
    node_attr = f" node='{node}'" if node is not None else ""
    jid_attr = f" jid='{jid}'" if jid is not None else ""
    return await client.query("get", SERVICE, ps(f"<options{node_attr}{jid_attr}{attrs}/>"))


async def get_options(client, node, jid=None):
    """The subscriber's options form (§6.3.3) as parse_form."""
    jid = jid or client.boundjid.bare
    reply = await try_options(client, node, jid)
    assert reply["type"] == "result", f"§6.3.3: options of {jid} at {node}: {reply}"
    options = pubsub_child(reply, "options")
    assert options is not None and (options.get("node"), options.get("jid")) == (node, jid), f"§6.3.3 Example 56: {reply}"
    return options_of(options.find(f"{{{NS_DATA}}}x"), "form")


async def set_options(client, node, fields, jid=None):
    jid = jid or client.boundjid.bare
    return await client.query("set", SERVICE, ps(f"<options node='{node}' jid='{jid}'>{sub_form(fields)}</options>"))


async def set_options_ok(client, node, fields, jid=None):
    reply = await set_options(client, node, fields, jid)
    assert reply["type"] == "result" and len(reply.xml) == 0, f"§6.3.6.1 Example 65, an empty result: {reply}"


async def subscribe_configured(client, node, fields, jid=None):
    """Subscribe and configure in one request (§6.3.7); returns (<subscription/>, the result form)."""
    jid = jid or client.boundjid.bare
    request = f"<subscribe node='{node}' jid='{jid}'/><options>{sub_form(fields)}</options>"
    reply = await client.query("set", SERVICE, ps(request))
    assert reply["type"] == "result", f"§6.3.7: subscribing {jid} to {node} with {fields}: {reply}"
    sub = pubsub_child(reply, "subscription")
    assert sub is not None and (sub.get("node"), sub.get("jid"), sub.get("subscription")) == (node, jid, "subscribed"), \
        f"§6.3.7 Example 68: {reply}"
    assert sub.get("subid"), f"a subid: {reply}"
    options = pubsub_child(reply, "options")
    assert options is not None, f"§6.3.7 Example 68: <options/> with the result: {reply}"
    return sub, options_of(options.find(f"{{{NS_DATA}}}x"), "result")


async def presence(client, show, witness=None):
    """Broadcast presence with this <show/>, then a round trip; `witness`, another resource of
    the account, waits until it sees that presence (RFC 6121 §4.4.2): the server has taken it in."""
    mark = len(witness.received) if witness else 0
    client.send_raw(f"<presence><show>{show}</show></presence>")
    await client.sync()
    if witness:
        await witness.wait_for(lambda s: isinstance(s, Presence) and s.xml.get("from") == client.boundjid.full
                               and s.xml.findtext(f"{{{NS_CLIENT}}}show") == show, f"{show} presence", start=mark)


# --- §6.3, §6.4, §6.5.4: discovery ----------------------------------------------------------------

def test_service_advertises_options_default_sub_rsm_and_collections_6_3_1_6_5_4(srv):
    async def body():
        alice = await connect(srv, "alice")
        info = await alice.query("get", SERVICE, f"<query xmlns='{NS_DISCO_INFO}'/>")
        assert info["type"] == "result", str(info)
        features = {f.get("var") for f in info.xml.iter(f"{{{NS_DISCO_INFO}}}feature")}
        assert FEATURES <= features, f"missing {sorted(FEATURES - features)}: {info}"

    run(body())


# --- §6.3: the options form ------------------------------------------------------------------------

def test_options_form_of_a_leaf_subscription_has_deliver_and_all_show_values_6_3_3(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        await subscribe(bob, node)
        fields = await get_options(bob, node)
        assert fields["pubsub#deliver"][0] == "boolean" and deliver(fields) is True, fields["pubsub#deliver"]
        type_, values, options = fields["pubsub#show-values"]
        assert type_ == "list-multi" and options == SHOWS, fields["pubsub#show-values"]
        assert set(values) == SHOWS and len(values) == 5, f"every show by default: {values}"
        # Collection-only options (XEP-0248 §6.1) are not on a leaf's form.
        assert not {"pubsub#subscription_type", "pubsub#subscription_depth"} & set(fields), sorted(fields)

    run(body())


def test_options_errors_6_3_4(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        node = new_node()
        await create(alice, node)
        sub = await subscribe(bob, node)
        await subscribe(carol, node)
        # §6.3.4.3: no subscriber JID.
        assert_pubsub_error(await try_options(bob, node, None), "modify", "bad-request", "jid-required")
        # §6.3.4.1: another account's subscription, read or written.
        assert_pubsub_error(await try_options(bob, node, "carol@localhost"), "auth", "forbidden")
        assert_pubsub_error(await set_options(bob, node, {"pubsub#deliver": "0"}, "carol@localhost"), "auth", "forbidden")
        assert deliver(await get_options(carol, node)) is True, "a refused set changes nothing"
        # §6.3.4.2: not subscribed (the owner is not a subscriber).
        assert_pubsub_error(await try_options(alice, node, "alice@localhost"), "modify", "unexpected-request", "not-subscribed")
        assert_pubsub_error(await set_options(alice, node, {"pubsub#deliver": "0"}), "modify", "unexpected-request",
                            "not-subscribed")
        # §6.3.4.5: a subid that is not the subscription's; the right one is accepted.
        wrong = await try_options(bob, node, "bob@localhost", " subid='not-a-subid'")
        assert_pubsub_error(wrong, "modify", "not-acceptable", "invalid-subid")
        right = await try_options(bob, node, "bob@localhost", f" subid='{sub.get('subid')}'")
        assert right["type"] == "result", str(right)
        # §6.3.4.7: no such node; and no node named at all.
        assert_pubsub_error(await try_options(bob, new_node(), "bob@localhost"), "cancel", "item-not-found")
        assert_pubsub_error(await try_options(bob, None, "bob@localhost"), "modify", "bad-request", "nodeid-required")

    run(body())


def test_submitted_options_are_applied_and_invalid_ones_change_nothing_6_3_5_6_3_6(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        await subscribe(bob, node)
        await set_options_ok(bob, node, {"pubsub#show-values": ["online", "chat"]})
        fields = await get_options(bob, node)
        assert sorted(fields["pubsub#show-values"][1]) == ["chat", "online"], fields["pubsub#show-values"]
        assert deliver(fields) is True, "what the form did not name is unchanged"
        # §6.3.6.2: an invalid group of options; a valid change in the same form is not applied.
        for bad in ({"pubsub#show-values": ["sleepy"]},
                    {"pubsub#deliver": "maybe"},
                    {"pubsub#show-values": ["away"], "pubsub#deliver": "maybe"}):
            assert_pubsub_error(await set_options(bob, node, bad), "modify", "bad-request", "invalid-options")
        fields = await get_options(bob, node)
        assert sorted(fields["pubsub#show-values"][1]) == ["chat", "online"] and deliver(fields) is True, fields

    run(body())


def test_deliver_false_stops_the_subscribers_notifications_6_3(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        node = new_node()
        await create(alice, node)
        await subscribe(bob, node)
        await subscribe(carol, node)
        await set_options_ok(bob, node, {"pubsub#deliver": "0"})
        assert deliver(await get_options(bob, node)) is False
        marks = {c: len(c.received) for c in (bob, carol)}
        await publish(alice, node, "i1")
        await carol.wait_for(notification(node, item="i1"), "carol's notification (the barrier)", start=marks[carol])
        await absent(bob, notification(node, item="i1"), marks[bob], "a notification with pubsub#deliver off")
        await set_options_ok(bob, node, {"pubsub#deliver": "1"})
        mark = len(bob.received)
        await publish(alice, node, "i2")
        await bob.wait_for(notification(node, item="i2"), "a notification with pubsub#deliver back on", start=mark)

    run(body())


def test_show_values_select_the_resources_by_their_presence_6_3(srv):
    async def body():
        alice, carol = await connect(srv, "alice"), await connect(srv, "carol")
        r1 = await connect(srv, "bob", "r1")  # available, no <show/>: 'online'
        r2 = await login(srv, "bob", resource="r2")
        await presence(r2, "dnd", r1)
        node = new_node()
        await create(alice, node)
        await subscribe_configured(r1, node, {"pubsub#show-values": ["online", "chat"]})
        marks = {c: len(c.received) for c in (r1, r2)}
        await publish(alice, node, "i1")
        await r1.wait_for(notification(node, item="i1"), "the notification at the 'online' resource", start=marks[r1])
        await absent(r2, notification(node, item="i1"), marks[r2], "a notification at a 'dnd' resource")
        # r2 now wants to chat: it is notified too.
        await presence(r2, "chat", r1)
        marks = {c: len(c.received) for c in (r1, r2)}
        await publish(alice, node, "i2")
        for r in (r1, r2):
            await r.wait_for(notification(node, item="i2"), "the notification at both resources", start=marks[r])
        # A full-JID subscription with show-values [dnd] while that resource is away: nothing.
        other = new_node()
        await create(alice, other)
        await subscribe(carol, other)
        await presence(r2, "away", r1)
        await subscribe_configured(r2, other, {"pubsub#show-values": ["dnd"]}, "bob@localhost/r2")
        marks = {c: len(c.received) for c in (r2, carol)}
        await publish(alice, other, "j1")
        await carol.wait_for(notification(other, item="j1"), "carol's notification (the barrier)", start=marks[carol])
        await absent(r2, notification(other, item="j1"), marks[r2], "a notification at an 'away' resource")
        # Do-not-disturb now: it is.
        await presence(r2, "dnd", r1)
        mark = len(r2.received)
        await publish(alice, other, "j2")
        await r2.wait_for(notification(other, to="bob@localhost/r2", item="j2"), "the notification when dnd", start=mark)

    run(body())


# --- §6.3.7: subscribe and configure ----------------------------------------------------------------

def test_subscribe_and_configure_in_one_request_6_3_7(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        node = new_node()
        await create(alice, node)
        sub, result = await subscribe_configured(bob, node, {"pubsub#deliver": "1", "pubsub#show-values": ["chat", "online"]})
        assert deliver(result) is True and shows(result) == {"chat", "online"}, result
        assert shows(await get_options(bob, node)) == {"chat", "online"}
        # The subscription is there: the options form is the subscription's (same subid).
        by_subid = await try_options(bob, node, "bob@localhost", f" subid='{sub.get('subid')}'")
        assert by_subid["type"] == "result", str(by_subid)
        # §6.3.7: <options/> next to <subscribe/> must not name a node; nothing is subscribed.
        reply = await carol.query("set", SERVICE, ps(f"<subscribe node='{node}' jid='carol@localhost'/>"
                                                     f"<options node='{node}'>{sub_form({'pubsub#deliver': '1'})}</options>"))
        assert_pubsub_error(reply, "modify", "bad-request")
        assert_pubsub_error(await try_options(carol, node, "carol@localhost"), "modify", "unexpected-request",
                            "not-subscribed")

    run(body())


# --- §6.4: default subscription options --------------------------------------------------------------

def test_default_subscription_options_of_the_service_and_of_a_node_6_4(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        for attrs, want_node in (("", None), (f" node='{node}'", node)):
            reply = await bob.query("get", SERVICE, ps(f"<default{attrs}/>"))
            assert reply["type"] == "result", f"§6.4.2: {reply}"
            default = pubsub_child(reply, "default")
            assert default is not None and default.get("node") == want_node, f"§6.4.2 Example 71: {reply}"
            fields = options_of(default.find(f"{{{NS_DATA}}}x"), "result")
            assert deliver(fields) is True, fields
        missing = await bob.query("get", SERVICE, ps(f"<default node='{new_node()}'/>"))
        assert_pubsub_error(missing, "cancel", "item-not-found")

    run(body())


# --- persistence --------------------------------------------------------------------------------------

def test_subscription_options_survive_a_restart(make_server):
    server = make_server(extra=PUBSUB_MODULES)
    for name in ("alice", "bob", "carol"):
        server.add_user(name)
    server.start()
    node = new_node()

    async def before():
        alice, bob, carol = await connect(server, "alice"), await connect(server, "bob"), await connect(server, "carol")
        await create(alice, node)
        await subscribe(carol, node)
        await subscribe(bob, node)
        await set_options_ok(bob, node, {"pubsub#deliver": "0", "pubsub#show-values": ["away", "xa"]})

    run(before())
    server.stop()
    server.start()

    async def after():
        alice, bob, carol = await connect(server, "alice"), await connect(server, "bob"), await connect(server, "carol")
        fields = await get_options(bob, node)
        assert deliver(fields) is False and shows(fields) == {"away", "xa"}, fields
        marks = {c: len(c.received) for c in (bob, carol)}
        await publish(alice, node, "i1")
        await carol.wait_for(notification(node, item="i1"), "carol's notification (the barrier)", start=marks[carol])
        await absent(bob, notification(node, item="i1"), marks[bob], "a notification with pubsub#deliver off")

    run(after())


# --- §6.5.4: Result Set Management ---------------------------------------------------------------------

IDS = [f"i{n:02}" for n in range(1, 26)]


async def node_of_25(srv):
    alice = await connect(srv, "alice")
    node = new_node()
    await create_configured(alice, node, {"pubsub#max_items": "100"})
    for ident in IDS:
        await publish(alice, node, ident, entry(ident))
    return alice, node


async def try_page(client, node, rsm, inside=False):
    """An items request with an RSM <set/> next to <items/> (or, `inside`, in it)."""
    rsm_set = f"<set xmlns='{NS_RSM}'>{rsm}</set>"
    request = f"<items node='{node}'>{rsm_set}</items>" if inside else f"<items node='{node}'/>{rsm_set}"
    return await client.query("get", SERVICE, ps(request))


async def page(client, node, rsm, inside=False):
    """(item ids in order, <set/> of the reply as {first, index, last, count}) of a paged request."""
    reply = await try_page(client, node, rsm, inside)
    assert reply["type"] == "result", f"§6.5.4: {rsm}: {reply}"
    items = pubsub_child(reply, "items")
    ids = [] if items is None else [i.get("id") for i in items.findall(f"{{{NS_PUBSUB}}}item")]
    rsm_set = reply.xml.find(f"{{{NS_PUBSUB}}}pubsub/{{{NS_RSM}}}set")
    assert rsm_set is not None, f"§6.5.4 Example 76: <set/> next to <items/>: {reply}"
    first = rsm_set.find(f"{{{NS_RSM}}}first")
    got = {"first": None if first is None else first.text, "index": None if first is None else first.get("index"),
           "last": rsm_set.findtext(f"{{{NS_RSM}}}last"), "count": rsm_set.findtext(f"{{{NS_RSM}}}count")}
    return ids, got


def test_rsm_pages_forward_and_backward_6_5_4(srv):
    async def body():
        alice, node = await node_of_25(srv)
        for inside in (False, True):
            ids, got = await page(alice, node, "<max>10</max>", inside)
            assert ids == IDS[:10], ids
            assert got == {"first": "i01", "index": "0", "last": "i10", "count": "25"}, got
        ids, got = await page(alice, node, "<max>10</max><after>i10</after>")
        assert ids == IDS[10:20] and got == {"first": "i11", "index": "10", "last": "i20", "count": "25"}, (ids, got)
        ids, got = await page(alice, node, "<max>10</max><after>i20</after>")
        assert ids == IDS[20:] and got == {"first": "i21", "index": "20", "last": "i25", "count": "25"}, (ids, got)
        # Forward by 7, from the start: every item once, in order.
        seen, after = [], ""
        for _ in range(10):
            ids, got = await page(alice, node, f"<max>7</max>{after}")
            assert ids and ids[0] == got["first"] and ids[-1] == got["last"] and got["index"] == str(len(seen)), (ids, got)
            seen += ids
            if len(seen) >= int(got["count"]):
                break
            after = f"<after>{got['last']}</after>"
        assert seen == IDS, seen
        # XEP-0059 §2.5: an empty <before/> is the last page; then back from it.
        ids, got = await page(alice, node, "<max>10</max><before/>")
        assert ids == IDS[15:] and got == {"first": "i16", "index": "15", "last": "i25", "count": "25"}, (ids, got)
        ids, got = await page(alice, node, "<max>5</max><before>i16</before>")
        assert ids == IDS[10:15] and got == {"first": "i11", "index": "10", "last": "i15", "count": "25"}, (ids, got)

    run(body())


def test_rsm_count_only_unknown_uid_and_no_set_6_5_4(srv):
    async def body():
        alice, node = await node_of_25(srv)
        # XEP-0059 §2.7: max 0 is the count alone, an empty page has no <first/> or <last/> (§2.1).
        ids, got = await page(alice, node, "<max>0</max>")
        assert ids == [] and got == {"first": None, "index": None, "last": None, "count": "25"}, (ids, got)
        # XEP-0059 §2.4: no such item to page from.
        assert_pubsub_error(await try_page(alice, node, "<max>10</max><after>unknown-id</after>"), "cancel", "item-not-found")
        # Without <set/>: every item, and no <set/> in the reply.
        reply = await alice.query("get", SERVICE, ps(f"<items node='{node}'/>"))
        assert reply["type"] == "result", str(reply)
        assert reply.xml.find(f"{{{NS_PUBSUB}}}pubsub/{{{NS_RSM}}}set") is None, f"no <set/> unasked: {reply}"
        assert set(await get_items(alice, node)) == set(IDS)

    run(body())
