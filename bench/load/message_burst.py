#!/usr/bin/python3
"""Message throughput of one sender: N chat messages written as fast as the server reads
them to a recipient online on another connection; then 1,000 (the default offline bound) to
an offline one, which are stored.

Reports messages per second for each: live, until the recipient has read them all; stored,
until the sender's ping after the burst is answered (each stored message is committed before
the sender's next stanza is handled). The recipient only counts bytes, so the Python client
is not the bottleneck. Usage:
    bench/load/message_burst.py [--messages 50000] [--binary build/src/apps/starling/starling]"""
import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests/interop"))

from conftest import PASSWORD, Server  # noqa: E402
from raw_stream import is_result, login  # noqa: E402

CHUNK = 200


def burst(sender, to, n):
    for start in range(0, n, CHUNK):
        sender.send("".join(f"<message to='{to}' type='chat'><body>message {i}</body></message>"
                            for i in range(start, min(n, start + CHUNK))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=50000)
    ap.add_argument("--binary", default=str(ROOT / "build/src/apps/starling/starling"))
    ap.add_argument("--log", action="store_true")
    args = ap.parse_args()
    import conftest
    conftest.STARLING = args.binary
    n = args.messages
    with tempfile.TemporaryDirectory() as tmp:
        # No per-account rate limit and room to queue for the (Python) reader: this measures
        # the server, not its limits.
        server = Server(Path(tmp), limits="account_stanzas_per_second = 0\nmax_outbound_queue = 268435456")
        for name in ("sender", "reader", "absent"):
            server.add_user(name)
        server.start()
        try:
            sender, _ = login(server.port, "sender", PASSWORD, timeout=120)
            reader, reader_jid = login(server.port, "reader", PASSWORD, timeout=120)
            reader.send("<presence/>")
            reader.ping("sync")
            seen = 0
            done = threading.Event()

            def read():
                nonlocal seen
                tail = b""
                deadline = time.monotonic() + 300
                while seen < n and time.monotonic() < deadline:
                    data = reader._recv_some(deadline)
                    if not data:
                        break
                    chunk = tail + data
                    seen += chunk.count(b"</message>")
                    tail = chunk[-9:]  # a "</message>" cut in two, never one counted twice
                done.set()

            t = threading.Thread(target=read)
            t.start()
            start = time.monotonic()
            burst(sender, reader_jid, n)
            done.wait(300)
            live = time.monotonic() - start
            t.join()
            print(f"live:   {seen}/{n} messages in {live:.2f} s = {seen / live:,.0f}/s")

            stored_n = 1000
            start = time.monotonic()
            burst(sender, "absent@localhost", stored_n)
            assert is_result(sender.ping("sync", timeout=300))
            stored = time.monotonic() - start
            print(f"stored: {stored_n} messages in {stored:.2f} s = {stored_n / stored:,.0f}/s")
        finally:
            print(server.log()[-1500:]) if "--log" in sys.argv else None
            server.stop()


if __name__ == "__main__":
    main()
