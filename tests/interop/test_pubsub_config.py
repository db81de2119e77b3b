"""XEP-0060 Publish-Subscribe, second slice, over the wire with slixmpp: node configuration
(§8.2) with its notifications (§8.2.5.3), the default configuration (§8.3), create-and-configure
(§8.1.3), pubsub#max_items from the configuration, the access models open, presence and
whitelist (§4.5, §6.1.3.2, §6.1.3.4, §6.5.9), the publish models (publishers, subscribers,
open), the owner's management of affiliations (§8.9) and subscriptions (§8.8), and persistence
of configuration and affiliations across a restart.

As in test_pubsub.py: stanzas are sent raw, all tests but the restart one share one server, each
test uses nodes of its own (uuid), errors are checked exactly (type, the one defined condition
and, where XEP-0060 names one, the 'http://jabber.org/protocol/pubsub#errors' condition), and a
check that something does NOT arrive waits QUIET seconds after a positive barrier."""
import pytest
from slixmpp.stanza import Message, Presence

from conftest import Server
from test_muc import NS_DISCO_INFO, absent
from test_pubsub import (NS_EVENT, NS_OWNER, NS_PUBSUB, NS_TEST, PUBSUB_MODULES, SERVICE, assert_pubsub_error,
                         connect, create, entry, event, get_items, new_node, notification, payload_text, ps,
                         ps_owner, publish, pubsub_child, subscribe)
from xmpp_client import run

NS_DATA = "jabber:x:data"
NODE_CONFIG = NS_PUBSUB + "#node_config"
USERS = ("alice", "bob", "carol", "dave")

SLICE2_FEATURES = {f"{NS_PUBSUB}#{f}" for f in (
    "config-node", "create-and-configure", "retrieve-default", "manage-subscriptions",
    "modify-affiliations", "publisher-affiliation", "member-affiliation", "outcast-affiliation",
    "access-authorize", "access-presence", "access-roster", "access-whitelist")}

# The fields the slice serves, with their type and default value (booleans normalised, below).
DEFAULTS = {
    "pubsub#title": ("text-single", None),
    "pubsub#description": (None, None),
    "pubsub#max_items": ("text-single", "10"),
    "pubsub#deliver_payloads": ("boolean", True),
    "pubsub#notify_retract": ("boolean", True),
    "pubsub#notify_config": ("boolean", False),
    "pubsub#notify_delete": ("boolean", True),
    "pubsub#access_model": ("list-single", "open"),
    "pubsub#publish_model": ("list-single", "publishers"),
    "pubsub#persist_items": ("boolean", True),
    "pubsub#send_last_published_item": ("list-single", "never"),
    "pubsub#roster_groups_allowed": ("list-multi", None),
}
OPTIONS = {
    "pubsub#access_model": {"open", "presence", "roster", "authorize", "whitelist"},
    "pubsub#publish_model": {"publishers", "subscribers", "open"},
    "pubsub#send_last_published_item": {"never", "on_sub", "on_sub_and_presence"},
}


@pytest.fixture(scope="module")
def config_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("starling-pubsub-config"), extra=PUBSUB_MODULES)
    for name in USERS:
        s.add_user(name)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def srv(config_server):
    yield config_server
    assert config_server.alive(), "the server died during the test:\n" + config_server.log()[-4000:]


# --- data forms ------------------------------------------------------------------------------

def boolean(value):
    """XEP-0004 §3.3: a boolean is '0'/'false' or '1'/'true'."""
    assert value in ("0", "1", "true", "false"), f"not a XEP-0004 boolean: {value!r}"
    return value in ("1", "true")


def parse_form(x):
    """{var: (type, [values], {options})} of a jabber:x:data form."""
    assert x is not None, "no data form"
    fields = {}
    for f in x.findall(f"{{{NS_DATA}}}field"):
        assert f.get("var") not in fields, f"field {f.get('var')} twice"
        fields[f.get("var")] = (f.get("type"),
                                [v.text or "" for v in f.findall(f"{{{NS_DATA}}}value")],
                                {o.findtext(f"{{{NS_DATA}}}value") for o in f.findall(f"{{{NS_DATA}}}option")})
    return fields


def value(fields, var):
    """The single value of a field, booleans as bool; None for no value."""
    assert var in fields, f"no field {var}: {sorted(fields)}"
    type_, values, _ = fields[var]
    assert len(values) <= 1, f"{var}: {values}"
    if not values:
        return None
    return boolean(values[0]) if type_ == "boolean" else values[0]


def assert_node_config_form(x, form_type="form"):
    """A form of `form_type` with the hidden FORM_TYPE pubsub#node_config and every field of the
    slice, typed as DEFAULTS says, the lists offering exactly OPTIONS; returns parse_form(x)."""
    assert x.get("type") == form_type, f"want a form of type {form_type}: {x.get('type')}"
    fields = parse_form(x)
    assert fields.get("FORM_TYPE", (None, None))[:2] == ("hidden", [NODE_CONFIG]), f"FORM_TYPE: {fields.get('FORM_TYPE')}"
    for var, (type_, _) in DEFAULTS.items():
        assert var in fields, f"field {var} missing: {sorted(fields)}"
        if type_ is not None:
            assert fields[var][0] == type_, f"{var} is {fields[var][0]}, want {type_}"
    for var, options in OPTIONS.items():
        assert fields[var][2] == options, f"{var} offers {fields[var][2]}, want {options}"
    return fields


