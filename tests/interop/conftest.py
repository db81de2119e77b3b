"""Fixtures for the interop tests: the real `starling` binary on free loopback ports, with
a temporary config and data folder, and accounts made with `starling user add`.

Run with Debian's interpreter (/usr/bin/python3), which has python3-slixmpp."""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STARLING = os.environ.get("STARLING_BIN", str(ROOT / "build/src/apps/starling/starling"))
PASSWORD = "correct horse battery staple"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One starling process. `extra` is TOML appended to the generated config; sections
    it names must not be in the base config (use the keyword arguments for those)."""

    def __init__(self, root: Path, shards=2, c2s="", limits="", sasl="", http="", extra="", defaults=False):
        self.root = root
        self.port = free_port()
        self.tls_port = free_port()
        self.http_port = free_port()
        self.https_port = free_port()
        self.domain = "localhost"
        self.config = root / "starling.toml"
        self.log_path = root / "starling.log"
        self.process = None
        if defaults:
            # The server as a user runs it with no configuration: only where it keeps its
            # data and which loopback ports it listens on differ (tests run side by side).
            assert not (c2s or limits or sasl or http or extra) and shards == 2, "defaults means no settings"
            self.config.write_text(
                f"""
[server]
data_dir = "{root / 'data'}"

[c2s]
interfaces = ["127.0.0.1"]
port = {self.port}
direct_tls_port = {self.tls_port}

[http]
interfaces = ["127.0.0.1"]
port = {self.http_port}
tls_port = {self.https_port}
"""
            )
            return
        if "max_preauth_per_ip" not in limits:
            # Many tests share one server, and the raw streams they leave unauthenticated hold
            # a slot until the server notices them gone: the default 100 was reached now and
            # then. The tests of that limit set it themselves.
            limits = "max_preauth_per_ip = 1000\n" + limits
        self.config.write_text(
            f"""
[server]
data_dir = "{root / 'data'}"
shards = {shards}
log_level = "debug"

[c2s]
interfaces = ["127.0.0.1"]
port = {self.port}
direct_tls_port = {self.tls_port}
{c2s}

[http]
interfaces = ["127.0.0.1"]
port = {self.http_port}
tls_port = {self.https_port}
{http}

[limits]
{limits}

[sasl]
{sasl}

{extra}
"""
        )

    def cli(self, *args, input=None, check=False):
        return subprocess.run(
            [STARLING, *args, "-c", str(self.config)],
            input=input, capture_output=True, text=True, timeout=60, check=check,
        )

    def add_user(self, name, password=PASSWORD):
        r = self.cli("user", "add", name, input=password + "\n")
        assert r.returncode == 0, r.stderr
        return f"{name}@{self.domain}"

    def start(self):
        # Only this run's log counts for readiness: an earlier run may have been killed with
        # connections it never logged as gone.
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [STARLING, "serve", "-c", str(self.config)], stdout=self.log_file, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"starling exited with {self.process.returncode}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass
                with socket.create_connection(("127.0.0.1", self.tls_port), timeout=0.2):
                    pass
                self._wait_for_probes_to_end(deadline)
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("starling did not start listening:\n" + self.log())

    def _wait_for_probes_to_end(self, deadline):
        # The readiness probes are connections too: wait until the server has seen them
        # go, so they do not hold per-IP pre-auth slots a test is about to count on.
        while time.monotonic() < deadline:
            log = self.log_path.read_bytes()[self._log_offset:].decode(errors="replace")
            if log.count(" connected on ") == log.count(" disconnected"):
                return
            time.sleep(0.02)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.log_file.close()
            # Under the sanitizers (scripts/sanitize.sh) a report fails the test that ran the
            # server, whether it aborted the server or came at exit (leaks).
            reports = [line for line in self.log()[-200_000:].splitlines()
                       if "ERROR: AddressSanitizer" in line or "ERROR: LeakSanitizer" in line
                       or "runtime error:" in line or "WARNING: ThreadSanitizer" in line]
            assert not reports, "sanitizer report in the server's log:\n" + "\n".join(reports[:20])

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def make_server(tmp_path):
    """Factory: make_server(**config) → a configured Server (not started: add accounts,
    then call start()); every one is stopped after the test."""
    servers = []

    def make(**kwargs):
        root = tmp_path / f"server{len(servers)}"
        root.mkdir()
        server = Server(root, **kwargs)
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A shared server with accounts alice, bob and carol (password PASSWORD)."""
    s = Server(tmp_path_factory.mktemp("starling"))
    for name in ("alice", "bob", "carol"):
        s.add_user(name)
    s.start()
    yield s
    s.stop()
    assert "free(): invalid" not in s.log()


@pytest.fixture(scope="module")
def default_server(tmp_path_factory):
    """A shared server at its defaults (no settings but data folder and loopback ports),
    with accounts alice, bob and carol (password PASSWORD): what real clients at their own
    defaults are tested against."""
    s = Server(tmp_path_factory.mktemp("starling-defaults"), defaults=True)
    for name in ("alice", "bob", "carol"):
        s.add_user(name)
    s.start()
    yield s
    s.stop()
