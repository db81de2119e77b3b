"""XEP-0077 In-Band Registration over raw streams: registering before authentication, then
changing the password and cancelling the account after it. The register module is on by
default for authenticated users (test_account_management.py tests that at the defaults);
registering before authentication is off unless [modules.register] allow_registration = true."""
import xml.etree.ElementTree as ET

import pytest

from conftest import PASSWORD
from raw_stream import NS_CLIENT, NS_TLS, RawStream, is_result, login, q
from test_roster import items, roster_iq
from test_routing_rules import answer, error_condition

NS_REGISTER = "jabber:iq:register"
NS_FEATURE = "http://jabber.org/features/iq-register"
_ids = iter(range(1, 1_000_000))


def registration_on(options=""):
    """The config that switches registration before authentication on."""
    return f"[modules.register]\nallow_registration = true\n{options}"


@pytest.fixture
def register_server(make_server):
    server = make_server(extra=registration_on())
    server.add_user("alice")
    server.add_user("bob")
    return server.start()


def register_iq(stream, type_, inner=""):
    ident = f"reg{next(_ids)}"
    stream.send(f"<iq type='{type_}' id='{ident}'><query xmlns='{NS_REGISTER}'>{inner}</query></iq>")
    return answer(stream, ident)


NS_VCARD = "vcard-temp"
NS_PRIVATE = "jabber:iq:private"


def iq(stream, type_, payload):
    ident = f"iq{next(_ids)}"
    stream.send(f"<iq type='{type_}' id='{ident}'>{payload}</iq>")
    return answer(stream, ident)


def fields(username, password):
    return f"<username>{username}</username><password>{password}</password>"


def unauthenticated(port):
    """A stream after STARTTLS, before authentication."""
    s = RawStream(port)
    s.open()
    s.starttls()
    return s


def register(port, username, password=PASSWORD):
    s = unauthenticated(port)
    return register_iq(s, "set", fields(username, password))


def login_fails(port, username, password):
    s = unauthenticated(port)
    outcome = s.auth_scram("SCRAM-SHA-256", username, password)[:2]
    return outcome == ("failure", "not-authorized")


def test_registration_is_off_by_default_and_its_iq_ends_the_stream(make_server):
    server = make_server().start()
    s = unauthenticated(server.port)
    assert s.features.find(q(NS_FEATURE, "register")) is None
    s.send(f"<iq type='get' id='r1'><query xmlns='{NS_REGISTER}'/></iq>")
    assert s.expect_stream_error()[0] == "not-authorized"


def test_feature_is_offered_only_after_tls(register_server):
    s = RawStream(register_server.port)
    features = s.open()
    assert features.find(q(NS_TLS, "starttls")) is not None
    assert features.find(q(NS_FEATURE, "register")) is None
    features = s.starttls()
    assert features.find(q(NS_FEATURE, "register")) is not None


def test_registration_before_tls_ends_the_stream(register_server):
    s = RawStream(register_server.port)
    s.open()
    s.send(f"<iq type='set' id='r1'><query xmlns='{NS_REGISTER}'>{fields('eve', 'secret')}</query></iq>")
    assert s.expect_stream_error()[0] == "not-authorized"
    assert login_fails(register_server.port, "eve", "secret")


def test_get_returns_the_fields_to_fill_in(register_server):
    s = unauthenticated(register_server.port)
    reply = register_iq(s, "get")
    assert is_result(reply), ET.tostring(reply)
    query = reply.find(q(NS_REGISTER, "query"))
    assert query.find(q(NS_REGISTER, "instructions")).text
    assert query.find(q(NS_REGISTER, "username")) is not None
    assert query.find(q(NS_REGISTER, "password")) is not None
    assert query.find(q(NS_REGISTER, "registered")) is None


