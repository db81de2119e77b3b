"""Real XMPP clients, each at its own defaults, against Starling at its defaults.

Every test logs a client in as alice on the `default_server` (conftest.py: no settings but
the data folder and loopback ports) and has it send a chat message to bob, a slixmpp user
(xmpp_client.login); where the client can receive, bob answers and the client must show the
answer. Nothing about a client is changed but what a user must do anyway: trust the
self-signed certificate (each client's own way) and point it at 127.0.0.1 and the test port.

From the server log, each test then checks which SASL mechanism the client's login used and
that none of the client's connections had an "authentication with X refused (...)" or an
"authentication failed (...)" line: a client that tries several mechanisms before one works
(say, every -PLUS variant, then PLAIN) fails here, as it would annoy a real user with delays
and failure counters.

The mechanism each client picks at its defaults, and why, is in each test's docstring.

Every wait has a deadline (xmpp_client.HANG_TIMEOUT, TEST_TIMEOUT); they only guard against
hangs, and no assertion depends on how long anything took.
"""
import asyncio
import base64
import ctypes
import importlib.util
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import uuid
from typing import Callable, List, Optional

import pytest
import slixmpp

from conftest import PASSWORD
from xmpp_client import HANG_TIMEOUT, available, login, run, wait_in

PEER = "bob"  # the slixmpp user every client talks to
USER = "alice"  # the client under test
DOMAIN = "localhost"

AUTH_RE = re.compile(r"c=(\d+) ip=\S+ authenticated as (\S+) with (\S+) over (.+)$", re.M)
# Both kinds of SASL failure the server logs: a refused exchange (mechanism, encoding,
# channel binding, downgrade...) and a wrong credential for a named account.
FAILURE_RE = re.compile(r"c=(\d+) ip=\S+ (?:jid=\S+ )?(authentication with \S+ refused \(.*\)|authentication failed .*)$",
                        re.M)
BOUND_RE = re.compile(r"c=(\d+) ip=\S+ jid=(\S+) bound$", re.M)


def token() -> str:
    return uuid.uuid4().hex[:12]


# -- the server log ------------------------------------------------------------------------

class LogWindow:
    """The part of the server log written since the window was opened."""

    def __init__(self, server):
        self.server = server
        self.start = len(server.log())

    def text(self) -> str:
        return self.server.log()[self.start:]

    async def poll(self, find: Callable[[str], object], what: str, timeout: float = HANG_TIMEOUT):
        """find(window text), polled until it is truthy (returned) or `timeout` passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = find(self.text())
            if found:
                return found
            if loop.time() >= deadline:
                raise AssertionError(f"no {what} in the server log within {timeout}s:\n{self.text()[-4000:]}")
            await asyncio.sleep(0.05)

    async def wait_for(self, pattern: re.Pattern, predicate: Callable = lambda m: True,
                       what: str = "a log line", timeout: float = HANG_TIMEOUT) -> re.Match:
        """The first match of `pattern` in the window for which `predicate` holds."""
        return await self.poll(lambda text: next((m for m in pattern.finditer(text) if predicate(m)), None),
                               what, timeout)

    async def logins(self, user: str, count: int = 1) -> List[re.Match]:
        """Waits for `count` 'authenticated as <user>' lines; fails on more."""
        def of_user(text):
            return [m for m in AUTH_RE.finditer(text) if m.group(2) == user]
        await self.poll(lambda text: len(of_user(text)) >= count, f"{count} login(s) of {user}")
        found = of_user(self.text())
        assert len(found) == count, f"expected {count} login(s) of {user}, got {len(found)}:\n{self.text()[-4000:]}"
        return found

    def failures_outside(self, peer: str) -> List[str]:
        """SASL failure lines of every connection in the window but the peer's (the slixmpp
        helper's logins are not what is under test)."""
        text = self.text()
        peer_connections = {m.group(1) for m in AUTH_RE.finditer(text) if m.group(2) == peer}
        return [m.group(0) for m in FAILURE_RE.finditer(text) if m.group(1) not in peer_connections]

    async def assert_clean_logins(self, user: str, mechanism: str, count: int = 1) -> List[re.Match]:
        """`count` logins of `user`, each with `mechanism`, and no SASL failure on any
        connection but the peer's."""
        found = await self.logins(user, count)
        assert [m.group(3) for m in found] == [mechanism] * count, (
            f"{user} logged in with {[m.group(3) for m in found]}, expected {mechanism}:\n{self.text()[-4000:]}")
        failures = self.failures_outside(PEER)
        assert not failures, f"SASL failures before the login of {user}: {failures}\n{self.text()[-4000:]}"
        return found


