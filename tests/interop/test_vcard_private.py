"""Per-account documents: XEP-0054 vcard-temp and XEP-0049 private XML storage."""
import uuid
import xml.etree.ElementTree as ET

import pytest

from xmpp_client import error_condition, login, run

VCARD = "vcard-temp"
PRIVATE = "jabber:iq:private"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
EXTRA = "urn:starling:test:vcard-extra"


def uid():
    return uuid.uuid4().hex[:10]


def vcard_xml(fn, nickname=None):
    nick = f"<NICKNAME>{nickname}</NICKNAME>" if nickname else ""
    return f"<vCard xmlns='{VCARD}'><FN>{fn}</FN>{nick}</vCard>"


def vcard_in(reply):
    """The <vCard/> of a result (asserting it is one)."""
    assert reply["type"] == "result", str(reply)
    vcard = reply.xml.find(f"{{{VCARD}}}vCard")
    assert vcard is not None, str(reply)
    return vcard


def fn_in(reply):
    return vcard_in(reply).findtext(f"{{{VCARD}}}FN")


def private_query(*children):
    return f"<query xmlns='{PRIVATE}'>{''.join(children)}</query>"


def stored_in(reply):
    """The child elements of a private XML result's <query/>."""
    assert reply["type"] == "result", str(reply)
    query = reply.xml.find(f"{{{PRIVATE}}}query")
    assert query is not None, str(reply)
    return list(query)


# --- XEP-0054 vcard-temp -----------------------------------------------------------------

@pytest.mark.parametrize("to", [None, "alice@localhost"])
def test_vcard_set_by_the_account_is_what_its_get_returns(server, to):
    async def body():
        alice = await login(server, "alice")
        fn = "Alice " + uid()
        reply = await alice.query("set", to, vcard_xml(fn, "al"))
        assert reply["type"] == "result", str(reply)
        reply = await alice.query("get", to, f"<vCard xmlns='{VCARD}'/>")
        assert fn_in(reply) == fn
        assert vcard_in(reply).findtext(f"{{{VCARD}}}NICKNAME") == "al"
        assert reply["from"] == "alice@localhost"

    run(body())


def test_vcard_keeps_escaped_text_attributes_and_foreign_namespaces(server):
    async def body():
        alice = await login(server, "alice")
        vcard = (f"<vCard xmlns='{VCARD}' version='2.0'>"
                 "<FN>Alice &amp; &lt;Co&gt; \u263a</FN>"
                 "<N><FAMILY>Liddell</FAMILY><GIVEN>Alice</GIVEN><MIDDLE/></N>"
                 f"<X-EXTRA xmlns='{EXTRA}' kind='a&apos;b'><inner>x</inner></X-EXTRA>"
                 "</vCard>")
        assert (await alice.query("set", None, vcard))["type"] == "result"
        got = vcard_in(await alice.query("get", None, f"<vCard xmlns='{VCARD}'/>"))
        assert got.get("version") == "2.0"
        assert got.findtext(f"{{{VCARD}}}FN") == "Alice & <Co> \u263a"
        assert got.findtext(f"{{{VCARD}}}N/{{{VCARD}}}GIVEN") == "Alice"
        assert got.find(f"{{{VCARD}}}N/{{{VCARD}}}MIDDLE") is not None
        extra = got.find(f"{{{EXTRA}}}X-EXTRA")
        assert extra is not None, ET.tostring(got)
        assert extra.get("kind") == "a'b"
        assert extra.findtext(f"{{{EXTRA}}}inner") == "x"

    run(body())


def test_a_large_deeply_nested_vcard_round_trips(server):
    # Near the stanza limits (256 KiB, depth 64 counting the stream root): whatever was
    # accepted on the way in must come back out.
    async def body():
        alice = await login(server, "alice")
        photo = "QUJD" * 40_000  # 160 KB of base64
        depth = 55
        nested = "".join(f"<L{i}>" for i in range(depth)) + "deep" + "".join(f"</L{i}>" for i in reversed(range(depth)))
        vcard = (f"<vCard xmlns='{VCARD}'><FN>Big</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>{photo}</BINVAL></PHOTO>"
                 f"<X-NEST xmlns='{EXTRA}'>{nested}</X-NEST></vCard>")
        assert (await alice.query("set", None, vcard))["type"] == "result"
        got = vcard_in(await alice.query("get", None, f"<vCard xmlns='{VCARD}'/>"))
        assert got.findtext(f"{{{VCARD}}}PHOTO/{{{VCARD}}}BINVAL") == photo
        e = got.find(f"{{{EXTRA}}}X-NEST")
        for i in range(depth):
            e = e.find(f"{{{EXTRA}}}L{i}")
            assert e is not None, i
        assert e.text == "deep"

    run(body())