def form(fields, type_="submit", form_type=True):
    """A jabber:x:data form of `type_` with FORM_TYPE and the given {var: value} fields."""
    inner = f"<field var='FORM_TYPE' type='hidden'><value>{NODE_CONFIG}</value></field>" if form_type else ""
    for var, v in fields.items():
        inner += f"<field var='{var}'><value>{v}</value></field>"
    return f"<x xmlns='{NS_DATA}' type='{type_}'>{inner}</x>"


# --- owner requests ----------------------------------------------------------------------------

async def get_config(client, node):
    """The owner's configuration form of `node` (§8.2.2) as parse_form."""
    reply = await client.query("get", SERVICE, ps_owner(f"<configure node='{node}'/>"))
    assert reply["type"] == "result", f"§8.2.2: configuration of {node}: {reply}"
    configure = pubsub_child(reply, "configure", NS_OWNER)
    assert configure is not None and configure.get("node") == node, f"§8.2.2 Example 140: {reply}"
    return assert_node_config_form(configure.find(f"{{{NS_DATA}}}x"))


async def configure(client, node, fields, type_="submit"):
    return await client.query("set", SERVICE, ps_owner(f"<configure node='{node}'>{form(fields, type_)}</configure>"))


async def configure_ok(client, node, fields):
    reply = await configure(client, node, fields)
    assert reply["type"] == "result", f"§8.2.5.1: configuring {node} with {fields}: {reply}"


async def create_configured(client, node, fields):
    reply = await client.query("set", SERVICE, ps(f"<create node='{node}'/><configure>{form(fields)}</configure>"))
    assert reply["type"] == "result", f"§8.1.3: create-and-configure {node} with {fields}: {reply}"


async def get_affiliations(client, node):
    """{jid: affiliation} of the owner's affiliations list (§8.9.1.2)."""
    reply = await client.query("get", SERVICE, ps_owner(f"<affiliations node='{node}'/>"))
    assert reply["type"] == "result", f"§8.9.1.2: affiliations of {node}: {reply}"
    affs = pubsub_child(reply, "affiliations", NS_OWNER)
    assert affs is not None and affs.get("node") == node, f"§8.9.1.2 Example 198: {reply}"
    found = [(a.get("jid"), a.get("affiliation")) for a in affs.findall(f"{{{NS_OWNER}}}affiliation")]
    assert len({j for j, _ in found}) == len(found), f"one entry per JID: {reply}"
    return dict(found)


def affiliations_xml(node, pairs):
    inner = "".join(f"<affiliation jid='{j}' affiliation='{a}'/>" for j, a in pairs)
    return ps_owner(f"<affiliations node='{node}'>{inner}</affiliations>")


async def set_affiliations(client, node, *pairs):
    return await client.query("set", SERVICE, affiliations_xml(node, pairs))


async def set_affiliations_ok(client, node, *pairs):
    reply = await set_affiliations(client, node, *pairs)
    assert reply["type"] == "result", f"§8.9.2.2: setting {pairs} on {node}: {reply}"


async def get_subscriptions(client, node):
    """[(jid, subscription, subid)] of the owner's subscriptions list (§8.8.1.2)."""
    reply = await client.query("get", SERVICE, ps_owner(f"<subscriptions node='{node}'/>"))
    assert reply["type"] == "result", f"§8.8.1.2: subscriptions of {node}: {reply}"
    subs = pubsub_child(reply, "subscriptions", NS_OWNER)
    assert subs is not None and subs.get("node") == node, f"§8.8.1.2 Example 185: {reply}"
    return [(s.get("jid"), s.get("subscription"), s.get("subid")) for s in subs.findall(f"{{{NS_OWNER}}}subscription")]


async def set_subscriptions(client, node, *pairs):
    inner = "".join(f"<subscription jid='{j}' subscription='{s}'/>" for j, s in pairs)
    return await client.query("set", SERVICE, ps_owner(f"<subscriptions node='{node}'>{inner}</subscriptions>"))


async def own_subscriptions(client, node):
    """The entity's own subscriptions to `node` (§5.6) as [(jid, subscription)]."""
    reply = await client.query("get", SERVICE, ps(f"<subscriptions node='{node}'/>"))
    assert reply["type"] == "result", f"§5.6: {reply}"
    subs = pubsub_child(reply, "subscriptions")
    assert subs is not None, f"§5.6 Example 18: {reply}"
    return [(s.get("jid"), s.get("subscription")) for s in subs.findall(f"{{{NS_PUBSUB}}}subscription")
            if s.get("node") in (None, node)]


async def try_publish(client, node, item_id):
    return await client.query("set", SERVICE, ps(f"<publish node='{node}'><item id='{item_id}'>{entry(item_id)}</item></publish>"))


