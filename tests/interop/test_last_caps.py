"""XEP-0012 Last Activity (server uptime; an account's last logout, for subscribers only),
XEP-0115 entity capabilities of the server as a stream feature, and XEP-0157 contact
addresses in the server's disco#info (an XEP-0128 form), over raw streams."""
import base64
import hashlib
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import PASSWORD
from raw_stream import NS_CLIENT, is_result, login, q
from test_presence import online, presence_from
from test_routing_rules import answer, error_condition

NS_LAST = "jabber:iq:last"
NS_CAPS = "http://jabber.org/protocol/caps"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DATA = "jabber:x:data"
NS_SERVERINFO = "http://jabber.org/network/serverinfo"
CAPS_NODE = "https://starling.example/"
_ids = iter(range(1, 1_000_000))


def last_activity(stream, to):
    ident = f"last{next(_ids)}"
    stream.send(f"<iq type='get' id='{ident}' to='{to}'><query xmlns='{NS_LAST}'/></iq>")
    return answer(stream, ident)


def seconds_and_text(reply):
    assert is_result(reply), ET.tostring(reply)
    query = reply.find(q(NS_LAST, "query"))
    assert query is not None, ET.tostring(reply)
    return int(query.get("seconds")), (query.text or "")


def disco_info(stream, node=None):
    ident = f"disco{next(_ids)}"
    node_attr = f" node='{node}'" if node else ""
    stream.send(f"<iq type='get' id='{ident}' to='localhost'><query xmlns='{NS_DISCO_INFO}'{node_attr}/></iq>")
    return answer(stream, ident)


def caps_ver(query):
    """XEP-0115 §5.1, written from the spec: identities, features and extended forms, each
    sorted by octets, '<' after each part, SHA-1, Base64."""
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    identities = sorted(
        (i.get("category", ""), i.get("type", ""), i.get(xml_lang, ""), i.get("name", ""))
        for i in query.findall(q(NS_DISCO_INFO, "identity")))
    s = "".join(f"{c}/{t}/{lang}/{name}<" for c, t, lang, name in identities)
    s += "".join(f + "<" for f in sorted(f.get("var") for f in query.findall(q(NS_DISCO_INFO, "feature"))))
    forms = []
    for x in query.findall(q(NS_DATA, "x")):
        form_type, fields = None, []
        for field in x.findall(q(NS_DATA, "field")):
            values = [v.text or "" for v in field.findall(q(NS_DATA, "value"))]
            if field.get("var") == "FORM_TYPE":
                form_type = values[0]
            else:
                fields.append((field.get("var"), sorted(values, key=str.encode)))
        forms.append((form_type, sorted(fields, key=lambda f: f[0].encode())))
    for form_type, fields in sorted(forms, key=lambda f: f[0].encode()):
        s += form_type + "<"
        for var, values in fields:
            s += var + "<" + "".join(v + "<" for v in values)
    return base64.b64encode(hashlib.sha1(s.encode()).digest()).decode()


def info_query(reply):
    assert is_result(reply), ET.tostring(reply)
    query = reply.find(q(NS_DISCO_INFO, "query"))
    assert query is not None, ET.tostring(reply)
    return query


def serverinfo_forms(query):
    return [x for x in query.findall(q(NS_DATA, "x"))
            if any(f.get("var") == "FORM_TYPE" and f.findtext(q(NS_DATA, "value")) == NS_SERVERINFO
                   for f in x.findall(q(NS_DATA, "field")))]


@pytest.fixture
def trio(make_server):
    server = make_server()
    for name in ("alice", "bob", "eve"):
        server.add_user(name)
    return server.start()


def alice_subscribed_to_bob(server):
    """alice's subscription to bob's presence (bob's roster: alice with 'from')."""
    alice, _ = online(server, "alice")
    bob, _ = online(server, "bob")
    alice.send("<presence type='subscribe' to='bob@localhost'/>")
    presence_from(bob, "alice@localhost", "subscribe")
    bob.send("<presence type='subscribed' to='alice@localhost'/>")
    presence_from(alice, "bob@localhost", "subscribed")
    return alice, bob


def logged_out_answer(stream, account, status):
    """The answer once the account's logout is recorded: the session's end reaches the
    server a little after the client closes its socket."""
    deadline = time.monotonic() + 10
    while True:
        reply = last_activity(stream, account)
        if is_result(reply) and seconds_and_text(reply)[1] == status or time.monotonic() > deadline:
            return reply
        time.sleep(0.05)


