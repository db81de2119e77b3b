#!/usr/bin/python3
"""Groupchat fan-out in one MUC room of N occupants (XEP-0045 §7.4).

For each N, a fresh server with the muc module: N accounts (`starling user import`), each
logged in on its own connection (STARTTLS, PLAIN, bind), all enter one room (the first
creates it and accepts the instant room, §10.1.2; the others follow, --join-batch at a
time, everyone reading the presences each entry sends to all). Then M
groupchat messages are sent by a few of the occupants, round robin; the room sends each to
every occupant, the sender included (§7.4), so M × N deliveries.

Reports, per N:
- deliveries per second: M × N over the time from the first send until the last occupant
  has read its last message. Occupants only count a marker in the bytes they read (one
  selector, no XML parsing), so the Python side is not the bottleneck; its own CPU time
  during the burst is printed next to the wall time to show when it comes close.
- server RSS (VmRSS): idle, after the logins, after all have entered (memory per
  occupant: the growth over the logins' figure, over N) and after the burst;
- server CPU (utime + stime of all threads, /proc/<pid>/stat) during the burst, per
  delivery. Clock ticks are 10 ms: raise --messages for small rooms.

With two or more cores the server's threads are pinned to core 0 and this script to core 1
(--no-pin to leave them be); one shard, as bench/compare runs Starling. Every phase is
bounded by --timeout; a run that does not finish fails with what was missing. Usage:
    bench/load/muc_fanout.py [--occupants 100 500] [--messages 200] [--senders 4] [--join-batch 10]
                             [--shards 1] [--timeout 300] [--binary build/src/apps/starling/starling]"""
import argparse
import os
import resource
import selectors
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests/interop"))

from OpenSSL import SSL  # noqa: E402  (what raw_stream uses for TLS)

from conftest import PASSWORD, Server  # noqa: E402
from raw_stream import is_result, login  # noqa: E402

# tests/interop/test_muc.py's module list: the defaults plus "muc".
MUC = ('[modules]\nenabled = ["disco", "ping", "version", "time", "roster", "vcard", "private_xml", '
       '"offline", "last_activity", "register", "blocking", "muc"]\n')
ROOM = "fanout@conference.localhost"
NS_MUC = "http://jabber.org/protocol/muc"
INSTANT = f"<query xmlns='{NS_MUC}#owner'><x xmlns='jabber:x:data' type='submit'/></query>"
MARKER = b"fanout-bench-body"  # in every burst message's body, and nowhere else
CHUNK = 20  # messages a sender writes at once


class Failed(Exception):
    pass


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Counter:
    """Counts occurrences of `needle` in what one stream receives, without parsing."""

    def __init__(self, stream, needle, target):
        self.stream, self.needle, self.target = stream, needle, target
        self.seen = 0
        self.tail = b""

    def done(self):
        return self.seen >= self.target

    def read(self):
        """Reads all there is (socket and TLS buffer) without blocking."""
        while True:
            try:
                data = self.stream.tls.recv(65536)
            except (SSL.WantReadError, SSL.WantWriteError):
                return
            except (SSL.Error, OSError) as e:
                raise Failed(f"connection {self.stream.jid} failed: {e!r}") from None
            if not data:
                raise Failed(f"the server closed connection {self.stream.jid}")
            chunk = self.tail + data
            self.seen += chunk.count(self.needle)
            # Keep less than one needle: one cut in two is counted once it is whole, never twice.
            self.tail = chunk[-(len(self.needle) - 1):]


def pump(server, counters, deadline, what, step=None):
    """Reads every counter's stream until each has seen its target; calls step() (sending)
    between reads until it returns False. Raises Failed at the deadline."""
    sel = selectors.DefaultSelector()
    for c in counters:
        c.read()  # bytes already decrypted by an earlier read wait in the TLS buffer
        # Streams that are done stay registered: what else comes is read too, rather than
        # left to pile up in the server's queues and count in its RSS.
        sel.register(c.stream.sock, selectors.EVENT_READ, c)
    left = sum(not c.done() for c in counters)
    sending = step is not None
    try:
        while left or sending:
            if sending:
                sending = step()
            if time.monotonic() > deadline:
                short = sorted((c for c in counters if not c.done()), key=lambda c: c.seen)
                raise Failed(f"{what}: timed out; {left} of {len(counters)} connections short, the "
                             f"worst {short[0].stream.jid} at {short[0].seen}/{short[0].target}")
            if not server.alive():
                raise Failed(f"{what}: the server exited:\n{server.log()[-3000:]}")
            for key, _ in sel.select(0 if sending else 0.5):
                c = key.data
                was_done = c.done()
                c.read()
                left -= c.done() and not was_done
    finally:
        sel.close()


def pin(pid, cpu):
    for tid in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(tid), {cpu})


