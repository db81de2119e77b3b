"""A real browser: converse.js (npm converse.js) served by Starling itself from [http]
static_dir, in headless Chromium (Debian's chromium, driven by playwright-core), once over
WebSocket and once over BOSH. Alice logs in through converse's login form, opens the chat
with bob (a slixmpp client on TCP, in her roster), sends a message and sees bob's answer
appear. The screenshot of each run is kept under tests/interop/artifacts/."""
import asyncio
import os
import shutil
from pathlib import Path

import pytest

from conftest import PASSWORD, Server
from test_pep import befriend
from test_websocket import WEB, node_client
from xmpp_client import available, login, run

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("starling-web")
    site = root / "site"
    site.mkdir()
    shutil.copy(WEB / "converse" / "index.html", site / "index.html")
    os.symlink(WEB / "node_modules" / "converse.js" / "dist", site / "dist")
    s = Server(root, http=f'static_dir = "{site}"\n')
    for name in ("alice", "bob"):
        s.add_user(name)
    s.start()

    async def friends():  # bob in alice's roster, as converse will show it
        alice, bob = await login(s, "alice", resource="setup"), await login(s, "bob", resource="setup")
        await available(alice)
        await available(bob)
        await befriend(alice, bob)
        alice.disconnect()
        bob.disconnect()

    run(friends())
    yield s
    s.stop()


@pytest.mark.parametrize("transport", ["websocket", "bosh"])
def test_converse_in_chromium_chats_with_a_tcp_client(web_server, transport):
    async def body():
        bob = await login(web_server, "bob", resource="tcp")
        await available(bob)

        async def answer():
            hello = await bob.message(lambda m: m["body"] == "hello from converse", "converse's message", start=0)
            bob.send_message(mto=hello["from"], mbody="hello converse", mtype="chat")
            return hello

        answering = asyncio.ensure_future(answer())
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"converse-{transport}.png"
        query = "?transport=bosh" if transport == "bosh" else ""
        loop = asyncio.get_running_loop()
        result, lines = await loop.run_in_executor(None, lambda: node_client(
            "converse_chat.mjs", URL=f"https://localhost:{web_server.https_port}/{query}",
            JID="alice@localhost", PASSWORD=PASSWORD, PEER="bob@localhost", SCREENSHOT=str(shot)))
        events = [line["event"] for line in lines]
        assert result.returncode == 0 and "reply shown" in events, (lines, result.stderr[-2000:])
        hello = await answering
        assert str(hello["from"]).startswith("alice@localhost/"), hello
        assert shot.stat().st_size > 10_000, "a screenshot of the chat"
        via = "BOSH over HTTPS" if transport == "bosh" else "WebSocket over TLS"
        assert f"connected on {via}" in web_server.log()

    run(body(), timeout=120)
