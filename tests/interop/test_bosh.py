"""XMPP over BOSH (XEP-0124, XEP-0206): StanzaJS (npm, tests/web, run by node) logs in over
https with SCRAM, chats with a slixmpp client on TCP and logs out; and the binding's own rules
over raw HTTP: session creation (§7), rid order and the answers kept for a resent request
(§14), held requests answered after 'wait' (§8), the terminal binding conditions (§17.2) for
an unknown sid, a rid out of the window, a malformed body, a missing 'to'; inactivity (§10).
Each bad request harms no other session."""
import asyncio
import base64
import http.client
import re
import ssl
import time

import pytest

from conftest import PASSWORD, Server
from test_websocket import node_client
from xmpp_client import available, login, run

NS = "http://jabber.org/protocol/httpbind"


@pytest.fixture(scope="module")
def bosh_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("starling-bosh"), http="bosh_inactivity = 3\nbosh_max_wait = 20\n")
    for name in ("alice", "bob"):
        s.add_user(name)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def srv(bosh_server):
    yield bosh_server
    assert bosh_server.alive(), "the server died during the test:\n" + bosh_server.log()[-4000:]


class Bosh:
    """A raw BOSH client over one keep-alive HTTPS connection per request in flight."""

    def __init__(self, server, wait=5):
        self.server, self.wait, self.rid, self.sid = server, wait, 4000, None

    def post(self, body, content_type="text/xml; charset=utf-8", timeout=30):
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.https_port,
                                           context=ssl._create_unverified_context(), timeout=timeout)
        conn.request("POST", "/http-bind", body, {"Content-Type": content_type})
        response = conn.getresponse()
        data = response.read().decode()
        conn.close()
        return response.status, data

    def create(self, extra="", to="localhost"):
        status, body = self.post(f"<body xmlns='{NS}' xmlns:xmpp='urn:xmpp:xbosh' rid='{self.rid}' to='{to}' "
                                 f"wait='{self.wait}' hold='1' ver='1.11' xmpp:version='1.0' {extra}/>")
        assert status == 200, body
        found = re.search(r"sid='([^']+)'", body)
        self.sid = found.group(1) if found else None
        return body

    def send(self, payload="", rid=None, attrs=""):
        if rid is None:
            self.rid += 1
            rid = self.rid
        status, body = self.post(f"<body xmlns='{NS}' rid='{rid}' sid='{self.sid}' {attrs}>{payload}</body>")
        assert status == 200, body
        return body

    def login(self, user):
        self.create()
        auth = base64.b64encode(f"\0{user}\0{PASSWORD}".encode()).decode()
        assert "<success" in self.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{auth}</auth>")
        assert "<bind" in self.send(attrs="xmlns:xmpp='urn:xmpp:xbosh' xmpp:restart='true'")
        bound = self.send("<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                          "<resource>raw</resource></bind></iq>")
        assert f"<jid>{user}@localhost/raw</jid>" in bound, bound


def terminal(body, condition):
    return re.fullmatch(rf"<body xmlns='{NS}' type='terminate' condition='{condition}'/>", body) is not None


def test_stanzajs_chats_over_bosh_with_a_tcp_client(srv):
    async def body():
        bob = await login(srv, "bob", resource="tcp")
        await available(bob)
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, lambda: node_client(
            "bosh_chat.mjs", SERVICE=f"https://localhost:{srv.https_port}/http-bind",
            JID="alice@localhost", PASSWORD=PASSWORD, PEER="bob@localhost"))
        hello = await bob.message(lambda m: m["body"] == "hello over bosh", "the BOSH client's message")
        assert str(hello["from"]) == "alice@localhost/bosh", hello
        bob.send_message(mto=hello["from"], mbody="hello over tcp", mtype="chat")
        result, lines = await future
        events = [line["event"] for line in lines]
        assert result.returncode == 0, (result.stdout, result.stderr)
        assert events[0] == "online" and lines[0]["jid"] == "alice@localhost/bosh", lines
        assert {"event": "message", "from": "bob@localhost/tcp", "body": "hello over tcp"} in lines, lines
        assert events[-1] == "stopped" and "error" not in events, lines
        log = srv.log()
        assert "connected on BOSH over HTTPS" in log and "authenticated as alice with SCRAM" in log, log[-3000:]

    run(body())


def test_the_creation_response_states_the_sessions_terms_7_2(srv):
    b = Bosh(srv, wait=30)
    created = b.create()
    for attribute in ("sid", "wait='20'", "requests='2'", "hold='1'", "inactivity='3'", "ver='1.11'",
                      "from='localhost'", "xmpp:version='1.0'", "xmpp:restartlogic='true'", "authid="):
        assert attribute in created, (attribute, created)  # 'wait' lowered to bosh_max_wait
    assert "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" in created, created
    assert "-PLUS" not in created, "no channel binding through an HTTP connection manager"


def test_a_resent_rid_gets_the_same_answer_and_one_out_of_the_window_ends_the_session_14(srv):
    b = Bosh(srv)
    b.login("alice")
    first = b.send("<iq xmlns='jabber:client' type='get' id='v1'><query xmlns='jabber:iq:version'/></iq>")
    assert "id='v1'" in first, first
    assert b.send(rid=b.rid) == first, "§14.3: the buffered copy of the answer"
    assert terminal(b.send(rid=b.rid + 5), "item-not-found"), "§14.2: beyond the window"
    assert terminal(b.send(), "item-not-found"), "the session is over"