async def peer(server, resource: str):
    """bob on slixmpp, available, so messages to his bare JID reach him."""
    bob = await login(server, PEER, resource=resource)
    await available(bob)
    return bob


def die_with_parent():
    """preexec_fn for client processes: killed if the test process dies (Linux
    PR_SET_PDEATHSIG), so that nothing outlives an interrupted run."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1


async def wait_process(proc: asyncio.subprocess.Process, timeout: float = HANG_TIMEOUT) -> Optional[int]:
    try:
        return await asyncio.wait_for(proc.wait(), timeout)
    except asyncio.TimeoutError:
        return None


async def kill_process(proc: asyncio.subprocess.Process):
    if proc.returncode is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass
        await wait_process(proc, 10)


def tail(path, chars: int = 6000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


# -- a. nbxmpp (Gajim's library) -----------------------------------------------------------

# Runs in its own interpreter: nbxmpp needs a GLib main loop, and a process can always be
# killed at the deadline. Prints one JSON object per line for the test to follow; nbxmpp's
# own log (INFO, with every byte sent and received) goes to stderr.
NBXMPP_SCRIPT = r'''
import base64, json, logging, re, sys
from gi.repository import GLib, Gio
from nbxmpp.client import Client
from nbxmpp.const import ConnectionProtocol, ConnectionType, StreamError
from nbxmpp.protocol import Message, Presence
from nbxmpp.structs import StanzaHandler

host, kind, username, password, to, body, reply = sys.argv[1:8]
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
loop = GLib.MainLoop()

def emit(**event):
    print(json.dumps(event), flush=True)

client = Client()
client.set_domain("localhost")
client.set_username(username)
client.set_password(password)
# Gajim's "custom host" account setting: where to connect, and how.
client.set_custom_host(host, ConnectionProtocol.TCP,
                       ConnectionType.DIRECT_TLS if kind == "direct-tls" else ConnectionType.START_TLS)
trusted = []

def on_sent(c, _signal, data):
    m = re.search(r'<auth [^>]*mechanism="([^"]+)"[^>]*>([^<]*)</auth>', str(data))
    if m:
        emit(event="auth", mechanism=m.group(1),
             initial=base64.b64decode(m.group(2)).decode(errors="replace"))

def on_connected(c, _signal):
    emit(event="connected", jid=str(c.get_bound_jid()))
    c.send_stanza(Presence())  # as Gajim does once connected
    c.send_stanza(Message(to=to, body=body, typ="chat"))
    emit(event="sent")

def on_message(c, stanza, _properties):
    emit(event="message", sender=str(stanza.getFrom()), body=stanza.getBody())
    if stanza.getBody() == reply:
        c.disconnect()

def on_disconnected(c, _signal):
    domain, error, text = c.get_error()
    if domain == StreamError.BAD_CERTIFICATE and not trusted:
        # What Gajim does when the user ticks "add this certificate to the trusted ones"
        # and clicks Connect: nbxmpp keeps the certificate as accepted (for an unknown CA
        # only) and connects again.
        _cert, errors = c.peer_certificate
        emit(event="bad-certificate", errors=sorted(e.first_value_nick for e in errors))
        trusted.append(True)
        c.accept_certificate()
        return
    emit(event="disconnected", error=[str(domain), str(error), str(text)])
    loop.quit()

client.subscribe("stanza-sent", on_sent)
client.subscribe("connected", on_connected)
client.subscribe("disconnected", on_disconnected)
client.subscribe("connection-failed", on_disconnected)
client.register_handler(StanzaHandler(name="message", callback=on_message))
GLib.timeout_add_seconds(int(sys.argv[8]), lambda: (emit(event="timeout"), loop.quit()))
client.connect()
loop.run()
'''


@pytest.mark.parametrize("kind", ["starttls", "direct-tls"])
def test_nbxmpp_at_its_defaults(default_server, tmp_path, kind):
    """nbxmpp 4.2.2 (Gajim's library) picks SCRAM-SHA-512, gs2 header 'n,,'.

    Why: nbxmpp.client.Client.mechs defaults to {SCRAM-SHA-512, SCRAM-SHA-256, SCRAM-SHA-1,
    PLAIN}, and nbxmpp/sasl.py SASL.start_auth drops every -PLUS variant ("This is currently
    not supported via GLib": Gio gives it no channel-binding data), then takes the first of
    protocol.SASL_AUTH_MECHS (SCRAM-SHA-512-PLUS, SCRAM-SHA-512, ...) the server offers. Its
    SCRAM_SHA_512 class sends gs2 header 'n,,' (no binding support), which is honest, so a
    server offering -PLUS has no reason to refuse it.

    Certificate: GLib (glib-networking) reports the self-signed certificate as UNKNOWN_CA;
    nbxmpp disconnects with StreamError.BAD_CERTIFICATE, and Client.accept_certificate() -
    what Gajim's certificate dialog ends in when the user trusts it - adds it to the
    accepted certificates and connects again. Nothing else is set but the account (domain,
    username, password) and Gajim's custom host (127.0.0.1, the port, STARTTLS or direct
    TLS)."""
    server = default_server
    port = server.tls_port if kind == "direct-tls" else server.port
    body, reply = f"hello from nbxmpp {token()}", f"reply to nbxmpp {token()}"
    stderr_path = tmp_path / "nbxmpp.log"

    async def scenario():
        window = LogWindow(server)
        bob = await peer(server, "nbxmpp-peer")
        events: list = []
        arrived = asyncio.Event()
        with open(stderr_path, "wb") as stderr:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", NBXMPP_SCRIPT, f"127.0.0.1:{port}", kind, USER, PASSWORD,
                f"{PEER}@{DOMAIN}", body, reply, str(int(HANG_TIMEOUT * 2)),
                stdout=asyncio.subprocess.PIPE, stderr=stderr, cwd=str(tmp_path), preexec_fn=die_with_parent)

        async def read_events():
            async for line in proc.stdout:
                events.append(json.loads(line))
                arrived.set()
            events.append({"event": "exited"})
            arrived.set()

        reader = asyncio.ensure_future(read_events())

        async def event(predicate, what):
            found = await wait_in(events, arrived, predicate, HANG_TIMEOUT)
            assert found is not None, (f"nbxmpp: no {what} within {HANG_TIMEOUT}s; events: {events}\n"
                                       f"--- nbxmpp log ---\n{tail(stderr_path)}\n--- server log ---\n{window.text()[-3000:]}")
            return found

        try:
            connected = await event(lambda e: e["event"] in ("connected", "disconnected", "timeout", "exited"),
                                    "login")
            assert connected["event"] == "connected", (
                f"nbxmpp did not log in: {events}\n--- nbxmpp log ---\n{tail(stderr_path)}\n"
                f"--- server log ---\n{window.text()[-3000:]}")
            # It trusted the certificate once, and only for an unknown CA.
            assert [e["errors"] for e in events if e["event"] == "bad-certificate"] == [["unknown-ca"]], events
            auths = [e for e in events if e["event"] == "auth"]
            assert [a["mechanism"] for a in auths] == ["SCRAM-SHA-512"], events
            assert auths[0]["initial"].startswith("n,,n=alice,r="), auths
            alice_full = connected["jid"]
            assert alice_full.startswith("alice@localhost/"), connected

            got = await bob.message(lambda m: m["body"] == body, "nbxmpp's message")
            assert got["type"] == "chat"
            assert got["from"].full == alice_full
            bob.send_message(mto=got["from"], mbody=reply, mtype="chat")
            answer = await event(lambda e: e["event"] == "message" and e["body"] == reply, "bob's reply")
            assert answer["sender"] == "bob@localhost/nbxmpp-peer", answer
            # On the reply nbxmpp closes its stream and the script ends.
            await event(lambda e: e["event"] in ("disconnected", "exited"), "end of the stream")
            assert await wait_process(proc) == 0, events
        finally:
            await kill_process(proc)
            await asyncio.wait_for(reader, HANG_TIMEOUT)

        await window.assert_clean_logins(USER, "SCRAM-SHA-512")

    run(scenario())


# -- b. go-sendxmpp --------------------------------------------------------------------------

GO_SENDXMPP = shutil.which("go-sendxmpp")  # scripts/install-deps.sh installs it: absent is a failure


@pytest.mark.parametrize("kind", ["starttls", "direct-tls"])
def test_go_sendxmpp_at_its_defaults(default_server, tmp_path, kind):
    """go-sendxmpp 0.5.6 (Debian 0.5.6+git20221206, built on github.com/mattn/go-xmpp of
    that time) picks PLAIN.

    Why: mattn/go-xmpp's Client.init knows no SCRAM: it walks the offered mechanisms in the
    server's order and takes the first of X-OAUTH2 (only with an OAuth token), PLAIN and
    DIGEST-MD5, refusing any of them on an unencrypted connection. Starling offers PLAIN
    over TLS (after the SCRAM ones, which go-xmpp skips without trying them), so PLAIN it
    is, at the first attempt.

    Run with the JID, password and server address (-u, -p, -j 127.0.0.1:port), -n
    (--no-tls-verify: its only way to trust a self-signed certificate), -t (--tls) for
    direct TLS, and -d (prints what it reads; changes nothing on the wire). It sends the
    message to bob and quits; then, in listen mode (-l), it must print bob's reply.

    Note on the wire: go-xmpp writes every element with a newline after it
    ("<auth ...>...</auth>\\n") and begins each stream with "<?xml version='1.0'?>"."""
    server = default_server
    port = server.tls_port if kind == "direct-tls" else server.port
    body, reply = f"hello from go-sendxmpp {token()}", f"reply to go-sendxmpp {token()}"
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = str(home)
    base = [GO_SENDXMPP, "-d", "-n", "-u", f"{USER}@{DOMAIN}", "-p", PASSWORD, "-j", f"127.0.0.1:{port}"]
    if kind == "direct-tls":
        base.append("-t")

    async def scenario():
        window = LogWindow(server)
        bob = await peer(server, "go-sendxmpp-peer")

        # 1. Send: the message on stdin, the recipient as the argument.
        proc = await asyncio.create_subprocess_exec(
            *base, f"{PEER}@{DOMAIN}", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, cwd=str(tmp_path), preexec_fn=die_with_parent)
        try:
            out, err = await asyncio.wait_for(proc.communicate((body + "\n").encode()), HANG_TIMEOUT)
        except asyncio.TimeoutError:
            raise AssertionError(f"go-sendxmpp did not finish within {HANG_TIMEOUT}s") from None
        finally:
            await kill_process(proc)
        assert proc.returncode == 0, (
            f"go-sendxmpp failed (exit {proc.returncode}):\n--- its output ---\n{out.decode(errors='replace')}"
            f"{err.decode(errors='replace')[-3000:]}\n--- server log ---\n{window.text()[-3000:]}")
        got = await bob.message(lambda m: m["body"] == body, "go-sendxmpp's message")
        assert got["type"] == "chat"
        assert got["from"].bare == f"{USER}@{DOMAIN}"
        await window.assert_clean_logins(USER, "PLAIN", count=1)

        # 2. Listen: bob answers the session it opens; it prints "<time> <from>: <body>".
        listen_out = tmp_path / "listen.out"
        with open(listen_out, "wb") as out_file:
            proc = await asyncio.create_subprocess_exec(
                *base, "-l", stdin=asyncio.subprocess.DEVNULL, stdout=out_file, stderr=asyncio.subprocess.STDOUT,
                env=env, cwd=str(tmp_path), preexec_fn=die_with_parent)
        try:
            logins = await window.logins(USER, 2)
            listener = logins[1].group(1)
            bound = await window.wait_for(BOUND_RE, lambda m: m.group(1) == listener, "go-sendxmpp -l bound")
            bob.send_message(mto=bound.group(2), mbody=reply, mtype="chat")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + HANG_TIMEOUT
            while reply not in tail(listen_out) and loop.time() < deadline and proc.returncode is None:
                await asyncio.sleep(0.05)
            printed = tail(listen_out)
            assert f"bob@localhost: {reply}" in printed, (
                f"go-sendxmpp -l did not print bob's reply:\n{printed}\n--- server log ---\n{window.text()[-3000:]}")
        finally:
            await kill_process(proc)
        await window.assert_clean_logins(USER, "PLAIN", count=2)

    run(scenario())


# -- c. profanity (libstrophe) in tmux -----------------------------------------------------

PROFANITY = shutil.which("profanity")  # both from scripts/install-deps.sh: absent is a failure
TMUX = shutil.which("tmux")


class Tmux:
    """A tmux server of our own (its own socket), holding one session."""

    def __init__(self, socket_path, env):
        self.socket = str(socket_path)
        self.env = env

    async def cmd(self, *args, check=True) -> str:
        def call():
            return subprocess.run([TMUX, "-S", self.socket, *args], capture_output=True, text=True,
                                  timeout=10, env=self.env)
        r = await asyncio.to_thread(call)
        if check:
            assert r.returncode == 0, f"tmux {args}: {r.stderr}"
        return r.stdout

    async def screen(self) -> str:
        return await self.cmd("capture-pane", "-p", "-J", "-t", "client")

    async def type(self, text: str):
        await self.cmd("send-keys", "-t", "client", "-l", text)
        await self.cmd("send-keys", "-t", "client", "Enter")

    async def until(self, predicate: Callable[[str], bool], what: str, timeout: float = HANG_TIMEOUT) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            screen = await self.screen()
            if predicate(screen):
                return screen
            if loop.time() >= deadline:
                raise AssertionError(f"profanity: no {what} on screen within {timeout}s:\n{screen}")
            await asyncio.sleep(0.1)

    async def kill(self):
        await self.cmd("kill-server", check=False)


def test_profanity_at_its_defaults(default_server, tmp_path):
    """profanity 0.13.1 with libstrophe 0.12.2 picks SCRAM-SHA-512, gs2 header 'n,,'.

    Why: libstrophe 0.12 knows no -PLUS mechanism and no channel binding at all (the only
    SCRAM names in libstrophe.so.0.12.2 are SCRAM-SHA-1, -256 and -512, and its client-first
    message is always "n,,n=%s,r=%s"). Its _auth() (src/auth.c) tries SCRAM first, strongest
    hash first, then DIGEST-MD5, then PLAIN, moving to the next one on each <failure/>; the
    first it tries here, SCRAM-SHA-512, must work.

    Driven as a user would: a fresh HOME, `/connect alice@localhost server 127.0.0.1 port
    <port>` (STARTTLS, its default), the password at its prompt, `/tls allow` at its
    certificate prompt, then `/msg bob@localhost ...`; bob's reply must appear in the chat
    window that /msg opened."""
    server = default_server
    body, reply = f"hello-from-profanity-{token()}", f"reply-to-profanity-{token()}"
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "TMUX"))}
    env.update(HOME=str(home), TERM="xterm-256color")
    tmux = Tmux(tmp_path / "tmux.sock", env)

    async def scenario():
        window = LogWindow(server)
        bob = await peer(server, "profanity-peer")
        try:
            # tmux runs its server as a daemon, beyond die_with_parent: the time limit ends
            # profanity, and with it the session and the server, should the finally below
            # never run. (--foreground keeps profanity in the terminal's process group.)
            await tmux.cmd("new-session", "-d", "-s", "client", "-x", "200", "-y", "50",
                           "timeout", "--foreground", "120", PROFANITY)
            await tmux.until(lambda s: "/help" in s, "welcome screen")
            await tmux.type(f"/connect {USER}@{DOMAIN} server 127.0.0.1 port {server.port}")
            await tmux.until(lambda s: "Enter password" in s, "password prompt")
            await tmux.type(PASSWORD)
            screen = await tmux.until(lambda s: "/tls allow" in s or "logged in successfully" in s
                                      or "Login failed" in s, "certificate prompt")
            assert "/tls allow" in screen, screen
            await tmux.type("/tls allow")
            screen = await tmux.until(lambda s: "logged in successfully" in s or "Login failed" in s, "login")
            assert "logged in successfully" in screen, (
                f"{screen}\n--- profanity log ---\n{tail(home / '.local/share/profanity/logs/profanity.log')}"
                f"\n--- server log ---\n{window.text()[-3000:]}")

            await tmux.type(f"/msg {PEER}@{DOMAIN} {body}")
            got = await bob.message(lambda m: m["body"] == body, "profanity's message")
            assert got["type"] == "chat"
            assert got["from"].bare == f"{USER}@{DOMAIN}"
            assert got["from"].resource.startswith("profanity"), got["from"]
            bob.send_message(mto=got["from"], mbody=reply, mtype="chat")
            await tmux.until(lambda s: reply in s, "bob's reply")
        finally:
            await tmux.kill()
        await window.assert_clean_logins(USER, "SCRAM-SHA-512")

    run(scenario())


# -- d. aioxmpp ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["starttls", "direct-tls"])
def test_aioxmpp_at_its_defaults(default_server, kind):
    """aioxmpp 0.13.3 (with aiosasl 0.5) picks SCRAM-SHA-256, gs2 header 'n,,'.

    Why: make_security_layer gives a PasswordSASLProvider, whose execute() tries
    aiosasl.SCRAM and, over TLS, aiosasl.PLAIN. aiosasl.SCRAM never uses -PLUS (SCRAMPLUS
    needs a channel-binding provider the security layer does not give it) and only knows
    SHA-1 and SHA-256 (scram.py _supported_hashalgos), preferring SHA-256; gs2 header 'n,,'
    (after_scram_plus is False). So SCRAM-SHA-256, at the first attempt.

    make_security_layer(PASSWORD, no_verify=True) is aioxmpp's way to trust any
    certificate; override_peer points it at 127.0.0.1 and the port (STARTTLS or direct TLS
    connector). The JID is bare, so the server picks the resource. Otherwise defaults."""
    import aioxmpp
    import aioxmpp.connector
    import aioxmpp.dispatcher

    server = default_server
    body, reply = f"hello from aioxmpp {token()}", f"reply to aioxmpp {token()}"

    async def scenario():
        window = LogWindow(server)
        bob = await peer(server, "aioxmpp-peer")
        if kind == "direct-tls":
            peer_address = ("127.0.0.1", server.tls_port, aioxmpp.connector.XMPPOverTLSConnector())
        else:
            peer_address = ("127.0.0.1", server.port, aioxmpp.connector.STARTTLSConnector())
        client = aioxmpp.Client(aioxmpp.JID.fromstr(f"{USER}@{DOMAIN}"),
                                aioxmpp.make_security_layer(PASSWORD, no_verify=True),
                                override_peer=[peer_address])
        presence = client.summon(aioxmpp.PresenceServer)
        dispatcher = client.summon(aioxmpp.dispatcher.SimpleMessageDispatcher)
        received: list = []
        arrived = asyncio.Event()
        loop = asyncio.get_running_loop()
        established, stopped = loop.create_future(), loop.create_future()

        def settle(future, value):
            if not future.done():
                future.set_result(value)

        # aioxmpp disconnects a callback that returns a true value: each returns None.
        client.on_stream_established.connect(lambda: settle(established, True))
        client.on_failure.connect(lambda exc: (settle(established, exc), settle(stopped, exc)) and None)
        client.on_stopped.connect(lambda: settle(stopped, None))

        def on_message(msg):
            received.append(msg)
            arrived.set()

        dispatcher.register_callback(aioxmpp.MessageType.CHAT, None, on_message)
        presence.set_presence(aioxmpp.PresenceState(available=True))
        client.start()
        try:
            try:
                result = await asyncio.wait_for(asyncio.shield(established), HANG_TIMEOUT)
            except asyncio.TimeoutError:
                raise AssertionError(f"aioxmpp neither logged in nor failed within {HANG_TIMEOUT}s:\n"
                                     f"{window.text()[-3000:]}") from None
            assert result is True, f"aioxmpp login failed: {result!r}\n{window.text()[-3000:]}"
            alice_full = str(client.local_jid)
            assert alice_full.startswith("alice@localhost/"), alice_full

            out = aioxmpp.Message(type_=aioxmpp.MessageType.CHAT, to=aioxmpp.JID.fromstr(f"{PEER}@{DOMAIN}"))
            out.body[None] = body
            await asyncio.wait_for(client.send(out), HANG_TIMEOUT)
            got = await bob.message(lambda m: m["body"] == body, "aioxmpp's message")
            assert got["type"] == "chat"
            assert got["from"].full == alice_full
            bob.send_message(mto=got["from"], mbody=reply, mtype="chat")
            answer = await wait_in(received, arrived, lambda m: m.body.any() == reply, HANG_TIMEOUT)
            assert answer is not None, f"aioxmpp got no reply from bob; got {[str(m.body) for m in received]}"
            assert str(answer.from_) == "bob@localhost/aioxmpp-peer"
        finally:
            if client.running:
                client.stop()
            try:
                await asyncio.wait_for(asyncio.shield(stopped), HANG_TIMEOUT)
            except asyncio.TimeoutError:
                raise AssertionError(f"aioxmpp did not stop within {HANG_TIMEOUT}s") from None
        await window.assert_clean_logins(USER, "SCRAM-SHA-256")

    run(scenario())


# -- e. slixmpp ----------------------------------------------------------------------------

class PlainSlixmpp(slixmpp.ClientXMPP):
    """slixmpp as an application would use it: a ClientXMPP with XEP-0030 and XEP-0199, the
    certificate check off (the self-signed certificate), nothing else changed. Records the
    <auth/> elements it sends, failed_auth events and the chat messages it gets."""

    def __init__(self, jid: str, password: str, to: str, body: str):
        super().__init__(jid, password)
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0199")
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.auths: list = []  # (mechanism, initial response)
        self.failed_auths: list = []
        self.chats: list = []
        self.arrived = asyncio.Event()
        loop = asyncio.get_running_loop()
        self.outcome = loop.create_future()  # "session_start" | "failed_all_auth" | "disconnected"
        self.gone = loop.create_future()
        self.add_filter("out", self._record_out)
        self.add_event_handler("failed_auth", lambda f: self.failed_auths.append(str(f)))
        self.add_event_handler("failed_all_auth", lambda _: self._settle(self.outcome, "failed_all_auth"))
        self.add_event_handler("disconnected", self._on_disconnected)
        self.add_event_handler("message", self._on_message)
        self.add_event_handler("session_start", self._on_session_start)
        self.to, self.body = to, body

    @staticmethod
    def _settle(future, value):
        if not future.done():
            future.set_result(value)

    def _record_out(self, stanza):
        if stanza.xml.tag == "{urn:ietf:params:xml:ns:xmpp-sasl}auth":
            self.auths.append((stanza.xml.get("mechanism"), base64.b64decode(stanza.xml.text or "")))
        return stanza

    def _on_session_start(self, _):
        self.send_presence()
        self.send_message(mto=self.to, mbody=self.body, mtype="chat")
        self._settle(self.outcome, "session_start")

    def _on_message(self, msg):
        if msg["type"] in ("chat", "normal"):
            self.chats.append(msg)
            self.arrived.set()

    def _on_disconnected(self, _):
        self._settle(self.outcome, "disconnected")
        self._settle(self.gone, True)


@pytest.mark.parametrize("kind", ["starttls", "direct-tls"])
def test_slixmpp_at_its_defaults(default_server, kind):
    """slixmpp 1.8.3 picks SCRAM-SHA-512-PLUS, binding with gs2 header 'p=tls-unique,,'.

    Why: slixmpp.util.sasl.client.choose() takes the highest MECH_SEC_SCORES entry among
    the offered mechanisms it knows; each SCRAM-SHA-* is also registered as -PLUS with 10
    points more, so SCRAM-SHA-512-PLUS wins. feature_mechanisms' _default_credentials fills
    'channel_binding' with ssl_object.get_channel_binding(), CPython's only type,
    'tls-unique' (on TLS 1.3 too, where OpenSSL still gives the first Finished message), and
    SCRAM.process_1 then sends 'p=tls-unique'. Starling accepts tls-unique on TLS 1.3 for
    such clients (src/net/tls_session.cpp), so the first mechanism tried works: no
    failed_auth, no fallback.

    The client: ClientXMPP(jid, password) with xep_0030 and xep_0199, check_hostname off and
    CERT_NONE; connect(("127.0.0.1", port)) for STARTTLS, use_ssl=True for direct TLS
    (slixmpp 1.8.3's way; enable_direct_tls came later)."""
    server = default_server
    direct = kind == "direct-tls"
    body, reply = f"hello from slixmpp {token()}", f"reply to slixmpp {token()}"

    async def scenario():
        window = LogWindow(server)
        bob = await peer(server, "slixmpp-peer")
        client = PlainSlixmpp(f"{USER}@{DOMAIN}", PASSWORD, f"{PEER}@{DOMAIN}", body)
        client.connect(("127.0.0.1", server.tls_port if direct else server.port), use_ssl=direct)
        try:
            try:
                outcome = await asyncio.wait_for(asyncio.shield(client.outcome), HANG_TIMEOUT)
            except asyncio.TimeoutError:
                raise AssertionError(f"slixmpp neither logged in nor failed within {HANG_TIMEOUT}s; "
                                     f"sent {client.auths}\n{window.text()[-3000:]}") from None
            assert outcome == "session_start", (
                f"slixmpp did not log in ({outcome}); sent {client.auths}, failed_auth {client.failed_auths}\n"
                f"{window.text()[-3000:]}")
            assert client.failed_auths == []
            assert len(client.auths) == 1, client.auths
            mechanism, initial = client.auths[0]
            assert mechanism == "SCRAM-SHA-512-PLUS", client.auths
            assert initial.startswith(b"p=tls-unique,,n=alice,r="), client.auths
            alice_full = client.boundjid.full

            got = await bob.message(lambda m: m["body"] == body, "slixmpp's message")
            assert got["type"] == "chat"
            assert got["from"].full == alice_full
            bob.send_message(mto=got["from"], mbody=reply, mtype="chat")
            answer = await wait_in(client.chats, client.arrived, lambda m: m["body"] == reply, HANG_TIMEOUT)
            assert answer is not None, f"slixmpp got no reply from bob; got {[str(m) for m in client.chats]}"
            assert answer["from"].full == "bob@localhost/slixmpp-peer"
            assert client.failed_auths == []
        finally:
            client.disconnect()
            try:
                await asyncio.wait_for(asyncio.shield(client.gone), HANG_TIMEOUT)
            except asyncio.TimeoutError:
                if client.transport is not None and not client.transport.is_closing():
                    client.abort()
        await window.assert_clean_logins(USER, "SCRAM-SHA-512-PLUS")

    run(scenario())
