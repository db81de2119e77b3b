"""Hostile and broken input to the HTTP server and to XMPP over WebSocket (RFC 7395).

HTTP (RFC 9110, RFC 9112) is spoken with raw sockets, so malformed requests reach the server
as written; valid WebSocket connections use python3-websockets 10.4, malformed frames
(RFC 6455 §5) go out raw after a valid handshake. Each case checks the exact answer (status,
stream error, close frame) and that the server still serves afterwards: a slixmpp client
logs in on TCP and pings, and a new WebSocket connection gets its <open/>."""
import asyncio
import base64
import os
import socket
import ssl
import time
import xml.etree.ElementTree as ET

import pytest
import websockets

from conftest import Server
from xmpp_client import login, run

NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
NS_STREAMS = "http://etherx.jabber.org/streams"
NS_STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
KIB = 1024
TIMEOUT = 10

OPEN = f"<open xmlns='{NS_FRAMING}' to='localhost' version='1.0'/>"
CLOSE = f"<close xmlns='{NS_FRAMING}'/>"
STREAM_ERROR_START = f"<stream:error xmlns:stream='{NS_STREAMS}'>"
FEATURES_START = f"<stream:features xmlns:stream='{NS_STREAMS}'"


def tls_context():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the server's first-start, self-signed certificate
    return context


def log_tail(server, lines=30):
    return "\n".join(server.log().splitlines()[-lines:])


# -- HTTP over a raw socket -------------------------------------------------------------------

def connect(server, tls=False):
    sock = socket.create_connection(("127.0.0.1", server.https_port if tls else server.http_port), timeout=TIMEOUT)
    return tls_context().wrap_socket(sock) if tls else sock


def read_until_closed(sock):
    """Everything the server sends until it closes the connection; (bytes, closed)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (socket.timeout, TimeoutError):
        return data, False
    except (ConnectionResetError, ssl.SSLError):
        pass
    return data, True


def http(server, request: bytes, tls=False):
    """Sends `request` as is; returns (status, headers with lowercase names, body, closed)."""
    with connect(server, tls) as sock:
        try:
            sock.sendall(request)
        except OSError:
            pass  # the server may stop reading once it has seen enough to refuse
        data, closed = read_until_closed(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), f"not an HTTP/1.1 answer: {data[:200]!r}"
    headers = {name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in lines[1:])}
    return int(lines[0].split()[1]), headers, body, closed


def get(server, target, *extra_headers, method="GET", tls=False):
    request = f"{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    return http(server, (request + "".join(h + "\r\n" for h in extra_headers) + "\r\n").encode(), tls)


# -- WebSocket ----------------------------------------------------------------------------------

def ws_uri(server, tls=True):
    return (f"wss://127.0.0.1:{server.https_port}" if tls else f"ws://127.0.0.1:{server.http_port}") + "/xmpp-websocket"


def ws_connect(server, tls=True, subprotocols=("xmpp",)):
    return websockets.connect(ws_uri(server, tls), subprotocols=list(subprotocols) if subprotocols else None,
                              ssl=tls_context() if tls else None, open_timeout=TIMEOUT, close_timeout=TIMEOUT)


async def exchange(server, messages, tls=True, until_closed=True, count=0):
    """Sends each message on a new connection; returns (received, close code) once the server
    has closed (until_closed) or `count` messages have come."""
    async with ws_connect(server, tls) as ws:
        assert ws.subprotocol == "xmpp", ws.response_headers
        for m in messages:
            await ws.send(m)
        received = []
        while until_closed or len(received) < count:
            try:
                received.append(await asyncio.wait_for(ws.recv(), TIMEOUT))
            except websockets.ConnectionClosed:
                break
            except asyncio.TimeoutError:
                raise AssertionError(f"nothing more within {TIMEOUT}s (open: {ws.open}); received {received}")
        return received, ws.close_code


def parse(message):
    return ET.fromstring(message)


def assert_open(message):
    """RFC 7395 §3.4: the server's answer to <open/>."""
    e = parse(message)
    assert e.tag == f"{{{NS_FRAMING}}}open", message
    assert e.get("from") == "localhost" and e.get("version") == "1.0" and e.get("id"), message
    assert message.startswith(f"<open xmlns='{NS_FRAMING}'"), message