def test_another_user_gets_the_vcard_from_the_accounts_bare_jid(server):
    async def body():
        alice = await login(server, "alice")
        fn = "Alice " + uid()
        assert (await alice.query("set", None, vcard_xml(fn)))["type"] == "result"
        bob = await login(server, "bob")
        reply = await bob.query("get", "alice@localhost", f"<vCard xmlns='{VCARD}'/>")
        assert fn_in(reply) == fn
        assert reply["from"] == "alice@localhost"  # the server answers for the account

    run(body())


def test_vcard_set_replaces_the_whole_vcard(server):
    async def body():
        alice = await login(server, "alice")
        assert (await alice.query("set", None, vcard_xml("First", "nick")))["type"] == "result"
        assert (await alice.query("set", None, vcard_xml("Second")))["type"] == "result"
        got = vcard_in(await alice.query("get", None, f"<vCard xmlns='{VCARD}'/>"))
        assert got.findtext(f"{{{VCARD}}}FN") == "Second"
        assert got.find(f"{{{VCARD}}}NICKNAME") is None, ET.tostring(got)  # §3.2: no partial updates

    run(body())


def test_own_vcard_before_any_set_is_an_empty_vcard(make_server):
    s = make_server()
    s.add_user("alice")
    s.start()

    async def body():
        alice = await login(s, "alice")
        for to in (None, "alice@localhost"):
            vcard = vcard_in(await alice.query("get", to, f"<vCard xmlns='{VCARD}'/>"))
            assert list(vcard) == [] and not (vcard.text or "").strip(), ET.tostring(vcard)

    run(body())


def test_vcard_of_an_account_without_one_is_service_unavailable_to_others(make_server):
    # XEP-0054 1.3 §3.3: the same error as for an account that does not exist.
    s = make_server()
    s.add_user("alice")
    s.add_user("bob")
    s.start()

    async def body():
        bob = await login(s, "bob")
        reply = await bob.query("get", "alice@localhost", f"<vCard xmlns='{VCARD}'/>")
        assert error_condition(reply) == "service-unavailable", str(reply)
        # Publishing an empty vCard takes it away again.
        alice = await login(s, "alice")
        assert (await alice.query("set", None, vcard_xml("Alice")))["type"] == "result"
        assert fn_in(await bob.query("get", "alice@localhost", f"<vCard xmlns='{VCARD}'/>")) == "Alice"
        assert (await alice.query("set", None, f"<vCard xmlns='{VCARD}'/>"))["type"] == "result"
        reply = await bob.query("get", "alice@localhost", f"<vCard xmlns='{VCARD}'/>")
        assert error_condition(reply) == "service-unavailable", str(reply)

    run(body())


def test_vcard_of_a_nonexistent_account_is_service_unavailable(server):
    async def body():
        bob = await login(server, "bob")
        reply = await bob.query("get", "nobody@localhost", f"<vCard xmlns='{VCARD}'/>")
        assert error_condition(reply) == "service-unavailable", str(reply)

    run(body())


def test_vcard_set_for_another_account_is_forbidden_and_changes_nothing(server):
    async def body():
        alice = await login(server, "alice")
        fn = "Alice " + uid()
        assert (await alice.query("set", None, vcard_xml(fn)))["type"] == "result"
        bob = await login(server, "bob")
        reply = await bob.query("set", "alice@localhost", vcard_xml("Mallory"))
        assert error_condition(reply) == "forbidden", str(reply)
        assert fn_in(await alice.query("get", None, f"<vCard xmlns='{VCARD}'/>")) == fn

    run(body())


def test_vcard_survives_a_server_restart(make_server):
    s = make_server()
    s.add_user("alice")
    s.add_user("bob")
    s.start()
    fn = "Alice " + uid()

    async def publish():
        alice = await login(s, "alice")
        assert (await alice.query("set", None, vcard_xml(fn)))["type"] == "result"

    run(publish())
    s.stop()
    s.start()

    async def read():
        # alice has not logged in since the restart: the server answers from the store.
        bob = await login(s, "bob")
        assert fn_in(await bob.query("get", "alice@localhost", f"<vCard xmlns='{VCARD}'/>")) == fn
        alice = await login(s, "alice")
        assert fn_in(await alice.query("get", None, f"<vCard xmlns='{VCARD}'/>")) == fn

    run(read())


