"""A small raw XMPP client for the interop tests: no XMPP library, just a socket.

It connects to 127.0.0.1 in plaintext (STARTTLS port) or with TLS from the first byte
(direct TLS port), sends whatever bytes a test wants, and reads what the server sends as
events: the stream header, each complete top-level element (parsed with xml.etree), the
closing tag, and the end of the connection. TLS is pyOpenSSL without certificate
verification, so that SCRAM-*-PLUS can use both channel-binding types: tls-server-end-point
(RFC 5929 §4: a hash of the server certificate) and tls-exporter (RFC 9266).

Every read has a deadline, so a test can never hang on a server that stays silent."""
import base64
import hashlib
import hmac
import os
import re
import select
import socket
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from OpenSSL import SSL, crypto

NS_CLIENT = "jabber:client"
NS_STREAMS = "http://etherx.jabber.org/streams"
NS_STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_SASL_CB = "urn:xmpp:sasl-cb:0"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_PING = "urn:xmpp:ping"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"

DEFAULT_TIMEOUT = 10.0


def q(ns, local):
    """ElementTree's name for {ns}local."""
    return f"{{{ns}}}{local}"


def stream_header(to="localhost", *, xml_decl=True, version="1.0", ns=NS_CLIENT,
                  stream_ns=NS_STREAMS, extra=""):
    """The bytes of a client stream header; each part can be changed or left out (None)."""
    parts = ["<stream:stream"]
    if ns is not None:
        parts.append(f" xmlns='{ns}'")
    if stream_ns is not None:
        parts.append(f" xmlns:stream='{stream_ns}'")
    if to is not None:
        parts.append(f" to='{to}'")
    if version is not None:
        parts.append(f" version='{version}'")
    parts.append(extra)
    parts.append(">")
    return (("<?xml version='1.0'?>" if xml_decl else "") + "".join(parts)).encode()


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode() if data else "="


def unb64(text):
    text = (text or "").strip()
    return b"" if text in ("", "=") else base64.b64decode(text)


# -- events ---------------------------------------------------------------------------------

@dataclass
class Event:
    kind: str  # "header", "element", "close", "text", "eof"
    raw: bytes = b""
    elem: ET.Element = None
    attrs: dict = field(default_factory=dict)

    @property
    def tag(self):
        return self.elem.tag if self.elem is not None else None

    def __repr__(self):
        return f"Event({self.kind}, {self.raw[:200]!r})"


_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:'([^']*)'|"([^"]*)")""")
_WRAP_OPEN = f"<stream:stream xmlns='{NS_CLIENT}' xmlns:stream='{NS_STREAMS}'>".encode()
_WRAP_CLOSE = b"</stream:stream>"


def parse_fragment(raw):
    """Parses one top-level element as sent inside a client stream (default namespace
    jabber:client, prefix 'stream' bound), or returns None if it does not parse."""
    try:
        root = ET.fromstring(_WRAP_OPEN + raw + _WRAP_CLOSE)
    except ET.ParseError:
        return None
    return root[0] if len(root) else None


def _end_of_tag(buf, start):
    """Index just past the '>' ending the tag that starts at buf[start] ('<'), skipping quoted
    attribute values; -1 if the tag is not complete yet."""
    quote = None
    i = start + 1
    n = len(buf)
    while i < n:
        c = buf[i]
        if quote is not None:
            if c == quote:
                quote = None
        elif c in (0x27, 0x22):  # ' "
            quote = c
        elif c == 0x3E:  # >
            return i + 1
        i += 1
    return -1


def _tag_name(tag):
    m = re.match(rb"</?\s*([^\s/>]+)", tag)
    return m.group(1) if m else b""