async def assert_websocket_serves(server):
    received, _ = await exchange(server, [OPEN], until_closed=False, count=1)
    assert_open(received[0])


def assert_still_serving(server):
    """The server is alive, a TCP client logs in and pings, and a new WebSocket gets <open/>."""
    assert server.alive(), "the server died:\n" + log_tail(server)

    async def body():
        client = await login(server, "carol", resource="after-bad-input")
        await client.sync()  # a ping (XEP-0199) answered with a result
        await assert_websocket_serves(server)

    run(body())


# -- HTTP: routes, CORS, limits ------------------------------------------------------------------

@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_host_meta_allows_any_origin_xep_0156(server, tls):
    """XEP-0156 §3: host-meta is fetched cross-origin by web clients (Fetch standard, CORS)."""
    status, headers, body, _ = get(server, "/.well-known/host-meta", "Origin: https://web.example", tls=tls)
    assert status == 200 and headers["content-type"] == "application/xrd+xml", headers
    assert headers.get("access-control-allow-origin") == "*", headers
    assert b"urn:xmpp:alt-connections:websocket" in body, body


def test_options_preflight_on_any_path_is_204_with_allowed_methods(server):
    """CORS preflight (Fetch standard §3.2.2); RFC 9110 §15.3.5: 204 carries no body."""
    status, headers, body, _ = get(server, "/any/path", "Origin: https://web.example",
                                   "Access-Control-Request-Method: GET", method="OPTIONS")
    assert status == 204 and body == b"", (status, headers, body)
    assert headers.get("access-control-allow-methods") == "GET, HEAD, POST, OPTIONS", headers
    assert headers.get("access-control-allow-headers") == "Content-Type", headers
    assert headers.get("access-control-allow-origin") == "*", headers


@pytest.mark.parametrize("method,target,expected", [
    ("GET", "/xmpp-websocket", 426),  # RFC 9110 §15.5.22: the WebSocket endpoint needs an Upgrade
    ("PUT", "/x", 405),               # RFC 9110 §15.5.6
    ("DELETE", "/.well-known/host-meta", 405),
    ("GET", "/no/such/thing", 404),   # RFC 9110 §15.5.5
    ("GET", "/hello.txt", 404),       # no static_dir by default: no files served
])
def test_status_codes_of_plain_requests(server, method, target, expected):
    status, headers, _, _ = get(server, target, method=method)
    assert status == expected, (status, headers)
    assert_still_serving(server)


@pytest.mark.parametrize("case", ["headers_over_16_kib", "body_over_max_request_bytes"])
def test_too_large_request_is_413_and_closed(server, case):
    """RFC 9110 §15.5.14 (413 Content Too Large); the server then closes (RFC 9112 §9.6)."""
    if case == "headers_over_16_kib":
        request = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * (17 * KIB) + b"\r\n\r\n"
    else:
        request = b"POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 70000\r\n\r\n" + b"a" * 70000
    status, headers, _, closed = http(server, request)
    assert status == 413, (status, headers)
    assert closed, "the connection stayed open after 413"
    assert_still_serving(server)


@pytest.mark.parametrize("request_line", [b"HELLO\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                                          b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n"],
                         ids=["garbage", "method_only", "bad_version", "bad_header_line"])
def test_malformed_request_is_400_and_closed(server, request_line):
    """RFC 9112 §3 (request line), §5 (field lines): a malformed request gets 400, then close."""
    status, headers, _, closed = http(server, request_line)
    assert status == 400, (status, headers)
    assert closed, "the connection stayed open after 400"
    assert_still_serving(server)


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_silent_connection_is_closed_after_request_timeout(make_server, tls):
    """A connection that never sends a request (nor a TLS ClientHello) is closed once
    [http] request_timeout has passed, not before (a slowloris guard)."""
    server = make_server(http="request_timeout = 1")
    server.add_user("carol")
    server.start()
    port = server.https_port if tls else server.http_port
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        started = time.monotonic()
        data, closed = read_until_closed(sock)
        elapsed = time.monotonic() - started
    assert closed and data == b"", f"not closed within {TIMEOUT}s (got {data!r})"
    assert 0.5 <= elapsed < 5, f"closed after {elapsed:.2f}s with request_timeout = 1"
    assert_still_serving(server)


