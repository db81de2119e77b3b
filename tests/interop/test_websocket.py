"""XMPP over WebSocket (RFC 7395) with real clients: @xmpp/client (npm, in tests/web, run by
node) logs in over wss:// with SCRAM, chats with a slixmpp client on TCP and logs out with
<close/>; the server's endpoints are found through XEP-0156 host-meta."""
import json
import os
import subprocess
import urllib.request
import ssl
from pathlib import Path

import pytest

from conftest import PASSWORD
from xmpp_client import available, login, run

WEB = Path(__file__).resolve().parent.parent / "web"


def node_client(script, **env):
    """Runs a tests/web script with node; returns its JSON lines."""
    result = subprocess.run(["node", str(WEB / script)], cwd=WEB, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "NODE_TLS_REJECT_UNAUTHORIZED": "0", **env})
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result, lines


def fetch(url):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the server's first-start, self-signed certificate
    with urllib.request.urlopen(url, context=context, timeout=10) as response:
        return response.status, dict(response.headers), response.read().decode()


def test_host_meta_names_the_websocket_endpoint_xep_0156(server):
    status, headers, body = fetch(f"https://127.0.0.1:{server.https_port}/.well-known/host-meta")
    assert status == 200 and headers["Content-Type"] == "application/xrd+xml", headers
    assert f"href='wss://127.0.0.1:{server.https_port}/xmpp-websocket'" in body, body
    assert "rel='urn:xmpp:alt-connections:websocket'" in body, body
    status, headers, body = fetch(f"http://127.0.0.1:{server.http_port}/.well-known/host-meta.json")
    links = json.loads(body)["links"]
    assert {"rel": "urn:xmpp:alt-connections:websocket",
            "href": f"ws://127.0.0.1:{server.http_port}/xmpp-websocket"} in links, body


def test_xmpp_client_chats_over_websocket_with_a_tcp_client(server):
    async def body():
        bob = await login(server, "bob", resource="tcp")
        await available(bob)
        import asyncio
        loop = asyncio.get_running_loop()
        # @xmpp/client sends its message, then waits for bob's answer.
        future = loop.run_in_executor(None, lambda: node_client(
            "websocket_chat.mjs", SERVICE=f"wss://localhost:{server.https_port}/xmpp-websocket",
            DOMAIN="localhost", USERNAME="alice", PASSWORD=PASSWORD, PEER="bob@localhost"))
        hello = await bob.message(lambda m: m["body"] == "hello over websocket", "the websocket client's message")
        assert str(hello["from"]) == "alice@localhost/websocket", hello
        bob.send_message(mto=hello["from"], mbody="hello over tcp", mtype="chat")
        result, lines = await future
        events = [line["event"] for line in lines]
        assert result.returncode == 0, (result.stdout, result.stderr)
        assert events[0] == "online" and lines[0]["jid"] == "alice@localhost/websocket", lines
        assert {"event": "message", "from": "bob@localhost/tcp", "body": "hello over tcp"} in lines, lines
        assert events[-1] == "stopped" and "error" not in events, lines
        # The server saw a WebSocket stream end with the stream's own closing, not a drop.
        log = server.log()
        assert "connected on WebSocket over TLS" in log and "jid=alice@localhost/websocket closed the stream" in log

    run(body())