def run(args, n, tmp):
    server = Server(Path(tmp), shards=args.shards, extra=MUC,
                    limits="account_stanzas_per_second = 0\nmax_outbound_queue = 268435456\n"
                           "max_preauth_per_ip = 100000")
    # The test default is debug, which logs every connection; a benchmark logs what a server would.
    server.config.write_text(server.config.read_text().replace('log_level = "debug"',
                                                               f'log_level = "{args.log_level}"'))
    names = [f"occ{i}" for i in range(1, n + 1)]
    r = server.cli("user", "import", input="".join(f"{u} {PASSWORD}\n" for u in names))
    if r.returncode != 0:
        raise Failed(f"starling user import failed: {r.stderr}")
    server.start()
    pid = server.process.pid
    streams = []
    try:
        if args.pin:
            pin(pid, 0)
            os.sched_setaffinity(0, {1})
        deadline = time.monotonic() + args.timeout
        # Warm up (allocator, first TLS handshake) before the baseline, as idle_sessions.py does.
        warm, _ = login(server.port, names[0], PASSWORD, mechanism="PLAIN", resource="warm")
        warm.close()
        time.sleep(0.5)
        rss_idle = rss_kib(pid)

        start = time.monotonic()
        for u in names:
            if time.monotonic() > deadline:
                raise Failed(f"logins: timed out after {len(streams)} of {n}")
            s, jid = login(server.port, u, PASSWORD, mechanism="PLAIN", resource="bench", timeout=60)
            s.jid, s.nick = jid, u
            streams.append(s)
        logins = time.monotonic() - start
        rss_logged_in = rss_kib(pid)

        start = time.monotonic()
        owner = streams[0]
        owner.send(f"<presence to='{ROOM}/{owner.nick}'><x xmlns='{NS_MUC}'/></presence>")
        own = owner.wait_for(lambda e: e.get("from") == f"{ROOM}/{owner.nick}", 30)
        if own.get("type") == "error":
            raise Failed("creating the room: " + str(own.attrib))
        owner.send(f"<iq type='set' to='{ROOM}' id='instant'>{INSTANT}</iq>")
        if not is_result(owner.wait_for(lambda e: e.get("id") == "instant", 30)):
            raise Failed("the instant room (§10.1.2) was refused")
        batch = args.join_batch if args.join_batch > 0 else n
        for first in range(1, n, batch):
            entering = streams[first:first + batch]
            for s in entering:
                s.send(f"<presence to='{ROOM}/{s.nick}'><x xmlns='{NS_MUC}'/></presence>")
            # Status 110 is in an occupant's own presence only (§7.2.2); an error would time
            # out. Those already in are read meanwhile (target 0): each entry sends them one
            # presence, and what they leave unread waits in the server's queues.
            pump(server, [Counter(s, b"'110'", 1 if s in entering else 0) for s in streams[:first + batch]],
                 deadline, "entering the room")
        joins = time.monotonic() - start
        # Read what the entries broadcast (N presences to each), up to a ping's answer.
        for s in streams:
            s.send("<iq type='get' id='fanout-drain' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
        pump(server, [Counter(s, b"fanout-drain", 1) for s in streams], deadline, "reading the entries")
        rss_joined = rss_kib(pid)

        m = args.messages
        senders = [streams[i * n // args.senders] for i in range(min(args.senders, n))]
        counters = [Counter(s, MARKER, m) for s in streams]
        next_message = 0

        def send_some():
            nonlocal next_message
            for s in senders:
                batch = []
                while next_message < m and len(batch) < CHUNK:
                    batch.append(f"<message to='{ROOM}' type='groupchat'><body>"
                                 f"{MARKER.decode()} {next_message}</body></message>")
                    next_message += 1
                if batch:
                    s.send("".join(batch))
            return next_message < m

        cpu_before, own_before = cpu_seconds(pid), own_cpu_seconds()
        start = time.monotonic()
        pump(server, counters, deadline, "the burst", step=send_some)
        burst = time.monotonic() - start
        cpu = cpu_seconds(pid) - cpu_before
        own_cpu = own_cpu_seconds() - own_before
        rss_after = rss_kib(pid)
        deliveries = m * n
        extra = sum(c.seen for c in counters) - deliveries
        if extra:
            raise Failed(f"{extra} deliveries more than {m} × {n}: a message sent twice?")

        print(f"occupants={n} messages={m} senders={len(senders)} join_batch={batch} shards={args.shards} "
              f"pinned={'yes' if args.pin else 'no'}")
        print(f"  logins {logins:.1f} s, entering {joins:.1f} s")
        print(f"  rss: idle {rss_idle:,} KiB; logged in {rss_logged_in:,} KiB "
              f"({(rss_logged_in - rss_idle) / n:.1f} KiB/session); in the room {rss_joined:,} KiB "
              f"({(rss_joined - rss_logged_in) / n:.1f} KiB/occupant); after the burst {rss_after:,} KiB")
        print(f"  burst: {deliveries:,} deliveries in {burst:.3f} s = {deliveries / burst:,.0f} deliveries/s "
              f"({m / burst:,.0f} messages/s)")
        print(f"  server cpu {cpu:.2f} s = {cpu / deliveries * 1e6:.2f} µs/delivery; "
              f"this script's cpu {own_cpu:.2f} s ({own_cpu / burst:.0%} of the burst's wall time)")
        sys.stdout.flush()
    finally:
        for s in streams:
            s.close()
        server.stop()
        if args.pin:
            os.sched_setaffinity(0, set(range(os.cpu_count())))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--occupants", type=int, nargs="+", default=[100, 500])
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--senders", type=int, default=4)
    ap.add_argument("--join-batch", type=int, default=10,
                    help="occupants that enter at once; 0: all (the server then queues the "
                         "N² presences faster than they are read, and its RSS keeps that peak)")
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=300, help="seconds for each N, all phases")
    ap.add_argument("--no-pin", dest="pin", action="store_false")
    ap.add_argument("--log-level", default="warn")
    ap.add_argument("--binary", default=str(ROOT / "build/src/apps/starling/starling"))
    args = ap.parse_args()
    args.pin = args.pin and (os.cpu_count() or 1) >= 2
    import conftest
    conftest.STARLING = args.binary
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < max(args.occupants) + 100:
        sys.exit(f"the open-file limit ({hard}) is too low for {max(args.occupants)} connections")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    for n in args.occupants:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                run(args, n, tmp)
            except Failed as e:
                sys.exit(f"FAILED with {n} occupants: {e}")
            except (TimeoutError, AssertionError, OSError) as e:  # a login, the room's creation, a send
                sys.exit(f"FAILED with {n} occupants: {e!r}")


if __name__ == "__main__":
    main()
