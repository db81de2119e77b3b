"""Shared slixmpp helpers for the interop tests.

Everything here drives a real `starling` (see conftest.py) with slixmpp 1.8 (Debian's
python3-slixmpp). Timeouts in this file only protect against hangs: no test asserts on
how long anything took.

SCRAM and channel binding with slixmpp
--------------------------------------
A Client is slixmpp at its defaults unless a test forces a mechanism. At its defaults,
slixmpp 1.8 picks the strongest mechanism offered, SCRAM-SHA-512-PLUS, and binds with
'tls-unique', the only type CPython's ssl knows, on TLS 1.3 too (slixmpp/util/sasl/
mechanisms.py, SCRAM.process_1; the data is ssl_object.get_channel_binding(), the client's
Finished message). Starling accepts that binding (see src/net/tls_session.cpp).

When a test forces a plain SCRAM-SHA-*, slixmpp would send gs2 flag 'y' ("I could bind,
I think you cannot"), which a server that advertised -PLUS must refuse as a downgrade
(RFC 5802 §6). So for a forced non-PLUS mechanism the Client gives slixmpp no
channel-binding credential: we wrap sasl_callback so 'channel_binding' is never asked
for; sasl.choose() then fills in b'' and SCRAM sends 'n' ("I do not support channel
binding"), the honest answer for a client that does not bind. Pass channel_binding=True
to keep slixmpp's 'y' anyway (the downgrade test does).
"""
import asyncio
import base64
import ssl
import xml.etree.ElementTree as ET
from typing import Callable, Optional

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.stanza import Iq, Message
from slixmpp.stanza.stream_error import StreamError

from conftest import PASSWORD

# Longest wait for any one thing the server should send; a guard against hangs only.
HANG_TIMEOUT = 20
# Longest a whole test coroutine may run.
TEST_TIMEOUT = 90

SASL_NS = "urn:ietf:params:xml:ns:xmpp-sasl"

# Clients made during the current run(): aborted when it ends, whatever happened.
_live_clients: list = []


