"""XEP-0077 account management at the server's defaults: a logged-in user can ask whether it
is registered (§3.1), change its password (§3.3) and remove its account (§3.2) without any
setting, while creating new accounts before authentication (§3.1.1) stays off until
`[modules.register] allow_registration = true`.

Every server here is `make_server(defaults=True)`: nothing set but the data folder and the
loopback ports. Two tests add exactly one setting each, appended to that same default config:
allow_registration = true, and password_change_closes_sessions = false.

After a password change, other sessions of the account end with the stream error <reset/>
(the one that changed it stays); after a removal, every session of the account ends with
<not-authorized/> once the requester has its result."""
import xml.etree.ElementTree as ET

from slixmpp.exceptions import IqError
from slixmpp.stanza import Iq
from slixmpp.stanza.stream_error import StreamError

from conftest import PASSWORD
from raw_stream import NS_TLS, RawStream, is_result, login, q
from test_register import NS_FEATURE, NS_REGISTER, fields, login_fails, register_iq, unauthenticated
from test_routing_rules import answer, error_condition
from xmpp_client import HANG_TIMEOUT, attempt_login, run
from xmpp_client import login as slixmpp_login

NEW_PASSWORD = "a brand new password for alice"
# Every mechanism the server offers at its defaults over TLS; -PLUS binds with tls-exporter.
MECHANISMS = ["SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512",
              "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-512-PLUS", "PLAIN"]
CB_TYPE = "tls-exporter"


def at_defaults(make_server, *users, setting=""):
    """A started server at its defaults with these accounts (password PASSWORD); `setting`
    (TOML) is appended to the default config, for the two tests that need one."""
    server = make_server(defaults=True)
    if setting:
        server.config.write_text(server.config.read_text() + "\n" + setting + "\n")
    for user in users:
        server.add_user(user)
    return server.start()


def account_names(server):
    r = server.cli("user", "list")
    assert r.returncode == 0, r.stderr
    return set(r.stdout.split())


def attempt(port, user, password, mechanism):
    """A login with `mechanism` after STARTTLS: ('success', ...) (and the session binds and
    answers a ping) or ('failure', condition)."""
    s = RawStream(port)
    try:
        s.open()
        s.starttls()
        assert mechanism in s.mechanisms(), (mechanism, s.mechanisms())
        if mechanism == "PLAIN":
            outcome = s.auth_plain(user, password)
        elif mechanism.endswith("-PLUS"):
            assert CB_TYPE in s.channel_binding_types(), s.channel_binding_types()
            outcome = s.auth_scram(mechanism, user, password, cb_type=CB_TYPE)[:2]
        else:
            outcome = s.auth_scram(mechanism, user, password)[:2]
        if outcome[0] == "success":
            if mechanism != "PLAIN":
                assert outcome == ("success", True), f"{mechanism}: server signature not verified"
            s.restart()
            s.bind()
            assert is_result(s.ping("after-login"))
        return outcome
    finally:
        s.close()


def assert_only_new_password_logs_in(port, user, new, old):
    for mechanism in MECHANISMS:
        outcome = attempt(port, user, new, mechanism)
        assert outcome[0] == "success", f"new password with {mechanism}: {outcome}"
    for mechanism in MECHANISMS:
        outcome = attempt(port, user, old, mechanism)
        assert outcome == ("failure", "not-authorized"), f"old password with {mechanism}: {outcome}"


def assert_still_open(stream, wait=0.5):
    """Nothing ends the stream within `wait` seconds, and it still answers a ping."""
    events = stream.poll_events(wait)
    assert not [e for e in events if e.kind in ("close", "eof")], events
    assert is_result(stream.ping("still-open")), stream.received[-6:]


# -- querying --------------------------------------------------------------------------------

def test_logged_in_user_is_told_it_is_registered_at_defaults(make_server):
    server = at_defaults(make_server, "alice")
    s, _ = login(server.port, "alice", PASSWORD)
    for to in ("", " to='localhost'", " to='alice@localhost'"):
        s.send(f"<iq type='get' id='get{len(to)}'{to}><query xmlns='{NS_REGISTER}'/></iq>")
        reply = answer(s, f"get{len(to)}")
        assert is_result(reply), (to, ET.tostring(reply))
        query = reply.find(q(NS_REGISTER, "query"))
        assert query is not None, ET.tostring(reply)
        assert query.find(q(NS_REGISTER, "registered")) is not None, ET.tostring(reply)
        assert query.findtext(q(NS_REGISTER, "username")) == "alice", ET.tostring(reply)