def split_events(buf):
    """Splits a received byte buffer into complete events; returns (events, rest)."""
    events = []
    pos = 0
    n = len(buf)
    while pos < n:
        # whitespace between top-level elements (keepalives) is skipped
        while pos < n and buf[pos] in b" \t\r\n":
            pos += 1
        if pos >= n:
            break
        if buf[pos] != 0x3C:  # text at the top level: report it up to the next '<'
            lt = buf.find(b"<", pos)
            end = n if lt < 0 else lt
            events.append(Event("text", bytes(buf[pos:end])))
            pos = end
            continue
        if buf.startswith(b"<?", pos):
            end = buf.find(b"?>", pos)
            if end < 0:
                break
            pos = end + 2
            continue
        end = _end_of_tag(buf, pos)
        if end < 0:
            break
        tag = bytes(buf[pos:end])
        name = _tag_name(tag)
        if tag.startswith(b"</"):
            events.append(Event("close", tag))
            pos = end
            continue
        if name.split(b":")[-1] == b"stream" and not tag.endswith(b"/>"):
            attrs = {}
            for m in _ATTR.finditer(tag):
                value = m.group(2) if m.group(2) is not None else m.group(3)
                attrs[m.group(1).decode()] = value.decode("utf-8", "replace")
            events.append(Event("header", tag, attrs=attrs))
            pos = end
            continue
        # a top-level element: follow its tags to the matching end tag
        if tag.endswith(b"/>"):
            events.append(Event("element", tag, parse_fragment(tag)))
            pos = end
            continue
        depth = 1
        i = end
        complete = False
        while True:
            lt = buf.find(b"<", i)
            if lt < 0:
                break
            if buf.startswith(b"<![CDATA[", lt):
                e = buf.find(b"]]>", lt)
                if e < 0:
                    break
                i = e + 3
                continue
            e = _end_of_tag(buf, lt)
            if e < 0:
                break
            t = buf[lt:e]
            if t.startswith(b"</"):
                depth -= 1
            elif not t.endswith(b"/>"):
                depth += 1
            i = e
            if depth == 0:
                complete = True
                break
        if not complete:
            break
        raw = bytes(buf[pos:i])
        events.append(Event("element", raw, parse_fragment(raw)))
        pos = i
    return events, bytes(buf[pos:])


def stream_error_condition(elem):
    """The defined condition of a <stream:error/>, or None if elem is not one."""
    if elem is None or elem.tag != q(NS_STREAMS, "error"):
        return None
    for child in elem:
        if child.tag.startswith("{" + NS_STREAM_ERRORS + "}") and child.tag != q(NS_STREAM_ERRORS, "text"):
            return child.tag.split("}", 1)[1]
    return "(no condition)"


def sasl_condition(elem):
    """The condition of a SASL <failure/>, or None."""
    if elem is None or elem.tag != q(NS_SASL, "failure"):
        return None
    for child in elem:
        if child.tag != q(NS_SASL, "text"):
            return child.tag.split("}", 1)[1]
    return "(no condition)"


class StreamClosed(Exception):
    """The connection ended while a test waited for something else."""


# -- SCRAM (RFC 5802, RFC 7677) --------------------------------------------------------------

SCRAM_HASHES = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}


def scram_hash_of(mechanism):
    return SCRAM_HASHES[mechanism.removesuffix("-PLUS")]


def _saslname(s):
    return s.replace("=", "=3D").replace(",", "=2C")