# -- HTTP: static files -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def static_server(tmp_path_factory):
    """A server with static_dir = <root>/www; its config (starling.toml) lies one level up, in
    reach of a traversal, and www/secret is what /sub/%2F..%2Fsecret would name if decoded."""
    root = tmp_path_factory.mktemp("starling-static")
    www = root / "www"
    (www / "sub").mkdir(parents=True)
    (www / "hello.txt").write_bytes(b"hello, static world\n")
    (www / "index.html").write_bytes(b"<!doctype html><p>index</p>\n")
    (www / "secret").write_bytes(b"only by its own name\n")
    (www / ".hidden").write_bytes(b"dot files are not served\n")
    s = Server(root, http=f'static_dir = "{www}"')
    s.add_user("carol")
    s.start()
    yield s
    s.stop()


def test_static_file_and_index_are_served(static_server):
    status, headers, body, _ = get(static_server, "/hello.txt")
    assert (status, headers["content-type"], body) == (200, "text/plain; charset=utf-8", b"hello, static world\n")
    status, headers, body, _ = get(static_server, "/")
    assert (status, headers["content-type"], body) == (200, "text/html; charset=utf-8",
                                                       b"<!doctype html><p>index</p>\n")


@pytest.mark.parametrize("target", ["/../starling.toml", "/%2e%2e/starling.toml", "/%2E%2E/starling.toml",
                                    "/sub/../../starling.toml", "/sub/%2F..%2Fsecret", "/.hidden",
                                    "/sub/%2e%2e/%2e%2e/starling.toml", "/hello.txt%00.html"])
def test_traversal_and_hidden_files_are_404(static_server, target):
    """RFC 3986 §3.3, §6.2.2.2: decoded segments are checked, so no dot segment, encoded slash
    or NUL leaves static_dir; names starting with '.' are never served."""
    status, headers, body, _ = get(static_server, target)
    assert status == 404, (status, headers, body[:200])
    assert b"data_dir" not in body and b"only by its own name" not in body
    assert_still_serving(static_server)


# -- WebSocket: handshake and stream opening ----------------------------------------------------

@pytest.mark.parametrize("subprotocols", [None, ("chat",)], ids=["none", "chat"])
def test_upgrade_without_xmpp_subprotocol_is_400(server, subprotocols):
    """RFC 7395 §3.1: the client offers "xmpp" in Sec-WebSocket-Protocol; without it the
    handshake fails (RFC 6455 §4.2.2) and no WebSocket is opened."""
    async def body():
        with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
            async with ws_connect(server, subprotocols=subprotocols):
                pass
        assert refused.value.status_code == 400

    run(body())
    assert_still_serving(server)


def test_open_over_wss_answers_open_and_sasl_features(server):
    """RFC 7395 §3.2 (subprotocol "xmpp" named in the answer), §3.4 (<open/> answered with
    <open/>), §3.3.3 (features with their stream prefix declared); §3.1: never <starttls/>."""
    received, _ = run(exchange(server, [OPEN], until_closed=False, count=2))
    assert_open(received[0])
    assert received[1].startswith(FEATURES_START), received[1]
    features = parse(received[1])
    mechanisms = [m.text for m in features.iter(f"{{{NS_SASL}}}mechanism")]
    assert "SCRAM-SHA-256" in mechanisms and "SCRAM-SHA-256-PLUS" in mechanisms, received[1]
    assert features.find(f"{{{NS_TLS}}}starttls") is None, received[1]


def test_open_over_plain_ws_offers_no_mechanisms_and_no_starttls(server):
    """RFC 7395 §3.1: no STARTTLS over WebSocket; c2s requires TLS by default (RFC 6120
    §13.9.4), so plain ws:// offers no SASL mechanism at all."""
    received, _ = run(exchange(server, [OPEN], tls=False, until_closed=False, count=2))
    assert_open(received[0])
    assert received[1].startswith(FEATURES_START), received[1]
    features = parse(received[1])
    assert features.find(f"{{{NS_SASL}}}mechanisms") is None, received[1]
    assert features.find(f"{{{NS_TLS}}}starttls") is None, received[1]


# -- WebSocket: bad XML gets a stream error, <close/>, and the close ---------------------------------

def message_of_size(size):
    head, tail = "<message xmlns='jabber:client' to='bob@localhost'><body>", "</body></message>"
    return head + "a" * (size - len(head) - len(tail)) + tail