def test_registered_account_logs_in_on_the_same_stream_and_a_new_one(register_server):
    s = unauthenticated(register_server.port)
    reply = register_iq(s, "set", fields("Romeo", "wherefore art thou"))
    assert is_result(reply), ET.tostring(reply)
    # The pre-auth stream goes on: the client now authenticates (XEP-0077 §3.1.1).
    assert s.auth_scram("SCRAM-SHA-256", "romeo", "wherefore art thou")[:2] == ("success", True)
    s.restart()
    assert s.bind().startswith("romeo@localhost/")
    login(register_server.port, "romeo", "wherefore art thou", mechanism="PLAIN")


def test_taken_username_is_a_conflict(register_server):
    reply = register(register_server.port, "alice", "another password")
    assert error_condition(reply) == "conflict", ET.tostring(reply)
    # UsernameCaseMapped: 'ALICE' is alice too.
    assert error_condition(register(register_server.port, "ALICE")) == "conflict"
    login(register_server.port, "alice", PASSWORD)


def test_missing_or_invalid_fields_are_not_acceptable(register_server):
    s = unauthenticated(register_server.port)
    for inner in ("<username>juliet</username>", "<password>x</password>", fields("juliet", ""),
                  fields("a@b", "x"), fields("juliet/balcony", "x"), fields("", "x")):
        reply = register_iq(s, "set", inner)
        assert error_condition(reply) == "not-acceptable", (inner, ET.tostring(reply))
    assert s.auth_plain("juliet", "x")[0] == "failure"


def test_registrations_per_address_are_limited(make_server):
    server = make_server(extra=registration_on("registrations_per_address = 2\n"))
    server.start()
    assert is_result(register(server.port, "one"))
    assert is_result(register(server.port, "two"))
    reply = register(server.port, "three")
    assert error_condition(reply) == "policy-violation", ET.tostring(reply)
    assert reply.find(q(NS_CLIENT, "error")).get("type") == "wait"
    assert login_fails(server.port, "three", PASSWORD)
    login(server.port, "two", PASSWORD)


def test_authenticated_get_says_registered(register_server):
    s, _ = login(register_server.port, "alice", PASSWORD)
    reply = register_iq(s, "get")
    query = reply.find(q(NS_REGISTER, "query"))
    assert query.find(q(NS_REGISTER, "registered")) is not None, ET.tostring(reply)
    assert query.find(q(NS_REGISTER, "username")).text == "alice"


def test_password_change_replaces_the_old_password(register_server):
    s, _ = login(register_server.port, "alice", PASSWORD)
    reply = register_iq(s, "set", fields("alice", "new secret"))
    assert is_result(reply), ET.tostring(reply)
    assert login_fails(register_server.port, "alice", PASSWORD)
    login(register_server.port, "alice", "new secret")
    login(register_server.port, "alice", "new secret", mechanism="PLAIN")


def test_password_change_needs_ones_own_username_and_a_password(register_server):
    s, _ = login(register_server.port, "alice", PASSWORD)
    assert error_condition(register_iq(s, "set", fields("bob", "mine now"))) == "forbidden"
    assert error_condition(register_iq(s, "set", fields("alice", ""))) == "bad-request"
    ident = f"reg{next(_ids)}"
    s.send(f"<iq type='set' id='{ident}' to='bob@localhost'><query xmlns='{NS_REGISTER}'><remove/></query></iq>")
    assert error_condition(answer(s, ident)) == "forbidden"
    login(register_server.port, "alice", PASSWORD)


def test_password_change_to_the_server_address_works_too(register_server):
    s, _ = login(register_server.port, "alice", PASSWORD)
    ident = f"reg{next(_ids)}"
    s.send(f"<iq type='set' id='{ident}' to='localhost'><query xmlns='{NS_REGISTER}'>{fields('alice', 'other')}"
           "</query></iq>")
    assert is_result(answer(s, ident))
    login(register_server.port, "alice", "other")