class ScramClient:
    """The client side of SCRAM, pure Python. gs2_flag is 'n', 'y' or 'p=<cb-type>';
    cb_data is the channel-binding data appended to the gs2 header in c= (only with 'p')."""

    def __init__(self, hash_name, username, password, gs2_flag="n", cb_data=b"", authzid="", nonce=None):
        self.hash_name = hash_name
        self.username = username
        self.password = password.encode() if isinstance(password, str) else password
        self.gs2_header = (f"{gs2_flag}," + (f"a={_saslname(authzid)}" if authzid else "") + ",").encode()
        self.cb_data = cb_data if gs2_flag.startswith("p=") else b""
        self.nonce = nonce or base64.b64encode(os.urandom(18)).decode().replace(",", "-")
        self.client_first_bare = f"n={_saslname(username)},r={self.nonce}".encode()
        self.server_signature = None

    def _hmac(self, key, msg):
        return hmac.new(key, msg, self.hash_name).digest()

    def _h(self, data):
        return hashlib.new(self.hash_name, data).digest()

    def client_first(self):
        return self.gs2_header + self.client_first_bare

    def client_final(self, server_first, *, tamper_proof=False):
        attrs = dict(part.split(b"=", 1) for part in server_first.split(b",") if b"=" in part)
        nonce = attrs[b"r"]
        if not nonce.startswith(self.nonce.encode()) or len(nonce) <= len(self.nonce):
            raise ValueError(f"server nonce does not extend ours: {server_first!r}")
        salt = base64.b64decode(attrs[b"s"])
        iterations = int(attrs[b"i"])
        salted = hashlib.pbkdf2_hmac(self.hash_name, self.password, salt, iterations)
        client_key = self._hmac(salted, b"Client Key")
        stored_key = self._h(client_key)
        server_key = self._hmac(salted, b"Server Key")
        without_proof = b"c=" + base64.b64encode(self.gs2_header + self.cb_data) + b",r=" + nonce
        auth_message = self.client_first_bare + b"," + server_first + b"," + without_proof
        signature = self._hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        if tamper_proof:
            proof = bytes([proof[0] ^ 1]) + proof[1:]
        self.server_signature = self._hmac(server_key, auth_message)
        return without_proof + b",p=" + base64.b64encode(proof)

    def verify_server_final(self, server_final):
        """True if server_final is v=<our expected ServerSignature>."""
        if not server_final.startswith(b"v=") or self.server_signature is None:
            return False
        return hmac.compare_digest(base64.b64decode(server_final[2:]), self.server_signature)


# -- the connection ---------------------------------------------------------------------------

_CERT_HASHES = {"md5": "sha256", "sha1": "sha256", "sha224": "sha224", "sha256": "sha256",
                "sha384": "sha384", "sha512": "sha512"}