async def try_subscribe(client, node):
    return await client.query("set", SERVICE, ps(f"<subscribe node='{node}' jid='{client.boundjid.bare}'/>"))


async def try_items(client, node):
    return await client.query("get", SERVICE, ps(f"<items node='{node}'/>"))


def config_event(node, to=None):
    """A configuration-change notification (§8.2.5.3) about `node`."""
    def match(s):
        ev = event(s)
        return (ev is not None and s.xml.get("from") == SERVICE and (to is None or s.xml.get("to") == to)
                and any(c.get("node") == node for c in ev.findall(f"{{{NS_EVENT}}}configuration")))
    return match


# --- §5: discovery -----------------------------------------------------------------------------

def test_service_disco_info_lists_the_slice_2_features(srv):
    async def body():
        alice = await connect(srv, "alice")
        info = await alice.query("get", SERVICE, f"<query xmlns='{NS_DISCO_INFO}'/>")
        assert info["type"] == "result", str(info)
        features = {f.get("var") for f in info.xml.iter(f"{{{NS_DISCO_INFO}}}feature")}
        assert SLICE2_FEATURES <= features, f"missing {sorted(SLICE2_FEATURES - features)}: {info}"

    run(body())


def test_publish_options_are_advertised_and_are_preconditions_7_1_5(srv):
    """§7.1.5: the feature is advertised; each field of <publish-options/> is a precondition
    on the node's configuration: met, the item is published; not met, conflict with
    <precondition-not-met/> and nothing is stored."""
    async def body():
        alice = await connect(srv, "alice")
        info = await alice.query("get", SERVICE, f"<query xmlns='{NS_DISCO_INFO}'/>")
        features = {f.get("var") for f in info.xml.iter(f"{{{NS_DISCO_INFO}}}feature")}
        assert f"{NS_PUBSUB}#publish-options" in features, str(info)
        node = new_node()
        await create(alice, node)

        def with_options(item_id, access_model):
            return ps(f"<publish node='{node}'><item id='{item_id}'>{entry(item_id)}</item></publish>"
                      "<publish-options><x xmlns='jabber:x:data' type='submit'>"
                      f"<field var='FORM_TYPE' type='hidden'><value>{NS_PUBSUB}#publish-options</value></field>"
                      f"<field var='pubsub#access_model'><value>{access_model}</value></field></x></publish-options>")

        met = await alice.query("set", SERVICE, with_options("met", "open"))
        assert met["type"] == "result", str(met)
        unmet = await alice.query("set", SERVICE, with_options("unmet", "whitelist"))
        assert_pubsub_error(unmet, "cancel", "conflict", "precondition-not-met")
        assert set(await get_items(alice, node)) == {"met"}

    run(body())


# --- §8.2: configuring a node --------------------------------------------------------------------

def test_configuration_form_has_the_fields_and_the_defaults_8_2_2(srv):
    async def body():
        alice = await connect(srv, "alice")
        node = new_node()
        await create(alice, node)
        fields = await get_config(alice, node)
        for var, (_, default) in DEFAULTS.items():
            if default is not None:
                assert value(fields, var) == default, f"{var}: {fields[var]}, want {default!r}"

    run(body())