def test_requests_arriving_out_of_order_are_taken_in_rid_order_14_2(srv):
    async def body():
        b = Bosh(srv, wait=2)
        b.login("alice")
        loop = asyncio.get_running_loop()
        ping = "<iq xmlns='jabber:client' type='get' id='{id}'><ping xmlns='urn:xmpp:ping'/></iq>"
        second = loop.run_in_executor(None, lambda: b.send(ping.format(id="second"), rid=b.rid + 2))
        await asyncio.sleep(0.3)
        first = await loop.run_in_executor(None, lambda: b.send(ping.format(id="first"), rid=b.rid + 1))
        later = await second
        # The answers come in rid order; a pong made after the last answer waits for the
        # next request (how soon each pong is made depends on the machine's speed).
        rest = await loop.run_in_executor(None, lambda: b.send(rid=b.rid + 3))
        both = first + later + rest
        assert "id='first'" in both and "id='second'" in both, (first, later, rest)
        assert both.index("id='first'") < both.index("id='second'"), (first, later, rest)

    run(body())


def test_an_empty_request_is_held_until_wait_then_answered_empty_8(srv):
    b = Bosh(srv, wait=1)
    b.login("alice")
    started = time.monotonic()
    answer = b.send()
    assert time.monotonic() - started >= 0.9, "held for 'wait' seconds"
    assert answer == f"<body xmlns='{NS}' xmlns:stream='http://etherx.jabber.org/streams'/>", answer


@pytest.mark.parametrize("request_body,condition", [
    (f"<body xmlns='{NS}' rid='1' sid='no-such-session.0'/>", "item-not-found"),
    (f"<body xmlns='{NS}' rid='1' sid='no-such-session.99'/>", "item-not-found"),
    (f"<body xmlns='{NS}' rid='1' wait='5' hold='1'/>", "improper-addressing"),
    (f"<body xmlns='{NS}' to='localhost' rid='1'/>", "bad-request"),
    (f"<body xmlns='{NS}' rid='1' to='localhost' wait='5' hold='1'><message", "bad-request"),
    (f"<body xmlns='{NS}' rid='1' to='localhost' wait='5' hold='1'>text</body>", "bad-request"),
    ("<notbody rid='1'/>", "bad-request"),
    (f"<!DOCTYPE body><body xmlns='{NS}' rid='1'/>", "bad-request"),
])
def test_bad_requests_get_their_terminal_binding_condition_17_2(srv, request_body, condition):
    status, body = Bosh(srv).post(request_body)
    assert status == 200 and terminal(body, condition), (status, body)
    Bosh(srv).login("bob")  # the server still serves


def test_a_body_of_another_content_type_is_refused_and_a_get_is_not_bosh(srv):
    status, body = Bosh(srv).post(f"<body xmlns='{NS}' rid='1'/>", content_type="application/json")
    assert status == 415, (status, body)
    conn = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=10)
    conn.request("GET", "/http-bind")
    assert conn.getresponse().status == 405


def test_a_session_without_requests_for_inactivity_seconds_is_over_10(srv):
    b = Bosh(srv, wait=1)
    b.login("alice")
    time.sleep(4.5)  # bosh_inactivity = 3
    assert terminal(b.send(), "item-not-found")


def test_too_many_sessions_from_one_address_end_the_oldest_with_policy_violation(tmp_path):
    """Each BOSH session is an unauthenticated stream until it logs in, counted per address
    ([limits] max_preauth_per_ip); past the cap the one with the least progress, the oldest
    first, ends (a stream error carried as remote-stream-error, XEP-0206 §7), never the
    newcomer, and the others go on."""
    s = Server(tmp_path, limits="max_preauth_per_ip = 3")
    s.add_user("alice")
    s.start()
    try:
        sessions = [Bosh(s, wait=1) for _ in range(4)]
        for b in sessions:
            b.create()
        oldest = sessions[0].send()
        assert "type='terminate'" in oldest and "condition='remote-stream-error'" in oldest, oldest
        assert "<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in oldest, oldest
        for b in sessions[1:]:
            assert "type='terminate'" not in b.send(), "the other sessions go on"
        b = sessions[3]
        auth = base64.b64encode(f"\0alice\0{PASSWORD}".encode()).decode()
        assert "<success" in b.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{auth}</auth>")
    finally:
        s.stop()


def test_request_acknowledgements_when_asked_for_9_1(srv):
    """The creation request's ack='1' asks for them: the creation response acknowledges its
    rid, and an answer to an older request names the highest rid taken since (§9.1)."""
    async def body():
        b = Bosh(srv, wait=2)
        created = b.create(extra="ack='1'")
        assert f"ack='{b.rid}'" in created, created
        loop = asyncio.get_running_loop()
        first_rid = b.rid + 1
        held = loop.run_in_executor(None, lambda: b.send(rid=first_rid))
        await asyncio.sleep(0.3)
        second = await loop.run_in_executor(None, lambda: b.send(rid=first_rid + 1))
        first = await held
        assert f"ack='{first_rid + 1}'" in first, ("the held request's answer acknowledges the later one", first)
        assert "ack=" not in second, ("no ack naming the request answered", second)

    run(body())