class RawStream:
    """One client connection to 127.0.0.1:port. direct_tls: TLS from the first byte.
    rcvbuf: SO_RCVBUF set before connecting (a small one makes a non-reading client's
    backlog pile up on the server quickly)."""

    def __init__(self, port, *, direct_tls=False, timeout=DEFAULT_TIMEOUT, rcvbuf=None, host="127.0.0.1",
                 max_tls=None):
        self.timeout = timeout
        self.max_tls = max_tls  # e.g. SSL.TLS1_2_VERSION; None: the newest both sides speak
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.tls = None
        self.buf = b""
        self.events = []  # parsed, not yet consumed
        self.received = []  # every event ever parsed, for assertion messages
        self.eof = False
        self.eof_error = None  # how the connection ended, if not with a clean EOF
        self.features = None
        self.header = None
        if direct_tls:
            self.start_tls()

    # ---- bytes ----

    def _wait(self, for_write, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out waiting for the server")
        if for_write:
            select.select([], [self.sock], [], remaining)
        else:
            select.select([self.sock], [], [], remaining)

    def send(self, data, timeout=None):
        """Sends all of data (str or bytes); raises OSError or SSL.Error if the peer has
        closed, TimeoutError if the peer stops reading for longer than the timeout."""
        if isinstance(data, str):
            data = data.encode()
        deadline = time.monotonic() + (timeout or self.timeout)
        view = memoryview(data)
        while len(view):
            try:
                if self.tls is not None:
                    n = self.tls.send(bytes(view[:16384]))
                else:
                    n = self.sock.send(view)
                view = view[n:]
            except (SSL.WantWriteError, BlockingIOError):
                self._wait(True, deadline)
            except SSL.WantReadError:
                self._wait(False, deadline)

    def send_bytewise(self, data):
        """Sends data one byte per send() call."""
        if isinstance(data, str):
            data = data.encode()
        for i in range(len(data)):
            self.send(data[i:i + 1])

    def _recv_some(self, deadline):
        """Reads once (waiting until deadline); returns bytes, b'' at end of connection."""
        while True:
            try:
                if self.tls is not None:
                    return self.tls.recv(65536)
                return self.sock.recv(65536)
            except (SSL.WantReadError, BlockingIOError):
                self._wait(False, deadline)
            except SSL.WantWriteError:
                self._wait(True, deadline)
            except SSL.ZeroReturnError:
                return b""
            except SSL.SysCallError as e:
                self.eof_error = e
                return b""
            except SSL.Error as e:
                self.eof_error = e
                return b""
            except ConnectionError as e:
                self.eof_error = e
                return b""

    def _fill(self, deadline):
        """Reads more events into self.events; False once the connection has ended."""
        if self.eof:
            return False
        data = self._recv_some(deadline)
        if not data:
            self.eof = True
            self.events.append(Event("eof"))
            self.received.append(self.events[-1])
            return False
        self.buf += data
        events, self.buf = split_events(self.buf)
        self.events.extend(events)
        self.received.extend(events)
        return True

    def next_event(self, timeout=None):
        """The next event; raises TimeoutError if none comes within the timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.events:
            if self.eof:
                return Event("eof")
            self._fill(deadline)
        return self.events.pop(0)

    def poll_events(self, wait=0.0):
        """Whatever arrives within `wait` seconds, without blocking longer (the list may be
        empty)."""
        deadline = time.monotonic() + wait
        while not self.eof:
            readable = (self.tls is not None and self.tls.pending()) or \
                select.select([self.sock], [], [], max(0.0, deadline - time.monotonic()))[0]
            if not readable:
                break
            try:
                self._fill(time.monotonic() + 1.0)
            except TimeoutError:
                break
        out, self.events = self.events, []
        return out

    def element(self, timeout=None):
        """The next top-level element (headers and keepalives are skipped); raises
        StreamClosed if the stream ends first."""
        while True:
            ev = self.next_event(timeout)
            if ev.kind == "element":
                return ev.elem if ev.elem is not None else ET.Element("unparsable", raw=ev.raw.decode("utf-8", "replace"))
            if ev.kind in ("close", "eof"):
                raise StreamClosed(f"stream ended while waiting for an element; received {self.received[-8:]}")

    def wait_for(self, predicate, timeout=None):
        """The first element for which predicate(elem) holds, skipping the others."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            elem = self.element(max(0.01, deadline - time.monotonic()))
            if predicate(elem):
                return elem

    def read_until_closed(self, timeout=None):
        """Reads until the connection ends (raises TimeoutError if it does not); returns the
        events seen."""
        deadline = time.monotonic() + (timeout or self.timeout)
        seen = []
        while True:
            try:
                ev = self.next_event(max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                raise TimeoutError(f"the server kept the connection open; received {self.received[-6:]}") from None
            seen.append(ev)
            if ev.kind == "eof":
                return seen

    def expect_stream_error(self, timeout=None):
        """Reads until the connection ends and returns (condition of the stream error seen or
        None, whether the server also sent its closing tag). Raises TimeoutError if the server
        keeps the connection open."""
        events = self.read_until_closed(timeout)
        condition = None
        for ev in events:
            c = stream_error_condition(ev.elem) if ev.kind == "element" else None
            if c and condition is None:
                condition = c
        closed_tag = any(ev.kind == "close" for ev in events)
        return condition, closed_tag

    # ---- TLS ----

    def start_tls(self):
        ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
        ctx.set_verify(SSL.VERIFY_NONE, lambda *a: True)
        ctx.set_mode(1 | 2)  # SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
        if self.max_tls is not None:
            ctx.set_max_proto_version(self.max_tls)
        self.tls = SSL.Connection(ctx, self.sock)
        self.tls.set_tlsext_host_name(b"localhost")
        self.tls.set_connect_state()
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self.tls.do_handshake()
                break
            except SSL.WantReadError:
                self._wait(False, deadline)
            except SSL.WantWriteError:
                self._wait(True, deadline)
        self.buf = b""

    def channel_binding(self, cb_type):
        """Channel-binding data of this connection: tls-server-end-point (RFC 5929 §4.1, the
        certificate's signature hash, SHA-256 for MD5/SHA-1), tls-exporter (RFC 9266) or
        tls-unique (RFC 5929 §3: the first Finished message, the client's own in a full
        handshake; on TLS 1.3 what OpenSSL-based clients such as CPython's ssl send)."""
        if cb_type == "tls-unique":
            return self.tls.get_finished()
        if cb_type == "tls-exporter":
            return self.tls.export_keying_material(b"EXPORTER-Channel-Binding", 32, None)
        if cb_type == "tls-server-end-point":
            cert = self.tls.get_peer_certificate()
            algorithm = cert.get_signature_algorithm().decode().lower()
            name = next((h for h in ("sha512", "sha384", "sha256", "sha224", "sha1", "md5")
                         if h in algorithm.replace("-", "")), "sha256")
            der = crypto.dump_certificate(crypto.FILETYPE_ASN1, cert)
            return hashlib.new(_CERT_HASHES[name], der).digest()
        raise ValueError(cb_type)

    def tls_version(self):
        return self.tls.get_protocol_version_name() if self.tls else None

    # ---- stream ----

    def open(self, to="localhost", **header_kwargs):
        """Sends a stream header; returns the server's <features/> (also self.features)."""
        self.send(stream_header(to, **header_kwargs))
        return self.read_features()

    def read_features(self):
        while True:
            ev = self.next_event()
            if ev.kind == "header":
                self.header = ev.attrs
                continue
            if ev.kind == "element" and ev.tag == q(NS_STREAMS, "features"):
                self.features = ev.elem
                return ev.elem
            if ev.kind in ("close", "eof") or (ev.kind == "element" and stream_error_condition(ev.elem)):
                raise StreamClosed(f"no features; received {self.received[-8:]}")

    def starttls(self):
        """<starttls/>, <proceed/>, the TLS handshake and the new stream's features."""
        self.send(f"<starttls xmlns='{NS_TLS}'/>")
        reply = self.element()
        assert reply.tag == q(NS_TLS, "proceed"), ET.tostring(reply)
        self.events.clear()
        self.start_tls()
        return self.open()

    def mechanisms(self):
        m = self.features.find(q(NS_SASL, "mechanisms")) if self.features is not None else None
        return [e.text for e in m.findall(q(NS_SASL, "mechanism"))] if m is not None else []

    def channel_binding_types(self):
        cb = self.features.find(q(NS_SASL_CB, "sasl-channel-binding")) if self.features is not None else None
        return [e.get("type") for e in cb.findall(q(NS_SASL_CB, "channel-binding"))] if cb is not None else []

    def send_auth(self, mechanism, payload=b"", raw_text=None):
        text = raw_text if raw_text is not None else b64(payload)
        self.send(f"<auth xmlns='{NS_SASL}' mechanism='{mechanism}'>{text}</auth>")

    def send_response(self, payload=b"", raw_text=None):
        text = raw_text if raw_text is not None else b64(payload)
        self.send(f"<response xmlns='{NS_SASL}'>{text}</response>")

    def sasl_reply(self, timeout=None):
        """The next SASL element: ('challenge'|'success'|'failure', payload-or-condition)."""
        elem = self.element(timeout)
        if elem.tag == q(NS_SASL, "challenge"):
            return "challenge", unb64(elem.text)
        if elem.tag == q(NS_SASL, "success"):
            return "success", unb64(elem.text)
        if elem.tag == q(NS_SASL, "failure"):
            return "failure", sasl_condition(elem)
        raise AssertionError(f"not a SASL answer: {ET.tostring(elem)!r}")

    def auth_plain(self, username, password, authzid=""):
        """PLAIN; returns ('success', b'') or ('failure', condition)."""
        self.send_auth("PLAIN", f"{authzid}\0{username}\0{password}".encode())
        return self.sasl_reply()

    def auth_scram(self, mechanism, username, password, *, cb_type=None, gs2_flag=None, cb_data=None,
                   authzid="", empty_initial=False, tamper_proof=False):
        """A SCRAM exchange. For -PLUS, cb_type picks the channel binding (its data comes from
        this connection unless cb_data is given). gs2_flag overrides the flag ('n', 'y',
        'p=<type>'). Returns (outcome, detail, client): ('success', server signature
        verified?), ('failure', condition) or ('challenge', payload) for a surprise."""
        if gs2_flag is None:
            gs2_flag = f"p={cb_type}" if mechanism.endswith("-PLUS") else "n"
        if gs2_flag.startswith("p=") and cb_data is None:
            cb_data = self.channel_binding(gs2_flag[2:])
        client = ScramClient(scram_hash_of(mechanism), username, password, gs2_flag, cb_data or b"", authzid)
        if empty_initial:
            self.send_auth(mechanism, raw_text="")
            kind, payload = self.sasl_reply()
            if kind != "challenge":
                return kind, payload, client
            assert payload == b"", f"the first challenge after an empty <auth/> should be empty: {payload!r}"
            self.send_response(client.client_first())
        else:
            self.send_auth(mechanism, client.client_first())
        kind, payload = self.sasl_reply()
        if kind != "challenge":
            return kind, payload, client
        self.send_response(client.client_final(payload, tamper_proof=tamper_proof))
        kind, payload = self.sasl_reply()
        if kind == "success":
            return kind, client.verify_server_final(payload), client
        return kind, payload, client

    def restart(self):
        """The stream restart after <success/>; returns the new features."""
        self.events.clear()
        return self.open(xml_decl=False)

    def bind(self, resource=None):
        """Binds a resource; returns the full JID."""
        res = f"<resource>{resource}</resource>" if resource else ""
        self.send(f"<iq type='set' id='bind_1'><bind xmlns='{NS_BIND}'>{res}</bind></iq>")
        reply = self.wait_for(lambda e: e.get("id") == "bind_1")
        assert reply.get("type") == "result", ET.tostring(reply)
        return reply.find(f"{q(NS_BIND, 'bind')}/{q(NS_BIND, 'jid')}").text

    def ping(self, ident="ping_1", timeout=None):
        """XEP-0199 ping to the server; returns the reply (an iq result if all is well)."""
        self.send(f"<iq type='get' id='{ident}' to='localhost'><ping xmlns='{NS_PING}'/></iq>")
        return self.wait_for(lambda e: e.get("id") == ident, timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def login(port, username, password, *, direct_tls=False, mechanism="SCRAM-SHA-256", resource=None,
          timeout=DEFAULT_TIMEOUT, rcvbuf=None):
    """A connection authenticated and bound: returns (stream, full JID)."""
    s = RawStream(port, direct_tls=direct_tls, timeout=timeout, rcvbuf=rcvbuf)
    s.open()
    if not direct_tls:
        s.starttls()
    if mechanism == "PLAIN":
        outcome = s.auth_plain(username, password)
    else:
        outcome = s.auth_scram(mechanism, username, password, cb_type="tls-exporter")[:2]
    assert outcome == ("success", True) or (mechanism == "PLAIN" and outcome[0] == "success"), outcome
    s.restart()
    return s, s.bind(resource)


def is_result(elem):
    return elem is not None and elem.tag == q(NS_CLIENT, "iq") and elem.get("type") == "result"