def test_configuration_by_a_non_owner_is_forbidden_and_of_a_missing_node_item_not_found_8_2_3(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        await subscribe(bob, node)  # a subscriber is no owner
        got = await bob.query("get", SERVICE, ps_owner(f"<configure node='{node}'/>"))
        assert_pubsub_error(got, "auth", "forbidden")
        refused = await configure(bob, node, {"pubsub#title": "bob was here", "pubsub#publish_model": "open"})
        assert_pubsub_error(refused, "auth", "forbidden")
        fields = await get_config(alice, node)
        assert value(fields, "pubsub#title") in (None, ""), f"a refused set changes nothing: {fields['pubsub#title']}"
        assert value(fields, "pubsub#publish_model") == "publishers"
        assert_pubsub_error(await try_publish(bob, node, "b1"), "auth", "forbidden")
        missing = new_node()
        got = await alice.query("get", SERVICE, ps_owner(f"<configure node='{missing}'/>"))
        assert_pubsub_error(got, "cancel", "item-not-found")
        assert_pubsub_error(await configure(alice, missing, {"pubsub#title": "x"}), "cancel", "item-not-found")
        # Configuring it did not create it.
        assert_pubsub_error(await try_items(alice, missing), "cancel", "item-not-found")

    run(body())


def test_a_submitted_configuration_is_applied_and_shown_8_2_5(srv):
    async def body():
        alice = await connect(srv, "alice")
        node = new_node()
        await create(alice, node)
        wanted = {"pubsub#title": "Princely Musings", "pubsub#description": "thoughts", "pubsub#max_items": "5",
                  "pubsub#deliver_payloads": "0", "pubsub#notify_retract": "0", "pubsub#notify_config": "1",
                  "pubsub#notify_delete": "0", "pubsub#access_model": "whitelist", "pubsub#publish_model": "open"}
        await configure_ok(alice, node, wanted)
        fields = await get_config(alice, node)
        for var, v in wanted.items():
            want = boolean(v) if DEFAULTS[var][0] == "boolean" else v
            assert value(fields, var) == want, f"{var}: {fields[var]}, want {want!r}"
        # And back: another submit changes them again.
        await configure_ok(alice, node, {"pubsub#access_model": "presence", "pubsub#max_items": "7",
                                         "pubsub#deliver_payloads": "1"})
        fields = await get_config(alice, node)
        assert (value(fields, "pubsub#access_model"), value(fields, "pubsub#max_items"),
                value(fields, "pubsub#deliver_payloads")) == ("presence", "7", True), fields

    run(body())


def test_booleans_may_be_submitted_as_true_and_false_xep_0004(srv):
    """XEP-0004 §3.3: a boolean field's value is '0'/'false' or '1'/'true'."""
    async def body():
        alice = await connect(srv, "alice")
        node = new_node()
        await create(alice, node)
        await configure_ok(alice, node, {"pubsub#notify_retract": "false", "pubsub#notify_config": "true"})
        fields = await get_config(alice, node)
        assert (value(fields, "pubsub#notify_retract"), value(fields, "pubsub#notify_config")) == (False, True), fields

    run(body())


@pytest.mark.parametrize("var,bad", [
    ("pubsub#max_items", "ten"),
    ("pubsub#access_model", "closed"),
    ("pubsub#send_last_published_item", "sometimes"),
    ("pubsub#persist_items", "perhaps"),
    ("pubsub#publish_model", "anyone"),
])
def test_a_value_out_of_range_is_not_acceptable_and_changes_nothing_8_2_5_2(srv, var, bad):
    async def body():
        alice = await connect(srv, "alice")
        node = new_node()
        await create(alice, node)
        # A valid change in the same form is not applied either.
        reply = await configure(alice, node, {"pubsub#title": "changed?", "pubsub#max_items": "4", var: bad}
                                if var != "pubsub#max_items" else {"pubsub#title": "changed?", var: bad})
        assert_pubsub_error(reply, "modify", "not-acceptable")
        fields = await get_config(alice, node)
        assert value(fields, "pubsub#title") in (None, ""), f"nothing changed: {fields['pubsub#title']}"
        for v, (_, default) in DEFAULTS.items():
            if default is not None:
                assert value(fields, v) == default, f"nothing changed: {v} is {fields[v]}"

    run(body())


def test_a_cancelled_form_changes_nothing_8_2_4(srv):
    async def body():
        alice = await connect(srv, "alice")
        node = new_node()
        await create(alice, node)
        reply = await configure(alice, node, {"pubsub#title": "never", "pubsub#max_items": "2",
                                              "pubsub#access_model": "whitelist"}, type_="cancel")
        assert reply["type"] == "result", f"§8.2.4 Example 147: {reply}"
        fields = await get_config(alice, node)
        assert value(fields, "pubsub#title") in (None, ""), fields["pubsub#title"]
        assert (value(fields, "pubsub#max_items"), value(fields, "pubsub#access_model")) == ("10", "open"), fields

    run(body())


def test_notify_config_sends_subscribers_a_configuration_event_8_2_5_3(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        node = new_node()
        await create(alice, node)
        await subscribe(bob, node)
        # notify_config is off by default: a change notifies nobody. The item published after it
        # is the barrier (the notification would have come first).
        mark = len(bob.received)
        await configure_ok(alice, node, {"pubsub#title": "quiet change"})
        await publish(alice, node, "i1")
        await bob.wait_for(notification(node, item="i1"), "the barrier notification", start=mark)
        await absent(bob, config_event(node), mark, "a configuration event with notify_config off")
        # On: after the change that turns it on (whether that one notifies is not checked), every
        # change notifies the subscribers, and only them.
        await configure_ok(alice, node, {"pubsub#notify_config": "1"})
        await publish(alice, node, "i2")
        await bob.wait_for(notification(node, item="i2"), "the barrier notification", start=mark)
        marks = {c: len(c.received) for c in (alice, bob, carol)}
        await configure_ok(alice, node, {"pubsub#title": "loud change"})
        got = await bob.wait_for(config_event(node, to="bob@localhost"), "the configuration event", start=marks[bob])
        assert isinstance(got, Message), str(got)
        confs = event(got).findall(f"{{{NS_EVENT}}}configuration")
        assert len(confs) == 1 and confs[0].get("node") == node, f"§8.2.5.3 Example 150: {got}"
        for c in (alice, carol):
            await absent(c, config_event(node), marks[c], "a configuration event without a subscription")

    run(body())


# --- §8.3: default configuration -------------------------------------------------------------------

def test_default_configuration_has_the_fields_and_defaults_8_3(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        # A configured node does not change the defaults.
        node = new_node()
        await create(alice, node)
        await configure_ok(alice, node, {"pubsub#max_items": "3", "pubsub#access_model": "whitelist"})
        for who in (alice, bob):
            reply = await who.query("get", SERVICE, ps_owner("<default/>"))
            assert reply["type"] == "result", f"§8.3.3: {reply}"
            default = pubsub_child(reply, "default", NS_OWNER)
            assert default is not None, f"§8.3.3 Example 154: {reply}"
            fields = assert_node_config_form(default.find(f"{{{NS_DATA}}}x"))
            for var, (_, want) in DEFAULTS.items():
                if want is not None:
                    assert value(fields, var) == want, f"{var}: {fields[var]}, want {want!r}"

    run(body())


# --- §8.1.3: create and configure -------------------------------------------------------------------

def test_create_and_configure_applies_the_configuration_8_1_3(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create_configured(alice, node, {"pubsub#title": "made so", "pubsub#access_model": "whitelist",
                                              "pubsub#max_items": "3"})
        fields = await get_config(alice, node)
        assert (value(fields, "pubsub#title"), value(fields, "pubsub#access_model"),
                value(fields, "pubsub#max_items")) == ("made so", "whitelist", "3"), fields
        assert value(fields, "pubsub#publish_model") == "publishers", "what the form did not name is the default"
        assert await get_affiliations(alice, node) == {"alice@localhost": "owner"}
        # The configuration is in force: bob, unaffiliated, finds the node closed.
        assert_pubsub_error(await try_subscribe(bob, node), "cancel", "not-allowed", "closed-node")

    run(body())


@pytest.mark.parametrize("var,bad", [("pubsub#max_items", "lots"), ("pubsub#access_model", "closed")])
def test_create_and_configure_with_a_bad_value_creates_nothing_8_1_3(srv, var, bad):
    async def body():
        alice = await connect(srv, "alice")
        node = new_node()
        reply = await alice.query("set", SERVICE, ps(f"<create node='{node}'/><configure>{form({var: bad})}</configure>"))
        assert_pubsub_error(reply, "modify", "not-acceptable")
        assert_pubsub_error(await try_items(alice, node), "cancel", "item-not-found")
        got = await alice.query("get", SERVICE, ps_owner(f"<configure node='{node}'/>"))
        assert_pubsub_error(got, "cancel", "item-not-found")
        await create(alice, node)  # the name is still free

    run(body())


# --- pubsub#max_items ------------------------------------------------------------------------------

def test_max_items_from_the_configuration_keeps_the_newest(srv):
    async def body():
        alice = await connect(srv, "alice")
        node = new_node()
        await create_configured(alice, node, {"pubsub#max_items": "3"})
        for i in range(1, 5):
            await publish(alice, node, f"i{i}", entry(f"p{i}"))
        items = await get_items(alice, node)
        assert set(items) == {"i2", "i3", "i4"}, f"the 4th publish drops the oldest: {list(items)}"
        # Lowering it drops the oldest of those kept.
        await configure_ok(alice, node, {"pubsub#max_items": "2"})
        items = await get_items(alice, node)
        assert set(items) == {"i3", "i4"}, f"lowered to 2: {list(items)}"
        assert payload_text(items["i4"]) == "p4"
        # Raising it lets more accumulate.
        await configure_ok(alice, node, {"pubsub#max_items": "4"})
        for i in range(5, 8):
            await publish(alice, node, f"i{i}", entry(f"p{i}"))
        assert set(await get_items(alice, node)) == {"i4", "i5", "i6", "i7"}

    run(body())


# --- §4.5: access models -----------------------------------------------------------------------------

def test_whitelist_refuses_the_unaffiliated_and_admits_members_6_1_3_4(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        node = new_node()
        await create(alice, node)
        await configure_ok(alice, node, {"pubsub#access_model": "whitelist"})
        await publish(alice, node, "i1", entry("secret"))
        for who in (bob, carol):
            assert_pubsub_error(await try_subscribe(who, node), "cancel", "not-allowed", "closed-node")
            assert_pubsub_error(await try_items(who, node), "cancel", "not-allowed", "closed-node")
        assert set(await get_items(alice, node)) == {"i1"}, "the owner may retrieve"
        await set_affiliations_ok(alice, node, ("bob@localhost", "member"))
        assert (await get_affiliations(alice, node)).get("bob@localhost") == "member"
        assert set(await get_items(bob, node)) == {"i1"}
        await subscribe(bob, node)
        marks = {c: len(c.received) for c in (bob, carol)}
        await publish(alice, node, "i2", entry("for members"))
        await bob.wait_for(notification(node, to="bob@localhost", item="i2"), "the member's notification",
                           start=marks[bob])
        await absent(carol, notification(node, item="i2"), marks[carol], "a notification from a whitelist node")
        # carol is still refused; a member is no publisher.
        assert_pubsub_error(await try_subscribe(carol, node), "cancel", "not-allowed", "closed-node")
        assert_pubsub_error(await try_items(carol, node), "cancel", "not-allowed", "closed-node")
        assert_pubsub_error(await try_publish(bob, node, "b1"), "auth", "forbidden")

    run(body())


def test_presence_access_needs_a_presence_subscription_to_the_owner_6_1_3_2(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        for c in (alice, bob, carol):  # no automatic answers from slixmpp: the test says what is sent
            c.auto_authorize = None
            c.auto_subscribe = False
        node = new_node()
        await create(alice, node)
        await configure_ok(alice, node, {"pubsub#access_model": "presence"})
        await publish(alice, node, "i1", entry("for friends"))
        for who in (bob, carol):
            assert_pubsub_error(await try_subscribe(who, node), "auth", "not-authorized", "presence-subscription-required")
            assert_pubsub_error(await try_items(who, node), "auth", "not-authorized", "presence-subscription-required")
        assert set(await get_items(alice, node)) == {"i1"}, "the owner may retrieve"
        # A pending request is no subscription.
        mark = len(alice.received)
        bob.send_raw("<presence type='subscribe' to='alice@localhost'/>")
        await alice.wait_for(lambda s: isinstance(s, Presence) and s.xml.get("type") == "subscribe"
                             and s.xml.get("from", "").startswith("bob@localhost"), "bob's request", start=mark)
        assert_pubsub_error(await try_items(bob, node), "auth", "not-authorized", "presence-subscription-required")
        mark = len(bob.received)
        alice.send_raw("<presence type='subscribed' to='bob@localhost'/>")
        await bob.wait_for(lambda s: isinstance(s, Presence) and s.xml.get("type") == "subscribed"
                           and s.xml.get("from", "").startswith("alice@localhost"), "the approval", start=mark)
        # alice's presence reaching bob shows the server has recorded the subscription.
        await bob.wait_for(lambda s: isinstance(s, Presence) and s.xml.get("type") in (None, "available")
                           and s.xml.get("from", "").startswith("alice@localhost/"), "alice's presence", start=mark)
        assert set(await get_items(bob, node)) == {"i1"}
        await subscribe(bob, node)
        marks = {c: len(c.received) for c in (bob, carol)}
        await publish(alice, node, "i2")
        await bob.wait_for(notification(node, to="bob@localhost", item="i2"), "the notification", start=marks[bob])
        await absent(carol, notification(node, item="i2"), marks[carol], "a notification without a presence subscription")
        assert_pubsub_error(await try_subscribe(carol, node), "auth", "not-authorized", "presence-subscription-required")
        assert_pubsub_error(await try_items(carol, node), "auth", "not-authorized", "presence-subscription-required")

    run(body())


def test_back_to_open_access_admits_anyone_4_5(srv):
    async def body():
        alice, dave = await connect(srv, "alice"), await connect(srv, "dave")
        node = new_node()
        await create_configured(alice, node, {"pubsub#access_model": "whitelist"})
        await publish(alice, node, "i1")
        assert_pubsub_error(await try_items(dave, node), "cancel", "not-allowed", "closed-node")
        await configure_ok(alice, node, {"pubsub#access_model": "open"})
        assert set(await get_items(dave, node)) == {"i1"}
        await subscribe(dave, node)

    run(body())


# --- publish models ---------------------------------------------------------------------------------

def test_publish_model_subscribers_lets_subscribers_publish(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        node = new_node()
        await create_configured(alice, node, {"pubsub#publish_model": "subscribers"})
        assert_pubsub_error(await try_publish(bob, node, "b0"), "auth", "forbidden")
        await subscribe(bob, node)
        await publish(bob, node, "b1", entry("from a subscriber"))
        assert_pubsub_error(await try_publish(carol, node, "c1"), "auth", "forbidden")
        await publish(alice, node, "a1")  # the owner still may
        assert set(await get_items(carol, node)) == {"b1", "a1"}, "refused publishes store nothing"

    run(body())


def test_publish_model_open_lets_anyone_publish_and_publishers_only_the_owner(srv):
    async def body():
        alice, carol = await connect(srv, "alice"), await connect(srv, "carol")
        node = new_node()
        await create_configured(alice, node, {"pubsub#publish_model": "open"})
        await publish(carol, node, "c1", entry("from anyone"))
        assert payload_text((await get_items(alice, node))["c1"]) == "from anyone"
        await configure_ok(alice, node, {"pubsub#publish_model": "publishers"})
        assert_pubsub_error(await try_publish(carol, node, "c2"), "auth", "forbidden")
        assert set(await get_items(alice, node)) == {"c1"}

    run(body())


# --- §8.9: affiliations ----------------------------------------------------------------------------

def test_owner_lists_and_sets_affiliations_publisher_and_none_8_9(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        assert await get_affiliations(alice, node) == {"alice@localhost": "owner"}
        assert_pubsub_error(await try_publish(bob, node, "b0"), "auth", "forbidden")
        await set_affiliations_ok(alice, node, ("bob@localhost", "publisher"))
        assert await get_affiliations(alice, node) == {"alice@localhost": "owner", "bob@localhost": "publisher"}
        await publish(bob, node, "b1", entry("by a publisher"))
        # §5.7: bob sees his affiliation too.
        mine = await bob.query("get", SERVICE, ps(f"<affiliations node='{node}'/>"))
        assert mine["type"] == "result", str(mine)
        assert [(a.get("node"), a.get("affiliation")) for a in mine.xml.iter(f"{{{NS_PUBSUB}}}affiliation")
                if a.get("node") == node] == [(node, "publisher")], str(mine)
        # A publisher is no owner.
        assert_pubsub_error(await bob.query("get", SERVICE, ps_owner(f"<configure node='{node}'/>")), "auth", "forbidden")
        # §8.9.3: 'none' removes the entry.
        await set_affiliations_ok(alice, node, ("bob@localhost", "none"))
        assert await get_affiliations(alice, node) == {"alice@localhost": "owner"}
        assert_pubsub_error(await try_publish(bob, node, "b2"), "auth", "forbidden")
        assert set(await get_items(alice, node)) == {"b1"}

    run(body())


def test_an_outcast_loses_its_subscription_and_is_refused_8_9(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        node = new_node()
        await create(alice, node)
        await subscribe(bob, node)
        await subscribe(carol, node)
        await publish(alice, node, "i1")
        await set_affiliations_ok(alice, node, ("bob@localhost", "outcast"))
        assert await get_affiliations(alice, node) == {"alice@localhost": "owner", "bob@localhost": "outcast"}
        assert [s[0] for s in await get_subscriptions(alice, node)] == ["carol@localhost"], "bob's subscription is gone"
        marks = {c: len(c.received) for c in (bob, carol)}
        await publish(alice, node, "i2")
        await carol.wait_for(notification(node, item="i2"), "carol's notification", start=marks[carol])
        await absent(bob, notification(node, item="i2"), marks[bob], "a notification for an outcast")
        assert_pubsub_error(await try_subscribe(bob, node), "auth", "forbidden")
        assert_pubsub_error(await try_items(bob, node), "auth", "forbidden")
        assert_pubsub_error(await try_publish(bob, node, "b1"), "auth", "forbidden")
        assert [s[0] for s in await get_subscriptions(alice, node)] == ["carol@localhost"], "the refused subscribe added nothing"
        # Back to none: an open node admits him again.
        await set_affiliations_ok(alice, node, ("bob@localhost", "none"))
        assert set(await get_items(bob, node)) == {"i1", "i2"}
        await subscribe(bob, node)

    run(body())


def test_affiliations_by_a_non_owner_are_forbidden_and_of_a_missing_node_item_not_found_8_9_1_3(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        await set_affiliations_ok(alice, node, ("bob@localhost", "publisher"))
        got = await bob.query("get", SERVICE, ps_owner(f"<affiliations node='{node}'/>"))
        assert_pubsub_error(got, "auth", "forbidden")
        for pairs in ((("bob@localhost", "owner"),), (("alice@localhost", "none"),), (("carol@localhost", "publisher"),)):
            assert_pubsub_error(await set_affiliations(bob, node, *pairs), "auth", "forbidden")
        assert await get_affiliations(alice, node) == {"alice@localhost": "owner", "bob@localhost": "publisher"}
        missing = new_node()
        got = await alice.query("get", SERVICE, ps_owner(f"<affiliations node='{missing}'/>"))
        assert_pubsub_error(got, "cancel", "item-not-found")
        assert_pubsub_error(await set_affiliations(alice, missing, ("bob@localhost", "publisher")), "cancel", "item-not-found")
        assert_pubsub_error(await try_items(alice, missing), "cancel", "item-not-found")

    run(body())


def test_an_unknown_affiliation_is_bad_request_8_9_2(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        for bad in ("admin", "Publisher"):
            reply = await set_affiliations(alice, node, ("bob@localhost", bad))
            assert_pubsub_error(reply, "modify", "bad-request")
        assert await get_affiliations(alice, node) == {"alice@localhost": "owner"}
        assert_pubsub_error(await try_publish(bob, node, "b1"), "auth", "forbidden")

    run(body())


def test_the_sole_owner_cannot_give_up_ownership_8_9_2_4(srv):
    async def body():
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        node = new_node()
        await create(alice, node)
        for aff in ("none", "publisher", "member", "outcast"):
            assert_pubsub_error(await set_affiliations(alice, node, ("alice@localhost", aff)), "modify", "not-acceptable")
        # With other entries in the request: none of it is applied.
        reply = await set_affiliations(alice, node, ("bob@localhost", "publisher"), ("alice@localhost", "none"))
        assert_pubsub_error(reply, "modify", "not-acceptable")
        reply = await set_affiliations(alice, node, ("alice@localhost", "publisher"), ("carol@localhost", "member"))
        assert_pubsub_error(reply, "modify", "not-acceptable")
        assert await get_affiliations(alice, node) == {"alice@localhost": "owner"}
        assert_pubsub_error(await try_publish(bob, node, "b1"), "auth", "forbidden")
        await configure_ok(alice, node, {"pubsub#title": "still mine"})
        # With a second owner she may step down; bob, now owner, manages the node.
        await set_affiliations_ok(alice, node, ("bob@localhost", "owner"))
        assert await get_affiliations(bob, node) == {"alice@localhost": "owner", "bob@localhost": "owner"}
        await set_affiliations_ok(alice, node, ("alice@localhost", "publisher"))
        assert await get_affiliations(bob, node) == {"alice@localhost": "publisher", "bob@localhost": "owner"}
        assert_pubsub_error(await alice.query("get", SERVICE, ps_owner(f"<configure node='{node}'/>")), "auth", "forbidden")
        await publish(alice, node, "a1")  # as a publisher
        # Now bob is the sole owner.
        assert_pubsub_error(await set_affiliations(bob, node, ("bob@localhost", "none")), "modify", "not-acceptable")
        assert value(await get_config(bob, node), "pubsub#title") == "still mine"

    run(body())


# --- §8.8: subscriptions ---------------------------------------------------------------------------

def test_owner_lists_and_sets_subscriptions_8_8(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        node = new_node()
        await create(alice, node)
        assert await get_subscriptions(alice, node) == []
        sub = await subscribe(bob, node)
        assert await get_subscriptions(alice, node) == [("bob@localhost", "subscribed", sub.get("subid"))]
        # Remove bob, subscribe carol.
        reply = await set_subscriptions(alice, node, ("bob@localhost", "none"))
        assert reply["type"] == "result", f"§8.8.2.2: {reply}"
        reply = await set_subscriptions(alice, node, ("carol@localhost", "subscribed"))
        assert reply["type"] == "result", f"§8.8.2.2: {reply}"
        listed = await get_subscriptions(alice, node)
        assert [(j, s) for j, s, _ in listed] == [("carol@localhost", "subscribed")], listed
        assert listed[0][2], f"a subid: {listed}"
        assert await own_subscriptions(bob, node) == [], "§8.8.3: bob is no longer subscribed"
        assert await own_subscriptions(carol, node) == [("carol@localhost", "subscribed")]
        marks = {c: len(c.received) for c in (bob, carol)}
        await publish(alice, node, "i1", entry("news"))
        got = await carol.wait_for(notification(node, to="carol@localhost", item="i1"), "carol's notification",
                                   start=marks[carol])
        item = event(got).find(f"{{{NS_EVENT}}}items/{{{NS_EVENT}}}item")
        assert item is not None and item.find(f"{{{NS_TEST}}}entry") is not None, str(got)
        await absent(bob, notification(node, item="i1"), marks[bob], "a notification after the owner removed him")

    run(body())


def test_subscriptions_by_a_non_owner_are_forbidden_and_of_a_missing_node_item_not_found_8_8_1_3(srv):
    async def body():
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        node = new_node()
        await create(alice, node)
        await subscribe(bob, node)
        got = await bob.query("get", SERVICE, ps_owner(f"<subscriptions node='{node}'/>"))
        assert_pubsub_error(got, "auth", "forbidden")
        assert_pubsub_error(await set_subscriptions(bob, node, ("carol@localhost", "subscribed")), "auth", "forbidden")
        assert [(j, s) for j, s, _ in await get_subscriptions(alice, node)] == [("bob@localhost", "subscribed")]
        assert await own_subscriptions(carol, node) == []
        missing = new_node()
        got = await alice.query("get", SERVICE, ps_owner(f"<subscriptions node='{missing}'/>"))
        assert_pubsub_error(got, "cancel", "item-not-found")
        assert_pubsub_error(await set_subscriptions(alice, missing, ("bob@localhost", "subscribed")), "cancel", "item-not-found")
        assert_pubsub_error(await try_items(alice, missing), "cancel", "item-not-found")

    run(body())


# --- persistence -----------------------------------------------------------------------------------

def test_configuration_and_affiliations_survive_a_restart(make_server):
    server = make_server(extra=PUBSUB_MODULES)
    for name in USERS:
        server.add_user(name)
    server.start()
    node = new_node()
    wanted = {"pubsub#title": "kept", "pubsub#max_items": "3", "pubsub#access_model": "whitelist",
              "pubsub#publish_model": "publishers", "pubsub#notify_retract": "0"}
    affs = {"alice@localhost": "owner", "bob@localhost": "publisher", "carol@localhost": "member",
            "dave@localhost": "outcast"}

    async def before():
        alice = await connect(server, "alice")
        await create_configured(alice, node, wanted)
        await set_affiliations_ok(alice, node, *[(j, a) for j, a in affs.items() if a != "owner"])
        assert await get_affiliations(alice, node) == affs
        for i in (1, 2):
            await publish(alice, node, f"i{i}")

    run(before())
    server.stop()
    server.start()

    async def after():
        alice, bob, carol, dave = [await connect(server, u) for u in USERS]
        fields = await get_config(alice, node)
        assert (value(fields, "pubsub#title"), value(fields, "pubsub#max_items"), value(fields, "pubsub#access_model"),
                value(fields, "pubsub#notify_retract")) == ("kept", "3", "whitelist", False), fields
        assert await get_affiliations(alice, node) == affs
        # And in force: the publisher publishes, max_items 3 holds, the member is admitted (but may
        # not publish), the outcast is refused.
        await publish(bob, node, "b1")
        await publish(bob, node, "b2")
        assert set(await get_items(carol, node)) == {"i2", "b1", "b2"}
        await subscribe(carol, node)
        assert_pubsub_error(await try_subscribe(dave, node), "auth", "forbidden")
        assert_pubsub_error(await try_items(dave, node), "auth", "forbidden")
        assert_pubsub_error(await try_publish(carol, node, "c1"), "auth", "forbidden")

    run(after())
