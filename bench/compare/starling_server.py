"""Starling for the comparison: its own process and data folder, one shard (the server gets
one core), STARTTLS required, a self-signed certificate made at start."""
import os
import signal
import subprocess
from pathlib import Path

from common import ROOT, run_bench, wait_for_port

STARLING = ROOT / "build/src/apps/starling/starling"


class StarlingServer:
    name = "Starling"

    def __init__(self, workdir: Path, port: int, domain: str = "localhost"):
        self.workdir, self.port, self.domain = workdir, port, domain
        self.config = workdir / "starling.toml"
        self.log = workdir / "starling.log"
        self.process = None
        workdir.mkdir(parents=True, exist_ok=True)
        # Limits that would refuse the generator's many connections from one address are
        # opened up, as the other servers have none by default.
        self.config.write_text(f"""
[server]
domain = "{domain}"
data_dir = "{workdir / 'data'}"
shards = 1
log_level = "warn"

[c2s]
interfaces = ["127.0.0.1"]
port = {port}
direct_tls_port = 0

[http]
port = 0
tls_port = 0
[limits]
max_preauth_per_ip = 100000
""")

    def version(self) -> str:
        out = subprocess.run([str(STARLING), "version"], capture_output=True, text=True).stdout.strip()
        return out.split()[-1] if out else "?"

    def create_accounts(self, prefix: str, count: int, password: str, layout=None) -> None:
        """`starling user import`; with a PresenceLayout, its rosters are then made over XMPP
        (`starling-bench rosters`: Starling has no roster import)."""
        lines = "".join(f"{prefix}{i} {password}\n" for i in range(1, count + 1))
        r = subprocess.run([str(STARLING), "user", "import", "-c", str(self.config)], input=lines,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"starling user import failed: {r.stderr}")
        if layout is None:
            return
        temporary = self.process is None or self.process.poll() is not None
        if temporary:
            self.start(0)
        try:
            r = run_bench(1, "rosters", "--port", self.port, "--password", password, *layout.bench_args(), timeout=1800)
            if r["exit"] != 0:
                raise RuntimeError(f"starling-bench rosters failed: {r.get('stderr')}")
        finally:
            if temporary:
                self.stop()

    def start(self, cpu: int) -> None:
        log = open(self.log, "ab")
        self.process = subprocess.Popen(
            ["prlimit", "--nofile=20000:20000", "taskset", "-c", str(cpu), str(STARLING), "serve", "-c", str(self.config)],
            stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, self.log)

    def pid(self) -> int:
        return self.process.pid  # prlimit and taskset exec the server in place

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