# --- XEP-0012 -----------------------------------------------------------------------------

def test_server_answers_its_uptime_as_a_non_negative_integer_without_text(trio):
    s, _ = login(trio.port, "eve", PASSWORD)
    reply = last_activity(s, "localhost")
    seconds, text = seconds_and_text(reply)
    assert seconds >= 0 and text == ""
    assert reply.get("from") == "localhost"


def test_subscriber_learns_time_since_logout_and_the_status_of_the_last_unavailable(trio):
    alice, bob = alice_subscribed_to_bob(trio)
    bob.send("<presence type='unavailable'><status>Heading Home</status></presence>")
    presence_from(alice, "bob@localhost/r", "unavailable")
    bob.send("</stream:stream>")
    bob.read_until_closed()
    reply = logged_out_answer(alice, "bob@localhost", "Heading Home")
    seconds, text = seconds_and_text(reply)
    assert text == "Heading Home"
    assert 0 <= seconds < 60
    assert reply.get("from") == "bob@localhost"


def test_last_logout_survives_a_restart(trio):
    alice, bob = alice_subscribed_to_bob(trio)
    bob.send("<presence type='unavailable'><status>gone fishing</status></presence>")
    bob.send("</stream:stream>")
    bob.read_until_closed()
    logged_out_answer(alice, "bob@localhost", "gone fishing")
    trio.stop()
    trio.start()
    alice, _ = login(trio.port, "alice", PASSWORD)
    seconds, text = seconds_and_text(last_activity(alice, "bob@localhost"))
    assert text == "gone fishing" and seconds >= 0


def test_logout_without_unavailable_status_is_recorded_without_text(trio):
    alice, bob = alice_subscribed_to_bob(trio)
    bob.send("<presence><status>busy</status></presence>")  # available: no unavailable status
    presence_from(alice, "bob@localhost/r")
    bob.close()
    presence_from(alice, "bob@localhost/r", "unavailable")
    deadline = time.monotonic() + 10
    while True:  # until the logout is recorded (bob no longer connected)
        reply = last_activity(alice, "bob@localhost")
        if error_condition(reply) is None and seconds_and_text(reply)[0] > 0 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    seconds, text = seconds_and_text(reply)
    assert seconds > 0 and text == ""


def test_connected_account_gives_zero_seconds(trio):
    alice, bob = alice_subscribed_to_bob(trio)
    assert seconds_and_text(last_activity(alice, "bob@localhost")) == (0, "")


def test_account_may_ask_about_itself(trio):
    bob, _ = login(trio.port, "bob", PASSWORD)
    assert seconds_and_text(last_activity(bob, "bob@localhost")) == (0, "")


def test_non_subscriber_is_forbidden_online_or_not(trio):
    alice, bob = alice_subscribed_to_bob(trio)
    eve, _ = online(trio, "eve")
    assert error_condition(last_activity(eve, "bob@localhost")) == "forbidden"
    bob.send("<presence type='unavailable'><status>secret</status></presence>")
    bob.send("</stream:stream>")
    bob.read_until_closed()
    logged_out_answer(alice, "bob@localhost", "secret")
    reply = last_activity(eve, "bob@localhost")
    assert error_condition(reply) == "forbidden", ET.tostring(reply)
    assert b"secret" not in ET.tostring(reply)


def test_subscription_in_the_other_direction_is_not_enough(trio):
    alice, bob = alice_subscribed_to_bob(trio)
    # bob is not subscribed to alice: her roster has bob as 'to' only.
    assert error_condition(last_activity(bob, "alice@localhost")) == "forbidden"


def test_last_activity_is_advertised_for_the_server_and_accounts(trio):
    s, _ = login(trio.port, "alice", PASSWORD)
    features = {f.get("var") for f in info_query(disco_info(s)).findall(q(NS_DISCO_INFO, "feature"))}
    assert NS_LAST in features
    s.send(f"<iq type='get' id='own' to='alice@localhost'><query xmlns='{NS_DISCO_INFO}'/></iq>")
    own = {f.get("var") for f in info_query(answer(s, "own")).findall(q(NS_DISCO_INFO, "feature"))}
    assert NS_LAST in own


# --- XEP-0115 -----------------------------------------------------------------------------

def caps_feature_and_info(port):
    s, _ = login(port, "alice", PASSWORD)
    c = s.features.find(q(NS_CAPS, "c"))
    assert c is not None, ET.tostring(s.features)
    return s, c, info_query(disco_info(s))


