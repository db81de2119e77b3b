#!/usr/bin/python3
"""Server memory per idle authenticated TLS session.

Starts starling on loopback with its own config and data folder, opens N sessions
(STARTTLS, SASL PLAIN, bind) from one account, waits, and reports the
growth of the server's RSS per session (from /proc). Usage:
    bench/load/idle_sessions.py [--sessions 2000] [--binary build/src/apps/starling/starling]
The starling-bench issue replaces this with the C++ load generator; until then it gives the
figure the foundation issue asks for."""
import argparse
import asyncio
import base64
import os
import re
import resource
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# All sessions belong to one account, and RFC 6121 §4.2.2 echoes each resource's presence
# to all its others: with presence on, N sessions cost N² stanzas. Off by default until the
# bench issue gives each session its own account.
SEND_PRESENCE = False


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def read_until(reader, pattern, buf):
    while not re.search(pattern, buf[0]):
        data = await asyncio.wait_for(reader.read(65536), 30)
        if not data:
            raise ConnectionError("closed: " + buf[0][-200:])
        buf[0] += data.decode()
    m = re.search(pattern, buf[0])
    buf[0] = buf[0][m.end():]
    return m


async def session(port, user, password, resource_name, ctx, holders):
    header = "<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' " \
             "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    buf = [""]
    writer.write(header.encode())
    await read_until(reader, r"</stream:features>", buf)
    writer.write(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    await read_until(reader, r"<proceed[^>]*>", buf)
    await writer.start_tls(ctx)
    writer.write(header.encode())
    await read_until(reader, r"</stream:features>", buf)
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    writer.write(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>".encode())
    await read_until(reader, r"<success[^>]*>", buf)
    writer.write(header.encode())
    await read_until(reader, r"</stream:features>", buf)
    writer.write(f"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>{resource_name}"
                 f"</resource></bind></iq>{'<presence/>' if SEND_PRESENCE else ''}".encode())
    await read_until(reader, r"</iq>", buf)
    holders.append((reader, writer))


async def open_all(port, n, password, holders):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    sem = asyncio.Semaphore(50)

    async def one(i):
        async with sem:
            await session(port, "bench", password, f"r{i}", ctx, holders)

    await asyncio.gather(*(one(i) for i in range(n)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=2000)
    ap.add_argument("--binary", default=str(ROOT / "build/src/apps/starling/starling"))
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--presence", action="store_true", help="send initial presence (quadratic, see above)")
    ap.add_argument("--settle", type=float, default=12,
                    help="seconds idle before measuring (parsers are released after 10 s)")
    ap.add_argument("--wrap", default="", help="command to run the server under, e.g. heaptrack")
    args = ap.parse_args()
    global SEND_PRESENCE
    SEND_PRESENCE = args.presence
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as tmp:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cfg = Path(tmp) / "bench.toml"
        cfg.write_text(f"""[server]
data_dir = "{tmp}/data"
shards = {args.shards}
log_level = "warn"
[c2s]
interfaces = ["127.0.0.1"]
port = {port}
direct_tls_port = 0
max_sessions_per_account = {args.sessions + 10}
[http]
port = 0
tls_port = 0
[limits]
max_preauth_per_ip = 100000
""")
        password = "bench-password"
        subprocess.run([args.binary, "user", "add", "bench", "-c", str(cfg)], input=password + "\n",
                       text=True, check=True, capture_output=True)
        server = subprocess.Popen(args.wrap.split() + [args.binary, "serve", "-c", str(cfg)])
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            # Warm up (allocator arenas, first TLS handshake) before the baseline.
            holders = []
            asyncio.run(open_all(port, 20, password, holders))
            time.sleep(0.5)
            before = rss_kib(server.pid)
            holders2 = []
            start = time.monotonic()

            async def run():
                await open_all(port, args.sessions, password, holders2)
                took = time.monotonic() - start
                await asyncio.sleep(args.settle)
                after = rss_kib(server.pid)
                print(f"sessions={args.sessions} shards={args.shards} connect_time={took:.1f}s "
                      f"rss_before={before} KiB rss_after={after} KiB "
                      f"per_session={(after - before) * 1024 / args.sessions / 1024:.1f} KiB")

            asyncio.run(run())
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