BAD_INPUT = {
    # RFC 7395 §3.3.3: a message is exactly one complete element.
    "not_xml": ([OPEN, "hello"], "not-well-formed"),
    "two_elements": ([OPEN, "<message xmlns='jabber:client'/><message xmlns='jabber:client'/>"], "not-well-formed"),
    "half_an_element": ([OPEN, "<message xmlns='jabber:client'>"], "not-well-formed"),
    # RFC 6120 §13.12 item 4: the pre-auth stanza limit (max_stanza_size_preauth = 10 KiB).
    "over_10_kib_before_auth": ([OPEN, message_of_size(10 * KIB + 1)], "policy-violation"),
    # RFC 6120 §11.1: no DTD, no entity declaration.
    "doctype": ([OPEN, "<!DOCTYPE message><message xmlns='jabber:client'/>"], "restricted-xml"),
    "entity_declaration": ([OPEN, "<!DOCTYPE message [<!ENTITY x 'y'>]><message xmlns='jabber:client'>"
                                  "<body>&x;</body></message>"], "restricted-xml"),
    # RFC 6120 §4.9.3.6, §4.9.3.10; RFC 7395 §3.3.2: <open/> is in the framing namespace.
    "unknown_host": ([f"<open xmlns='{NS_FRAMING}' to='nosuch.example' version='1.0'/>"], "host-unknown"),
    "open_in_wrong_namespace": (["<open xmlns='jabber:client' to='localhost' version='1.0'/>"], "invalid-namespace"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_gets_stream_error_close_and_websocket_close(server, case):
    """RFC 7395 §3.6: the stream error (RFC 6120 §4.9) is followed by <close/>, then the server
    closes the WebSocket connection (RFC 6455 §7.4.1: 1000)."""
    messages, condition = BAD_INPUT[case]
    received, code = run(exchange(server, messages))
    context = f"received {[m[:300] for m in received]}, close code {code}\n{log_tail(server)}"
    assert len(received) >= 2 and received[-2].startswith(STREAM_ERROR_START), context
    got = [child.tag for child in parse(received[-2])][0]
    assert got == f"{{{NS_STREAM_ERRORS}}}{condition}", context
    assert received[-1] == CLOSE, context
    assert code == 1000, context
    assert_still_serving(server)


# -- WebSocket: malformed frames ----------------------------------------------------------------

def raw_handshake(server, tls):
    """A valid opening handshake (RFC 6455 §4.1) on a raw socket; returns the socket."""
    sock = connect(server, tls)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /xmpp-websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  f"Sec-WebSocket-Protocol: xmpp\r\n\r\n").encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        assert chunk, f"closed during the handshake: {answer!r}"
        answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ") and b"\r\nSec-WebSocket-Protocol: xmpp" in head, head
    assert rest == b"", rest
    return sock


def frame(opcode, payload: bytes, masked=True):
    """One final frame (RFC 6455 §5.2) with a payload under 126 bytes."""
    assert len(payload) < 126
    if not masked:
        return bytes([0x80 | opcode, len(payload)]) + payload
    key = os.urandom(4)
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


@pytest.mark.parametrize("tls", [True, False], ids=["wss", "ws"])
@pytest.mark.parametrize("case", ["unmasked_client_frame", "reserved_opcode_3", "reserved_bit_set"])
def test_malformed_frame_fails_the_connection_with_1002(server, case, tls):
    """RFC 6455 §5.1 (client frames are masked), §5.2 (RSV bits, opcodes 0x3-0x7 reserved),
    §7.1.7 and §7.4.1: the server fails the connection with a close frame of code 1002
    (protocol error), then closes the TCP connection."""
    bad = {"unmasked_client_frame": frame(0x1, OPEN.encode()[:120], masked=False),
           "reserved_opcode_3": frame(0x3, b"x"),
           "reserved_bit_set": bytes([0xC0 | 0x1]) + frame(0x1, b"x")[1:]}[case]
    with raw_handshake(server, tls) as sock:
        sock.sendall(bad)
        data, closed = read_until_closed(sock)
    assert data == b"\x88\x02\x03\xea", f"expected a close frame with code 1002, got {data!r}"
    assert closed, "the connection stayed open"
    assert_still_serving(server)