# -- password change ---------------------------------------------------------------------------

def test_slixmpp_changes_its_password_at_defaults_and_then_only_the_new_one_logs_in_with_every_mechanism(
        make_server):
    """slixmpp's own XEP-0077 plugin (change_password: an iq set with <username/> and
    <password/>, no 'to'), on slixmpp's default login (SCRAM-SHA-512-PLUS); its session
    stays usable. Then raw logins: the new password with SCRAM-SHA-1/256/512, their -PLUS
    variants and PLAIN; the old one refused with each."""
    server = at_defaults(make_server, "alice", "bob")

    async def body():
        client = await slixmpp_login(server, "alice", resource="laptop")
        client.register_plugin("xep_0077")
        try:
            reply = await client["xep_0077"].change_password(NEW_PASSWORD, timeout=HANG_TIMEOUT)
        except IqError as e:
            raise AssertionError(f"password change refused: {e.iq}") from None
        assert reply["type"] == "result", str(reply)
        await client.sync()  # the session that changed the password goes on
        assert not [s for s in client.received if isinstance(s, StreamError)], [str(s) for s in client.received]
        # slixmpp logs in with the new password at its defaults too.
        again = await attempt_login(server, "alice", resource="again", password=NEW_PASSWORD)
        assert again.outcome.result()[0] == "bound", again.outcome.result()

    run(body())
    assert_only_new_password_logs_in(server.port, "alice", NEW_PASSWORD, PASSWORD)
    # Another account's password is untouched.
    assert attempt(server.port, "bob", PASSWORD, "SCRAM-SHA-256")[0] == "success"


def test_password_change_closes_the_accounts_other_sessions_with_reset_at_defaults(make_server):
    server = at_defaults(make_server, "alice", "bob")
    changer, _ = login(server.port, "alice", PASSWORD, resource="laptop")
    other, _ = login(server.port, "alice", PASSWORD, resource="phone", mechanism="PLAIN")
    bob, _ = login(server.port, "bob", PASSWORD)
    reply = register_iq(changer, "set", fields("alice", NEW_PASSWORD))
    assert is_result(reply), ET.tostring(reply)
    assert other.expect_stream_error()[0] == "reset", other.received[-6:]
    # The session that changed it, and other accounts' sessions, stay.
    assert_still_open(changer)
    assert_still_open(bob)
    assert attempt(server.port, "alice", NEW_PASSWORD, "SCRAM-SHA-256")[0] == "success"
    assert login_fails(server.port, "alice", PASSWORD)


def test_password_change_leaves_other_sessions_open_when_password_change_closes_sessions_is_false(make_server):
    server = at_defaults(make_server, "alice", setting="[modules.register]\npassword_change_closes_sessions = false")
    changer, _ = login(server.port, "alice", PASSWORD, resource="laptop")
    other, _ = login(server.port, "alice", PASSWORD, resource="phone")
    reply = register_iq(changer, "set", fields("alice", NEW_PASSWORD))
    assert is_result(reply), ET.tostring(reply)
    assert_still_open(other)
    assert_still_open(changer)
    # The change itself took effect.
    assert attempt(server.port, "alice", NEW_PASSWORD, "SCRAM-SHA-512")[0] == "success"
    assert login_fails(server.port, "alice", PASSWORD)
    assert_still_open(other, wait=0.1)


# -- removal ---------------------------------------------------------------------------------

def test_slixmpp_removes_its_account_at_defaults_every_session_ends_and_user_list_drops_it(make_server):
    """slixmpp's cancel_registration (<remove/>): its result comes first, then the stream
    error <not-authorized/> on slixmpp's stream and on the account's other session; another
    account's session stays; `starling user list` no longer lists the account."""
    server = at_defaults(make_server, "alice", "bob")
    assert account_names(server) == {"alice@localhost", "bob@localhost"}
    other, _ = login(server.port, "alice", PASSWORD, resource="phone")
    bob, _ = login(server.port, "bob", PASSWORD)

    async def body():
        client = await slixmpp_login(server, "alice", resource="laptop")
        client.register_plugin("xep_0077")
        start = len(client.received)
        try:
            reply = await client["xep_0077"].cancel_registration(timeout=HANG_TIMEOUT)
        except IqError as e:
            raise AssertionError(f"removal refused: {e.iq}") from None
        assert reply["type"] == "result", str(reply)
        err = await client.stream_error()
        assert err["condition"] == "not-authorized", str(err)
        await client.wait_closed()
        later = client.received[start:]
        result_at = next((i for i, s in enumerate(later) if isinstance(s, Iq) and s["id"] == reply["id"]), None)
        error_at = next((i for i, s in enumerate(later) if isinstance(s, StreamError)), None)
        assert result_at is not None and error_at is not None and result_at < error_at, [str(s) for s in later]

    run(body())
    assert other.expect_stream_error()[0] == "not-authorized", other.received[-6:]
    assert_still_open(bob)
    assert account_names(server) == {"bob@localhost"}
    assert login_fails(server.port, "alice", PASSWORD)