@pytest.mark.parametrize("to", ["localhost", "alice@localhost"])
def test_vcard_temp_is_advertised_in_disco(server, to):
    async def body():
        alice = await login(server, "alice")
        reply = await alice.query("get", to, f"<query xmlns='{DISCO_INFO}'/>")
        assert reply["type"] == "result", str(reply)
        features = [f.get("var") for f in reply.xml.find(f"{{{DISCO_INFO}}}query").findall(f"{{{DISCO_INFO}}}feature")]
        assert VCARD in features, features

    run(body())


# --- XEP-0049 private XML storage --------------------------------------------------------

@pytest.mark.parametrize("to", [None, "alice@localhost"])
def test_private_xml_set_then_get_returns_the_stored_element(server, to):
    async def body():
        ns = f"urn:starling:test:prefs:{uid()}"
        alice = await login(server, "alice")
        value = "Hamlet & <co>"
        reply = await alice.query("set", to, private_query(
            f"<prefs xmlns='{ns}' mode='dark'><nick>Hamlet &amp; &lt;co&gt;</nick></prefs>"))
        assert reply["type"] == "result", str(reply)
        [prefs] = stored_in(await alice.query("get", to, private_query(f"<prefs xmlns='{ns}'/>")))
        assert prefs.tag == f"{{{ns}}}prefs"
        assert prefs.get("mode") == "dark"
        assert prefs.findtext(f"{{{ns}}}nick") == value

    run(body())


def test_private_xml_namespaces_are_kept_apart(server):
    async def body():
        ns1, ns2 = f"urn:starling:test:one:{uid()}", f"urn:starling:test:two:{uid()}"
        alice = await login(server, "alice")
        assert (await alice.query("set", None, private_query(f"<data xmlns='{ns1}'>one</data>")))["type"] == "result"
        assert (await alice.query("set", None, private_query(f"<data xmlns='{ns2}'>two</data>")))["type"] == "result"
        [one] = stored_in(await alice.query("get", None, private_query(f"<data xmlns='{ns1}'/>")))
        [two] = stored_in(await alice.query("get", None, private_query(f"<data xmlns='{ns2}'/>")))
        assert (one.tag, one.text) == (f"{{{ns1}}}data", "one")
        assert (two.tag, two.text) == (f"{{{ns2}}}data", "two")
        # A new set replaces only its own namespace.
        assert (await alice.query("set", None, private_query(f"<data xmlns='{ns1}'>uno</data>")))["type"] == "result"
        [one] = stored_in(await alice.query("get", None, private_query(f"<data xmlns='{ns1}'/>")))
        [two] = stored_in(await alice.query("get", None, private_query(f"<data xmlns='{ns2}'/>")))
        assert (one.text, two.text) == ("uno", "two")

    run(body())


def test_private_xml_is_kept_per_account(server):
    async def body():
        ns = f"urn:starling:test:mine:{uid()}"
        alice = await login(server, "alice")
        assert (await alice.query("set", None, private_query(f"<data xmlns='{ns}'>alice's</data>")))["type"] == "result"
        bob = await login(server, "bob")
        [data] = stored_in(await bob.query("get", None, private_query(f"<data xmlns='{ns}'/>")))
        assert data.tag == f"{{{ns}}}data" and data.text is None and list(data) == []

    run(body())


def test_private_xml_get_of_a_namespace_never_set_returns_the_empty_element(server):
    async def body():
        ns = f"urn:starling:test:unset:{uid()}"
        alice = await login(server, "alice")
        [data] = stored_in(await alice.query("get", None, private_query(f"<bookmarks xmlns='{ns}'/>")))
        assert data.tag == f"{{{ns}}}bookmarks"
        assert data.text is None and list(data) == [] and not data.attrib

    run(body())


def test_private_xml_set_may_hold_several_elements_of_one_namespace(server):
    # XEP-0049 §2.3: "an IQ set or result MAY contain multiple elements qualified by the
    # same namespace".
    async def body():
        ns = f"urn:starling:test:many:{uid()}"
        alice = await login(server, "alice")
        reply = await alice.query("set", None, private_query(f"<a xmlns='{ns}'>1</a>", f"<b xmlns='{ns}'>2</b>"))
        assert reply["type"] == "result", str(reply)
        got = stored_in(await alice.query("get", None, private_query(f"<a xmlns='{ns}'/>")))
        assert [(e.tag, e.text) for e in got] == [(f"{{{ns}}}a", "1"), (f"{{{ns}}}b", "2")]

    run(body())


