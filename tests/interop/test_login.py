"""Logging in: STARTTLS and direct TLS, every SASL mechanism, failures, resource binding."""
import base64

import pytest
from slixmpp.stanza import Iq
from slixmpp.stanza.stream_error import StreamError

from conftest import PASSWORD
from xmpp_client import SASL_NS, attempt_login, login, run

BIND_NS = "urn:ietf:params:xml:ns:xmpp-bind"
MECHANISMS = ["SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"]


def started(make_server, *users, **config):
    s = make_server(**config)
    for u in users:
        s.add_user(u)
    return s.start()


@pytest.mark.parametrize("mech", MECHANISMS)
@pytest.mark.parametrize("direct_tls", [False, True], ids=["starttls", "direct_tls"])
def test_login_succeeds_with_each_mechanism(server, mech, direct_tls):
    async def body():
        client = await login(server, "alice", resource=f"{mech}-{direct_tls}", mech=mech, direct_tls=direct_tls)
        assert client.boundjid.full == f"alice@localhost/{mech}-{direct_tls}"
        # The session works: the server answers a ping.
        await client.sync()
        # The forced mechanism is the one used, at the first attempt.
        auths = client.sasl_auth()
        assert [m for m, _ in auths] == [mech]
        if mech.startswith("SCRAM"):
            # gs2 header 'n,,': no channel binding claimed (see xmpp_client.py).
            assert auths[0][1].startswith(b"n,,n=alice,r=")
        success = [s for s in client.received if s.xml.tag == f"{{{SASL_NS}}}success"]
        assert len(success) == 1
        if mech.startswith("SCRAM"):
            # RFC 5802 §5.1 / RFC 6120 §6.4.6: success carries the server signature
            # (v=...), which slixmpp verified, or it would not have gone on to bind.
            assert base64.b64decode(success[0].xml.text or "").startswith(b"v=")

    run(body())


@pytest.mark.parametrize("mech", ["SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_scram_without_plus_claiming_binding_support_is_refused_as_downgrade(server, mech):
    # slixmpp's default on TLS for a non-PLUS SCRAM is gs2 flag 'y'. The server offered
    # -PLUS, so 'y' means someone stripped it: RFC 5802 §6 says fail.
    async def body():
        client = await attempt_login(server, "alice", mech=mech, channel_binding=True)
        auths = client.sasl_auth()
        assert [m for m, _ in auths] == [mech]
        assert auths[0][1].startswith(b"y,,"), auths  # what slixmpp sends by default
        assert client.outcome.result()[0] == "failed_auth", client.outcome.result()
        assert not any(s.xml.tag == f"{{{SASL_NS}}}success" for s in client.received)

    run(body())


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "PLAIN"])
@pytest.mark.parametrize("direct_tls", [False, True], ids=["starttls", "direct_tls"])
def test_wrong_password_fails_not_authorized(make_server, mech, direct_tls):
    s = started(make_server, "alice")

    async def body():
        client = await attempt_login(s, "alice", password="wrong " + PASSWORD, mech=mech, direct_tls=direct_tls)
        assert [m for m, _ in client.sasl_auth()] == [mech]
        assert client.outcome.result() == ("failed_auth", "not-authorized")
        assert not any(s.xml.tag == f"{{{SASL_NS}}}success" for s in client.received)

    run(body())


@pytest.mark.parametrize("mech", ["SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"])
def test_unknown_user_fails_exactly_like_wrong_password(make_server, mech):
    s = started(make_server, "alice")

    async def body():
        wrong = await attempt_login(s, "alice", password="wrong " + PASSWORD, mech=mech)
        unknown = await attempt_login(s, "nosuchuser", mech=mech)
        assert [m for m, _ in unknown.sasl_auth()] == [mech]
        assert wrong.outcome.result() == ("failed_auth", "not-authorized")
        assert unknown.outcome.result() == wrong.outcome.result()
        if mech.startswith("SCRAM"):
            # The SCRAM challenge does not give the unknown account away either: same
            # iteration count and salt length as for a real account.
            def server_first(client):
                challenges = [s for s in client.received if s.xml.tag == f"{{{SASL_NS}}}challenge"]
                assert challenges, [str(x) for x in client.received]
                text = base64.b64decode(challenges[0].xml.text).decode()
                attrs = dict(part.split("=", 1) for part in text.split(","))
                return attrs

            a, b = server_first(wrong), server_first(unknown)
            assert a["i"] == b["i"]
            assert len(base64.b64decode(a["s"])) == len(base64.b64decode(b["s"]))

    run(body())


def test_binding_a_resource_in_use_replaces_the_older_session_with_conflict(server):
    async def body():
        old = await login(server, "alice", resource="same")
        new = await login(server, "alice", resource="same")
        err = await old.stream_error()
        assert err["condition"] == "conflict", str(err)
        await old.wait_closed()
        assert new.boundjid.full == "alice@localhost/same"
        # The newer session works and owns the full JID: a message to it reaches it.
        await new.sync()
        bob = await login(server, "bob", resource="replace-check")
        bob.send_message(mto="alice@localhost/same", mbody="to the new one", mtype="chat")
        msg = await new.message(lambda m: m["body"] == "to the new one")
        assert msg["from"] == bob.boundjid
        assert not any(isinstance(s, StreamError) for s in new.received)

    run(body())


def test_binding_a_resource_in_use_is_refused_with_conflict_when_policy_is_reject(make_server):
    s = started(make_server, "alice", "bob", c2s='resource_conflict = "reject"')

    async def body():
        old = await login(s, "alice", resource="same")
        new = await attempt_login(s, "alice", resource="same")
        assert new.outcome.result() == ("bind_error", "conflict")
        # The older session is untouched and still owns the full JID.
        await old.sync()
        bob = await login(s, "bob")
        bob.send_message(mto="alice@localhost/same", mbody="still the old one", mtype="chat")
        await old.message(lambda m: m["body"] == "still the old one")
        assert not any(isinstance(x, StreamError) for x in old.received)

    run(body())


def test_server_generates_a_resource_when_the_client_asks_for_none(server):
    async def body():
        client = await login(server, "carol", resource=None)
        binds = [s.xml.find(f"{{{BIND_NS}}}bind") for s in client.sent if isinstance(s, Iq)]
        binds = [b for b in binds if b is not None]
        assert len(binds) == 1 and binds[0].find(f"{{{BIND_NS}}}resource") is None, "the client asked for one"
        assert client.boundjid.bare == "carol@localhost"
        assert client.boundjid.resource != ""
        other = await login(server, "carol", resource=None)
        assert other.boundjid.resource != ""
        assert other.boundjid.resource != client.boundjid.resource
        # Both generated resources are live sessions.
        await client.sync()
        await other.sync()
        assert not any(isinstance(x, StreamError) for x in client.received)

    run(body())
