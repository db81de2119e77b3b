"""RFC 6121 §2: roster get, set, remove, pushes and versioning, over raw streams."""
import xml.etree.ElementTree as ET

import pytest

from conftest import PASSWORD
from raw_stream import NS_CLIENT, is_result, login, q
from test_routing_rules import answer, error_condition

NS_ROSTER = "jabber:iq:roster"
_ids = iter(range(1, 1_000_000))


def roster_iq(stream, type_, inner="", ver=None, to=None):
    ident = f"r{next(_ids)}"
    ver_attr = "" if ver is None else f" ver='{ver}'"
    to_attr = f" to='{to}'" if to else ""
    stream.send(f"<iq type='{type_}' id='{ident}'{to_attr}><query xmlns='{NS_ROSTER}'{ver_attr}>{inner}</query></iq>")
    return answer(stream, ident)


def items(reply):
    query = reply.find(q(NS_ROSTER, "query"))
    assert query is not None, ET.tostring(reply)
    return {i.get("jid"): i for i in query.findall(q(NS_ROSTER, "item"))}


def is_push(e):
    return e.tag == q(NS_CLIENT, "iq") and e.get("type") == "set" and e.find(q(NS_ROSTER, "query")) is not None


def next_push(stream):
    push = stream.wait_for(is_push)
    stream.send(f"<iq type='result' id='{push.get('id')}'/>")
    item = push.find(f"{q(NS_ROSTER, 'query')}/{q(NS_ROSTER, 'item')}")
    return push, item


@pytest.fixture
def roster_server(make_server):
    server = make_server(extra="[modules.roster]\nmax_items = 3\n")
    for name in ("alice", "bob"):
        server.add_user(name)
    return server.start()


def test_new_account_has_an_empty_roster(roster_server):
    s, _ = login(roster_server.port, "alice", PASSWORD)
    assert items(roster_iq(s, "get")) == {}


def test_set_is_stored_and_pushed_to_every_interested_resource(roster_server):
    a1, _ = login(roster_server.port, "alice", PASSWORD, resource="one")
    a2, _ = login(roster_server.port, "alice", PASSWORD, resource="two")
    roster_iq(a1, "get")
    roster_iq(a2, "get")
    reply = roster_iq(a1, "set", "<item jid='Nurse@Example.com' name='Nurse'><group>Servants</group></item>")
    assert is_result(reply), ET.tostring(reply)
    for s in (a1, a2):
        push, item = next_push(s)
        assert push.get("from") in (None, "alice@localhost")
        assert item.get("jid") == "nurse@example.com" and item.get("name") == "Nurse"
        assert item.get("subscription") == "none"
        assert [g.text for g in item.findall(q(NS_ROSTER, "group"))] == ["Servants"]
    got = items(roster_iq(a2, "get"))
    assert list(got) == ["nurse@example.com"] and got["nurse@example.com"].get("name") == "Nurse"


def test_resource_that_never_asked_for_the_roster_gets_no_push(roster_server):
    a1, _ = login(roster_server.port, "alice", PASSWORD, resource="one")
    a2, _ = login(roster_server.port, "alice", PASSWORD, resource="quiet")
    roster_iq(a1, "get")
    roster_iq(a1, "set", "<item jid='x@example.com'/>")
    next_push(a1)
    assert is_result(a2.ping("sync"))
    assert not [e for e in a2.poll_events(0.3) if e.kind == "element" and is_push(e.elem)]


def test_remove_pushes_subscription_remove_and_unknown_item_is_item_not_found(roster_server):
    s, _ = login(roster_server.port, "alice", PASSWORD)
    roster_iq(s, "get")
    roster_iq(s, "set", "<item jid='tybalt@example.org'/>")
    next_push(s)
    assert is_result(roster_iq(s, "set", "<item jid='tybalt@example.org' subscription='remove'/>"))
    _, item = next_push(s)
    assert item.get("subscription") == "remove"
    assert items(roster_iq(s, "get")) == {}
    reply = roster_iq(s, "set", "<item jid='tybalt@example.org' subscription='remove'/>")
    assert error_condition(reply) == "item-not-found"