async def wait_in(items: list, arrived: asyncio.Event, predicate: Callable, timeout: float, start: int = 0):
    """The first of `items` (from `start`) matching `predicate`, waiting for more to be
    appended (the appender sets `arrived`); None once `timeout` has passed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    i = start
    for _ in range(100_000):  # bounded; the deadline ends it long before
        while i < len(items):
            if predicate(items[i]):
                return items[i]
            i += 1
        remaining = deadline - loop.time()
        if remaining <= 0:
            return None
        arrived.clear()
        try:
            await asyncio.wait_for(arrived.wait(), remaining)
        except asyncio.TimeoutError:
            return None
    return None


def run(coro, timeout: float = TEST_TIMEOUT):
    """Runs a test coroutine on a fresh event loop with a hard timeout (a hang fails the
    test instead of blocking the suite); every Client made meanwhile is aborted after."""

    async def guarded():
        try:
            return await asyncio.wait_for(coro, timeout)
        finally:
            for c in list(_live_clients):
                c.close_now()
            _live_clients.clear()
            await asyncio.sleep(0)  # let transports see the abort

    return asyncio.run(guarded())


class Client(slixmpp.ClientXMPP):
    """A ClientXMPP that trusts the test server's self-signed certificate, is slixmpp at its
    defaults unless a mechanism is forced (see the module docstring), and records every element
    the server sends (stanzas, SASL elements, stream errors) in `received`, in order."""

    def __init__(self, jid: str, password: str = PASSWORD, *, mech: Optional[str] = None,
                 channel_binding: Optional[bool] = None):
        super().__init__(jid, password, sasl_mech=mech)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        if channel_binding is None:  # slixmpp's default, unless a non-PLUS mechanism is forced
            channel_binding = mech is None or mech.endswith("-PLUS")
        if not channel_binding:
            if mech is None:
                # Without a binding credential a -PLUS mechanism cannot work: choose
                # among the others.
                self["feature_mechanisms"].use_mechs = {"SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}
            default_callback = self["feature_mechanisms"].sasl_callback

            def no_channel_binding(required, optional):
                return default_callback(set(required) - {"channel_binding"},
                                        set(optional) - {"channel_binding"})

            self["feature_mechanisms"].sasl_callback = no_channel_binding
        self.received: list = []
        self.sent: list = []  # every stanza and SASL element sent through slixmpp's send()
        self._arrived = asyncio.Event()
        self.closed = asyncio.Event()
        # Outcome of the login: ("bound", jid) | ("failed_auth", condition) |
        # ("bind_error", condition) | ("disconnected", None)
        self.outcome: asyncio.Future = asyncio.get_running_loop().create_future()
        self.add_filter("in", self._record)
        self.add_filter("out", self._record_sent)
        self.add_event_handler("session_start", self._on_session_start)
        self.add_event_handler("failed_auth", self._on_failed_auth)
        self.add_event_handler("disconnected", self._on_disconnected)
        _live_clients.append(self)

    def close_now(self):
        """Drops the connection unless it is gone already (asyncio's SSL transport
        raises when aborted twice)."""
        transport = self.transport
        if transport is not None and not transport.is_closing():
            try:
                self.abort()
            except Exception:  # noqa: BLE001 - best effort at the end of a test
                pass

    # -- recording -----------------------------------------------------------------
    def _record(self, stanza):
        self.received.append(stanza)
        self._arrived.set()
        if (isinstance(stanza, Iq) and stanza["type"] == "error" and not self.sessionstarted
                and not self.outcome.done()):
            # A refused <bind/>: slixmpp itself only logs the IqError.
            self.outcome.set_result(("bind_error", stanza["error"]["condition"]))
        return stanza

    def _record_sent(self, stanza):
        self.sent.append(stanza)
        return stanza

    def sasl_auth(self):
        """The <auth/> elements sent, as (mechanism, decoded initial response)."""
        return [(s.xml.get("mechanism"), base64.b64decode(s.xml.text or ""))
                for s in self.sent if s.xml.tag == f"{{{SASL_NS}}}auth"]

    def _on_session_start(self, _):
        if not self.outcome.done():
            self.outcome.set_result(("bound", self.boundjid.full))

    def _on_failed_auth(self, failure):
        if not self.outcome.done():
            self.outcome.set_result(("failed_auth", failure["condition"]))

    def _on_disconnected(self, _):
        self.closed.set()
        if not self.outcome.done():
            self.outcome.set_result(("disconnected", None))

    async def wait_for(self, predicate: Callable, what: str = "a matching element",
                       timeout: float = HANG_TIMEOUT, start: int = 0):
        """The first element in `received` (from index `start`) matching `predicate`,
        waiting for it to arrive if need be."""
        found = await wait_in(self.received, self._arrived, predicate, timeout, start)
        if found is not None:
            return found
        raise AssertionError(f"{self.boundjid.full or self.requested_jid}: no {what} within {timeout}s; "
                             f"received: {[str(s) for s in self.received[start:]]}")

    async def wait_closed(self, timeout: float = HANG_TIMEOUT):
        try:
            await asyncio.wait_for(self.closed.wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self.boundjid.full}: connection still open after {timeout}s") from None

    async def stream_error(self, timeout: float = HANG_TIMEOUT) -> StreamError:
        return await self.wait_for(lambda s: isinstance(s, StreamError), "stream error", timeout)

    # -- requests ------------------------------------------------------------------
    async def query(self, type_: str, to: Optional[str], payload: str, timeout: float = HANG_TIMEOUT) -> Iq:
        """Sends an iq of `type_` with `payload` (XML text) and returns the answer, a result
        or an error alike."""
        # An explicit id: slixmpp's default collides when several queries are in flight.
        iq = self.make_iq(id=self.new_id(), ifrom=None, ito=to, itype=type_)
        iq.append(ET.fromstring(payload))
        try:
            return await iq.send(timeout=timeout)
        except IqError as e:
            return e.iq
        except IqTimeout:
            raise AssertionError(f"no answer to {iq} within {timeout}s") from None

    async def sync(self):
        """A round trip to the server: everything sent before it has been processed by our
        stream when this returns."""
        reply = await self.query("get", self.boundjid.domain, "<ping xmlns='urn:xmpp:ping'/>")
        assert reply["type"] == "result", str(reply)

    def messages(self, start: int = 0):
        return [s for s in self.received[start:] if isinstance(s, Message)]

    async def message(self, predicate: Callable = lambda m: True, what: str = "message", start: int = 0) -> Message:
        return await self.wait_for(lambda s: isinstance(s, Message) and predicate(s), what, start=start)


def error_condition(stanza) -> str:
    """The defined condition of a stanza error (RFC 6120 §8.3.3), or ''."""
    return stanza["error"]["condition"] if stanza["type"] == "error" else ""


async def attempt_login(server, user: str, *, resource: Optional[str] = "test", password: str = PASSWORD,
                        direct_tls: bool = False, mech: Optional[str] = None,
                        channel_binding: Optional[bool] = None,
                        timeout: float = HANG_TIMEOUT) -> Client:
    """Connects and logs in; returns the Client with `outcome` resolved (see Client)."""
    jid = f"{user}@{server.domain}" + (f"/{resource}" if resource else "")
    client = Client(jid, password, mech=mech, channel_binding=channel_binding)
    port = server.tls_port if direct_tls else server.port
    client.connect(("127.0.0.1", port), use_ssl=direct_tls)
    try:
        await asyncio.wait_for(asyncio.shield(client.outcome), timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"login of {jid} neither succeeded nor failed within {timeout}s; "
                             f"received: {[str(s) for s in client.received]}") from None
    return client


async def login(server, user: str, **kwargs) -> Client:
    """attempt_login that must succeed: a bound session."""
    client = await attempt_login(server, user, **kwargs)
    outcome = client.outcome.result()
    assert outcome[0] == "bound", f"login of {user} failed: {outcome}\n--- server log tail ---\n{server.log()[-4000:]}"
    return client


async def available(client: Client, priority: int = 0):
    """Sends initial presence (RFC 6121 §4.2) so bare-JID messages may be routed to the
    client, then a round trip so the server has taken it in before the caller goes on."""
    client.send_presence(ppriority=priority)
    await client.sync()