def test_cancellation_removes_the_account_and_its_data_and_ends_its_sessions(register_server):
    port = register_server.port
    assert is_result(register(port, "mercutio"))
    s, _ = login(port, "mercutio", PASSWORD, resource="one")
    other, _ = login(port, "mercutio", PASSWORD, resource="two")
    assert is_result(roster_iq(s, "set", "<item jid='tybalt@localhost'/>"))
    assert items(roster_iq(s, "get"))
    assert is_result(iq(s, "set", f"<vCard xmlns='{NS_VCARD}'><FN>Mercutio</FN></vCard>"))
    assert is_result(iq(s, "set", f"<query xmlns='{NS_PRIVATE}'><notes xmlns='x:notes'>a plague</notes></query>"))
    alice, _ = login(port, "alice", PASSWORD)  # mercutio has no available resource: kept offline
    alice.send("<message to='mercutio@localhost' type='chat' id='m1'><body>for the old account</body></message>")
    assert is_result(alice.ping("sync"))
    reply = register_iq(s, "set", "<remove/>")
    assert is_result(reply), ET.tostring(reply)
    # §3.2: a <not-authorized/> stream error to every session of the account.
    assert s.expect_stream_error()[0] == "not-authorized"
    assert other.expect_stream_error()[0] == "not-authorized"
    assert login_fails(port, "mercutio", PASSWORD)
    # A new account of the same name starts from nothing.
    assert is_result(register(port, "mercutio", "second life"))
    s, _ = login(port, "mercutio", "second life")
    assert items(roster_iq(s, "get")) == {}
    vcard = iq(s, "get", f"<vCard xmlns='{NS_VCARD}'/>").find(q(NS_VCARD, "vCard"))
    assert vcard is not None and len(vcard) == 0, ET.tostring(vcard)
    notes = iq(s, "get", f"<query xmlns='{NS_PRIVATE}'><notes xmlns='x:notes'/></query>")
    assert notes.findtext(f"{q(NS_PRIVATE, 'query')}/{q('x:notes', 'notes')}") in (None, ""), ET.tostring(notes)
    s.send("<presence/>")
    assert is_result(s.ping("sync"))
    messages = [e for e in s.poll_events(0.3) if e.kind == "element" and e.elem.tag == q(NS_CLIENT, "message")]
    assert not messages, "an offline message kept for the removed account"


def test_cancellation_ends_the_subscriptions_of_the_contacts(register_server):
    """§3.2: an IM server SHOULD cancel the account's presence subscriptions: a contact
    subscribed both ways hears unsubscribe, unsubscribed and unavailable, and its roster
    item is left with subscription 'none'."""
    from test_presence import online, presence_from, roster_item, subscribe_both_ways
    alice, alice_jid = online(register_server, "alice")
    bob, _ = online(register_server, "bob")
    subscribe_both_ways(register_server, alice, bob)
    presence_from(bob, alice_jid)
    assert roster_item(bob, "alice@localhost").get("subscription") == "both"
    assert is_result(register_iq(alice, "set", "<remove/>"))
    presence_from(bob, "alice@localhost", "unsubscribe")
    presence_from(bob, "alice@localhost", "unsubscribed")
    presence_from(bob, alice_jid, "unavailable")
    assert roster_item(bob, "alice@localhost").get("subscription") == "none"


def test_remove_must_be_alone(register_server):
    s, _ = login(register_server.port, "alice", PASSWORD)
    reply = register_iq(s, "set", "<remove/><username>alice</username>")
    assert error_condition(reply) == "bad-request", ET.tostring(reply)
    login(register_server.port, "alice", PASSWORD)


def test_password_change_over_a_plaintext_stream_is_refused(make_server):
    # The register module is on by default: no setting needed for a password change.
    server = make_server(c2s="require_encryption = false", sasl='mechanisms = ["SCRAM-SHA-256"]')
    server.add_user("alice")
    server.start()
    s = RawStream(server.port)
    s.open()
    assert s.auth_scram("SCRAM-SHA-256", "alice", PASSWORD)[:2] == ("success", True)
    s.restart()
    s.bind()
    reply = register_iq(s, "set", fields("alice", "sniffed"))
    assert error_condition(reply) == "not-authorized", ET.tostring(reply)
    login(server.port, "alice", PASSWORD)