@pytest.mark.parametrize("inner,condition", [
    ("<item jid='a@example.com'/><item jid='b@example.com'/>", "bad-request"),
    ("<item jid='a@example.com'><group>G</group><group>G</group></item>", "bad-request"),
    ("<item jid='a@example.com'><group></group></item>", "not-acceptable"),
    ("<item jid='a@example.com' name='" + "n" * 2000 + "'/>", "not-acceptable"),
    ("<item jid='a@example.com'><group>" + "g" * 2000 + "</group></item>", "not-acceptable"),
    ("<item jid='@bad'/>", "jid-malformed"),
])
def test_invalid_roster_set_gets_the_rfc_error(roster_server, inner, condition):
    s, _ = login(roster_server.port, "alice", PASSWORD)
    assert error_condition(roster_iq(s, "set", inner)) == condition


def test_another_users_roster_is_forbidden(roster_server):
    s, _ = login(roster_server.port, "bob", PASSWORD)
    assert error_condition(roster_iq(s, "get", to="alice@localhost")) == "forbidden"
    assert error_condition(roster_iq(s, "set", "<item jid='x@example.com'/>", to="alice@localhost")) == "forbidden"


def test_roster_is_capped_at_max_items(roster_server):
    s, _ = login(roster_server.port, "alice", PASSWORD)
    for i in range(3):
        assert is_result(roster_iq(s, "set", f"<item jid='c{i}@example.com'/>"))
    assert error_condition(roster_iq(s, "set", "<item jid='c3@example.com'/>")) == "resource-constraint"
    # Updating an existing item is still allowed at the cap.
    assert is_result(roster_iq(s, "set", "<item jid='c0@example.com' name='zero'/>"))


def test_versioning_returns_only_the_changes_since_the_clients_version(roster_server):
    s, _ = login(roster_server.port, "alice", PASSWORD)
    full = roster_iq(s, "get", ver="")
    v0 = full.find(q(NS_ROSTER, "query")).get("ver")
    assert v0 is not None
    roster_iq(s, "set", "<item jid='one@example.com'/>")
    next_push(s)
    roster_iq(s, "set", "<item jid='two@example.com'/>")
    _, _ = next_push(s)
    roster_iq(s, "set", "<item jid='one@example.com' subscription='remove'/>")
    push, _ = next_push(s)
    latest = push.find(q(NS_ROSTER, "query")).get("ver")

    again, _ = login(roster_server.port, "alice", PASSWORD, resource="later")
    reply = roster_iq(again, "get", ver=v0)
    assert is_result(reply) and reply.find(q(NS_ROSTER, "query")) is None, ET.tostring(reply)
    pushed = [next_push(again)[1] for _ in range(2)]
    assert [(i.get("jid"), i.get("subscription")) for i in pushed] == [
        ("two@example.com", "none"), ("one@example.com", "remove")]

    current = roster_iq(again, "get", ver=latest)
    assert is_result(current) and current.find(q(NS_ROSTER, "query")) is None
    assert not [e for e in again.poll_events(0.3) if e.kind == "element" and is_push(e.elem)]

    unknown = roster_iq(again, "get", ver="999999")  # a version we never issued: full roster
    assert list(items(unknown)) == ["two@example.com"]


def test_rosterver_and_pre_approval_stream_features_are_offered_after_authentication(roster_server):
    s, _ = login(roster_server.port, "alice", PASSWORD)
    assert s.features.find(q("urn:xmpp:features:rosterver", "ver")) is not None
    assert s.features.find(q("urn:xmpp:features:pre-approval", "sub")) is not None


def test_roster_survives_a_restart_and_user_del_removes_it(roster_server):
    s, _ = login(roster_server.port, "alice", PASSWORD)
    roster_iq(s, "set", "<item jid='kept@example.com' name='Kept'/>")
    s.close()
    roster_server.stop()
    roster_server.start()
    s, _ = login(roster_server.port, "alice", PASSWORD)
    assert "kept@example.com" in items(roster_iq(s, "get"))
    s.close()
    assert roster_server.cli("user", "del", "alice").returncode == 0
    roster_server.add_user("alice")
    s, _ = login(roster_server.port, "alice", PASSWORD)
    assert items(roster_iq(s, "get")) == {}