def test_raw_removal_answers_the_requester_then_closes_it_with_not_authorized(make_server):
    server = at_defaults(make_server, "alice", "bob")
    s, _ = login(server.port, "alice", PASSWORD)
    s.send(f"<iq type='set' id='rm1'><query xmlns='{NS_REGISTER}'><remove/></query></iq>")
    # The very next element on the requester's stream is the result, then the stream error.
    first = s.element()
    assert is_result(first) and first.get("id") == "rm1", ET.tostring(first)
    assert s.expect_stream_error()[0] == "not-authorized", s.received[-6:]
    assert account_names(server) == {"bob@localhost"}
    for mechanism in ("SCRAM-SHA-256", "PLAIN"):
        assert attempt(server.port, "alice", PASSWORD, mechanism) == ("failure", "not-authorized")


# -- creating accounts ---------------------------------------------------------------------------

def test_creating_accounts_before_authentication_stays_off_at_defaults(make_server):
    server = at_defaults(make_server, "alice")
    s = RawStream(server.port)
    features = s.open()
    assert features.find(q(NS_FEATURE, "register")) is None
    features = s.starttls()
    assert features.find(q(NS_FEATURE, "register")) is None, ET.tostring(features)
    s.send(f"<iq type='set' id='r1'><query xmlns='{NS_REGISTER}'>{fields('eve', 'secret')}</query></iq>")
    assert s.expect_stream_error()[0] == "not-authorized", s.received[-6:]
    s = unauthenticated(server.port)
    s.send(f"<iq type='get' id='r2'><query xmlns='{NS_REGISTER}'/></iq>")
    assert s.expect_stream_error()[0] == "not-authorized", s.received[-6:]
    assert login_fails(server.port, "eve", "secret")
    assert account_names(server) == {"alice@localhost"}


def test_allow_registration_switches_creating_accounts_on_with_the_default_limit_of_five_per_address(make_server):
    server = at_defaults(make_server, "alice", setting="[modules.register]\nallow_registration = true")
    s = RawStream(server.port)
    features = s.open()
    assert features.find(q(NS_TLS, "starttls")) is not None
    assert features.find(q(NS_FEATURE, "register")) is None  # only after TLS
    features = s.starttls()
    assert features.find(q(NS_FEATURE, "register")) is not None, ET.tostring(features)
    form = register_iq(s, "get")
    assert is_result(form), ET.tostring(form)
    query = form.find(q(NS_REGISTER, "query"))
    assert query.find(q(NS_REGISTER, "username")) is not None and query.find(q(NS_REGISTER, "password")) is not None
    assert query.find(q(NS_REGISTER, "registered")) is None
    reply = register_iq(s, "set", fields("romeo", "wherefore art thou"))
    assert is_result(reply), ET.tostring(reply)
    # §3.1.1: the same stream goes on to authenticate as the new account.
    assert s.auth_scram("SCRAM-SHA-256", "romeo", "wherefore art thou")[:2] == ("success", True)
    s.restart()
    assert s.bind().startswith("romeo@localhost/")
    assert account_names(server) == {"alice@localhost", "romeo@localhost"}
    # A taken name is still a conflict (and does not count against the limit).
    taken = register_iq(unauthenticated(server.port), "set", fields("alice", "mine now"))
    assert error_condition(taken) == "conflict", ET.tostring(taken)
    login(server.port, "alice", PASSWORD)
    # registrations_per_address defaults to 5: romeo and four more, then a refusal.
    for i in range(1, 5):
        reply = register_iq(unauthenticated(server.port), "set", fields(f"user{i}", PASSWORD))
        assert is_result(reply), (i, ET.tostring(reply))
    reply = register_iq(unauthenticated(server.port), "set", fields("user5", PASSWORD))
    assert error_condition(reply) == "policy-violation", ET.tostring(reply)
    assert login_fails(server.port, "user5", PASSWORD)
    assert account_names(server) == {"alice@localhost", "romeo@localhost"} | {f"user{i}@localhost" for i in range(1, 5)}