def test_caps_stream_feature_after_auth_matches_the_disco_info_of_the_server(trio):
    s, c, query = caps_feature_and_info(trio.port)
    assert c.get("hash") == "sha-1" and c.get("node") == CAPS_NODE
    assert c.get("ver") == caps_ver(query)
    # XEP-0115 §7: the server says it supports caps.
    assert NS_CAPS in {f.get("var") for f in query.findall(q(NS_DISCO_INFO, "feature"))}


def test_caps_feature_is_not_offered_before_authentication(trio):
    from raw_stream import RawStream
    s = RawStream(trio.port)
    s.open()
    features = s.starttls()
    assert features.find(q(NS_CAPS, "c")) is None


def test_caps_node_answers_like_the_plain_disco_info(trio):
    s, c, query = caps_feature_and_info(trio.port)
    node = f"{CAPS_NODE}#{c.get('ver')}"
    with_node = info_query(disco_info(s, node))
    assert with_node.get("node") == node
    assert caps_ver(with_node) == c.get("ver")
    assert ET.tostring(with_node.find(q(NS_DISCO_INFO, "identity"))) == ET.tostring(query.find(q(NS_DISCO_INFO, "identity")))
    assert error_condition(disco_info(s, f"{CAPS_NODE}#wrong")) == "item-not-found"


def test_caps_algorithm_in_this_test_reproduces_the_xep_examples():
    # XEP-0115 §5.2 and §5.3: the test's own algorithm is checked against the spec.
    simple = ET.fromstring(
        f"<query xmlns='{NS_DISCO_INFO}'><identity category='client' type='pc' name='Exodus 0.9.1'/>"
        "<feature var='http://jabber.org/protocol/caps'/><feature var='http://jabber.org/protocol/disco#info'/>"
        "<feature var='http://jabber.org/protocol/disco#items'/><feature var='http://jabber.org/protocol/muc'/></query>")
    assert caps_ver(simple) == "QgayPKawpkPSDYmwT/WM94uAlu0="
    complex_ = ET.fromstring(
        f"<query xmlns='{NS_DISCO_INFO}'>"
        "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"
        "<identity xml:lang='el' category='client' name='\u03a8 0.11' type='pc'/>"
        "<feature var='http://jabber.org/protocol/caps'/><feature var='http://jabber.org/protocol/disco#info'/>"
        "<feature var='http://jabber.org/protocol/disco#items'/><feature var='http://jabber.org/protocol/muc'/>"
        f"<x xmlns='{NS_DATA}' type='result'>"
        "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>"
        "<field var='ip_version' type='text-multi'><value>ipv4</value><value>ipv6</value></field>"
        "<field var='os'><value>Mac</value></field><field var='os_version'><value>10.5.1</value></field>"
        "<field var='software'><value>Psi</value></field>"
        "<field var='software_version'><value>0.11</value></field></x></query>")
    assert caps_ver(complex_) == "q07IKJEyjvHSyhy//CH0CxmKi8w="


# --- XEP-0157 -----------------------------------------------------------------------------

def test_contact_addresses_appear_in_disco_info_and_in_the_caps_hash(make_server):
    server = make_server(extra='[modules.disco]\nadmin = ["xmpp:admin@localhost", "mailto:admin@example.com"]\n'
                               'abuse = ["https://example.com/abuse"]\n')
    server.add_user("alice")
    server.start()
    s, c, query = caps_feature_and_info(server.port)
    forms = serverinfo_forms(query)
    assert len(forms) == 1, ET.tostring(query)
    fields = {f.get("var"): [v.text for v in f.findall(q(NS_DATA, "value"))]
              for f in forms[0].findall(q(NS_DATA, "field"))}
    assert forms[0].get("type") == "result"
    assert fields["admin-addresses"] == ["xmpp:admin@localhost", "mailto:admin@example.com"]
    assert fields["abuse-addresses"] == ["https://example.com/abuse"]
    assert "support-addresses" not in fields
    assert c.get("ver") == caps_ver(query)


def test_no_contact_form_without_configured_addresses(trio):
    _, _, query = caps_feature_and_info(trio.port)
    assert serverinfo_forms(query) == []


def test_a_contact_address_that_is_not_a_uri_is_a_config_error(make_server):
    server = make_server(extra='[modules.disco]\nsupport = ["help desk"]\n')
    r = server.cli("check")
    assert r.returncode != 0
    assert "modules.disco.support" in r.stderr, r.stderr
