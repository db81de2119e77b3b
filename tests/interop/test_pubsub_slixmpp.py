"""PubSub at the defaults through slixmpp's own XEP-0060 and XEP-0059 plugins (the API a
slixmpp-based client or bot calls, not raw stanzas): the service is found through the
domain's disco#items, a node is created with a configuration form, published to and read
back (also page by page with slixmpp's RSM iterator, and as ids through its disco#items), a subscriber
with options set through the plugin gets the events (slixmpp's 'pubsub_publish' and
'pubsub_retract' events), and a collection delivers its child's items. The exact wire rules are
test_pubsub*.py; this file proves that a real client library speaks them."""
import asyncio
import uuid

from slixmpp.exceptions import IqError
from slixmpp.plugins.xep_0004 import Form
from slixmpp.plugins.xep_0059 import stanza as rsm_stanza
from slixmpp.plugins.xep_0060 import stanza as pubsub_stanza
from slixmpp.xmlstream import ET, register_stanza_plugin

# slixmpp 1.8.3's get_items(iterator=True) pages with the XEP-0059 <set/> in <pubsub/>, but
# its xep_0060 never registers that stanza plugin there (only xep_0059 does, for disco#items):
# a client that pages registers it, as here.
register_stanza_plugin(pubsub_stanza.Pubsub, rsm_stanza.Set)

from xmpp_client import HANG_TIMEOUT, Client, available, run

SERVICE = "pubsub.localhost"
NS_TEST = "urn:test:slixmpp"


async def plugin_login(server, user, resource="lib"):
    client = Client(f"{user}@{server.domain}/{resource}")
    for plugin in ("xep_0004", "xep_0030", "xep_0059", "xep_0060"):
        client.register_plugin(plugin)
    client.connect(("127.0.0.1", server.port))
    outcome = await asyncio.wait_for(asyncio.shield(client.outcome), HANG_TIMEOUT)
    assert outcome[0] == "bound", outcome
    await available(client)
    return client


def payload(text):
    e = ET.Element(f"{{{NS_TEST}}}entry")
    e.text = text
    return e


def node_config(**fields):
    form = Form()
    form["type"] = "submit"
    form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/pubsub#node_config")
    for var, value in fields.items():
        form.add_field(var=f"pubsub#{var}", value=value)
    return form


def events(client, name):
    """The items slixmpp's xep_0060 reports through event `name`, as (node, id) pairs."""
    seen = []
    client.add_event_handler(name, lambda msg: seen.append(
        (msg["pubsub_event"]["items"]["node"], msg["pubsub_event"]["items"]["item"]["id"]
         if name == "pubsub_publish" else msg["pubsub_event"]["items"]["retract"]["id"])))
    return seen


async def until(predicate, what):
    for _ in range(int(HANG_TIMEOUT / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_slixmpp_client_uses_the_default_service_end_to_end(server):
    async def body():
        alice = await plugin_login(server, "alice")
        bob = await plugin_login(server, "bob")
        services = await alice["xep_0030"].get_items(jid="localhost")
        assert SERVICE in [jid for jid, _node, _name in services["disco_items"]["items"]], str(services)

        node = f"news-{uuid.uuid4().hex[:8]}"
        await alice["xep_0060"].create_node(SERVICE, node, config=node_config(max_items="40", title="News"))
        config = await alice["xep_0060"].get_node_config(SERVICE, node)
        values = config["pubsub_owner"]["configure"]["form"].get_values()
        assert (values["pubsub#max_items"], values["pubsub#title"]) == ("40", "News"), values

        published = events(bob, "pubsub_publish")
        retracted = events(bob, "pubsub_retract")
        options = Form()
        options["type"] = "submit"
        options.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/pubsub#subscribe_options")
        options.add_field(var="pubsub#show-values", ftype="list-multi", value=["online", "chat"])
        await bob["xep_0060"].subscribe(SERVICE, node, options=options)
        got = await bob["xep_0060"].get_subscription_options(SERVICE, node, "bob@localhost")
        form = got.xml.find("{http://jabber.org/protocol/pubsub}pubsub/{http://jabber.org/protocol/pubsub}options/{jabber:x:data}x")
        assert form is not None, str(got)
        shows = [v.text for f in form if f.get("var") == "pubsub#show-values" for v in f.findall("{jabber:x:data}value")]
        assert sorted(shows) == ["chat", "online"], shows

        for i in range(23):
            await alice["xep_0060"].publish(SERVICE, node, id=f"n{i:02}", payload=payload(str(i)))
        await until(lambda: (node, "n22") in published, "the 23rd item at bob")
        assert [i for n, i in published if n == node] == [f"n{i:02}" for i in range(23)]

        # Read back: all at once, page by page with RSM, and as disco#items ids (§5.5).
        everything = await bob["xep_0060"].get_items(SERVICE, node)
        ids = [item["id"] for item in everything["pubsub"]["items"]]
        assert ids == [f"n{i:02}" for i in range(23)], ids
        paged = []
        async for page in bob["xep_0060"].get_items(SERVICE, node, iterator=True):
            paged.append([item["id"] for item in page["pubsub"]["items"]])
        assert [len(p) for p in paged] == [10, 10, 3] and sum(paged, []) == ids, paged
        # (xep_0060.get_item_ids forgets to return xep_0030's coroutine in 1.8.3: ask disco.)
        listed = await bob["xep_0030"].get_items(jid=SERVICE, node=node)
        assert sorted(name for _jid, _node, name in listed["disco_items"]["items"]) == ids  # (a set in slixmpp)

        await alice["xep_0060"].retract(SERVICE, node, "n05", notify=True)
        await until(lambda: (node, "n05") in retracted, "the retraction at bob")
        try:
            await bob["xep_0060"].publish(SERVICE, node, payload=payload("not mine"))
            raise AssertionError("bob is no publisher")
        except IqError as e:
            assert e.iq["error"]["condition"] == "forbidden", str(e.iq)

        # A collection above the node: a subscriber to its items hears of the node's items.
        top = f"top-{uuid.uuid4().hex[:8]}"
        await alice["xep_0060"].create_node(SERVICE, top, config=node_config(node_type="collection"))
        await alice["xep_0060"].set_node_config(SERVICE, node, node_config(collection=top))
        children = await bob["xep_0030"].get_items(jid=SERVICE, node=top)
        assert [n for _jid, n, _name in children["disco_items"]["items"]] == [node], str(children)
        carol = await plugin_login(server, "carol")
        through = []
        carol.add_event_handler("pubsub_publish", lambda msg: through.append(
            (msg["pubsub_event"]["items"]["node"], msg.xml.find(
                "{http://jabber.org/protocol/shim}headers/{http://jabber.org/protocol/shim}header").text)))
        items_type = Form()
        items_type["type"] = "submit"
        items_type.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/pubsub#subscribe_options")
        items_type.add_field(var="pubsub#subscription_type", value="items")
        await carol["xep_0060"].subscribe(SERVICE, top, options=items_type)
        await alice["xep_0060"].publish(SERVICE, node, id="via-top", payload=payload("up"))
        await until(lambda: through, "the item through the collection")
        assert through == [(node, top)], through

        await alice["xep_0060"].delete_node(SERVICE, node)
        await alice["xep_0060"].delete_node(SERVICE, top)
        for c in (alice, bob, carol):
            c.disconnect()

    run(body())
