"""What the comparison needs from the system: free ports, waiting for a port, a process's CPU
time and RSS from /proc, and running starling-bench pinned to a core."""
import os
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "build/src/apps/starling-bench/starling-bench"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not listen on {port}:\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def parse_result(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        if ": " in line:
            key, value = line.split(": ", 1)
            try:
                out[key] = float(value)
            except ValueError:
                out[key] = value
    return out


def bench_command(cpu: int, *args) -> list:
    # The generator needs a descriptor per session too.
    return ["prlimit", "--nofile=20000:20000", "taskset", "-c", str(cpu), str(BENCH), *map(str, args)]


def run_bench(cpu: int, *args, timeout: float = 600) -> dict:
    r = subprocess.run(bench_command(cpu, *args, "--quiet"), capture_output=True, text=True, timeout=timeout)
    result = parse_result(r.stdout)
    result["exit"] = r.returncode
    if r.returncode != 0:
        result["stderr"] = r.stderr.strip()[-500:]
    return result


class PresenceLayout:
    """The presence scenario's accounts and rosters, as `starling-bench rosters/presence` lay
    them out (src/apps/starling-bench/presence.cpp, contacts_of): cyclers are <prefix>1..
    <prefix>cyclers, the always-online background accounts follow, and cycler k (from 0) has
    `contacts` consecutive background accounts from k * background // cyclers on, with
    mutual subscriptions ("both")."""

    def __init__(self, prefix: str, cyclers: int, background: int, contacts: int):
        self.prefix, self.cyclers, self.background, self.contacts = prefix, cyclers, background, contacts

    @property
    def accounts(self) -> int:
        return self.cyclers + self.background

    def bench_args(self) -> list:
        return ["--user-prefix", self.prefix, "--cyclers", self.cyclers, "--background", self.background,
                "--contacts", self.contacts]

    def rosters(self) -> dict:
        """Account name -> the account names in its roster (all "both")."""
        out = {}
        for k in range(self.cyclers):
            cycler = f"{self.prefix}{k + 1}"
            start = k * self.background // self.cyclers
            for t in range(self.contacts):
                contact = f"{self.prefix}{self.cyclers + 1 + (start + t) % self.background}"
                out.setdefault(cycler, []).append(contact)
                out.setdefault(contact, []).append(cycler)
        return out