@pytest.mark.parametrize("type_", ["get", "set"])
def test_private_xml_of_another_account_is_forbidden(server, type_):
    async def body():
        ns = f"urn:starling:test:secret:{uid()}"
        alice = await login(server, "alice")
        assert (await alice.query("set", None, private_query(f"<s xmlns='{ns}'>secret</s>")))["type"] == "result"
        bob = await login(server, "bob")
        reply = await bob.query(type_, "alice@localhost", private_query(f"<s xmlns='{ns}'>bob's</s>"))
        assert error_condition(reply) == "forbidden", str(reply)  # XEP-0049 §3
        assert "secret" not in str(reply)
        [s] = stored_in(await alice.query("get", None, private_query(f"<s xmlns='{ns}'/>")))
        assert s.text == "secret"

    run(body())


@pytest.mark.parametrize("type_", ["get", "set"])
@pytest.mark.parametrize("ns", ["jabber:iq:roster", "jabber:x:test", "http://jabber.org/protocol/test", VCARD])
def test_private_xml_in_a_reserved_namespace_is_not_acceptable(server, type_, ns):
    async def body():
        alice = await login(server, "alice")
        reply = await alice.query(type_, None, private_query(f"<data xmlns='{ns}'/>"))
        assert error_condition(reply) == "not-acceptable", str(reply)

    run(body())


@pytest.mark.parametrize("type_", ["get", "set"])
def test_private_xml_without_a_namespaced_child_is_not_acceptable(server, type_):
    # XEP-0049 §2.3: at least one child "with a proper namespace", else Not Acceptable.
    async def body():
        alice = await login(server, "alice")
        for query in (private_query(), private_query("<data xmlns=''/>")):
            reply = await alice.query(type_, None, query)
            assert error_condition(reply) == "not-acceptable", (query, str(reply))

    run(body())


def test_private_xml_get_of_two_children_is_a_bad_request(server):
    # XEP-0049 §2.3: "A client MUST NOT query for more than one namespace in a single IQ get".
    async def body():
        alice = await login(server, "alice")
        for children in ([f"<a xmlns='urn:starling:test:a:{uid()}'/>", f"<b xmlns='urn:starling:test:b:{uid()}'/>"],
                         ["<a xmlns='urn:starling:test:same'/>", "<b xmlns='urn:starling:test:same'/>"]):
            reply = await alice.query("get", None, private_query(*children))
            assert error_condition(reply) == "bad-request", str(reply)

    run(body())


def test_private_xml_set_of_two_namespaces_is_a_bad_request_and_stores_nothing(server):
    async def body():
        ns1, ns2 = f"urn:starling:test:a:{uid()}", f"urn:starling:test:b:{uid()}"
        alice = await login(server, "alice")
        reply = await alice.query("set", None, private_query(f"<a xmlns='{ns1}'>1</a>", f"<b xmlns='{ns2}'>2</b>"))
        assert error_condition(reply) == "bad-request", str(reply)
        for ns, name in ((ns1, "a"), (ns2, "b")):
            [e] = stored_in(await alice.query("get", None, private_query(f"<{name} xmlns='{ns}'/>")))
            assert e.text is None, ET.tostring(e)

    run(body())


# --- account deletion --------------------------------------------------------------------

def test_a_recreated_account_has_none_of_the_deleted_accounts_vcard_or_private_xml(make_server):
    s = make_server()
    s.add_user("alice")
    s.add_user("bob")
    s.start()
    ns = "urn:starling:test:deleted"

    async def publish():
        alice = await login(s, "alice")
        assert (await alice.query("set", None, vcard_xml("Old Alice")))["type"] == "result"
        assert (await alice.query("set", None, private_query(f"<d xmlns='{ns}'>old</d>")))["type"] == "result"
        [d] = stored_in(await alice.query("get", None, private_query(f"<d xmlns='{ns}'/>")))
        assert d.text == "old"

    run(publish())
    r = s.cli("user", "del", "alice")
    assert r.returncode == 0, r.stderr
    s.add_user("alice")

    async def check():
        bob = await login(s, "bob")
        reply = await bob.query("get", "alice@localhost", f"<vCard xmlns='{VCARD}'/>")
        assert error_condition(reply) == "service-unavailable", str(reply)
        alice = await login(s, "alice")
        assert list(vcard_in(await alice.query("get", None, f"<vCard xmlns='{VCARD}'/>"))) == []
        [d] = stored_in(await alice.query("get", None, private_query(f"<d xmlns='{ns}'/>")))
        assert d.text is None and list(d) == [], ET.tostring(d)

    run(check())
