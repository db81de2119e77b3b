#!/usr/bin/python3
"""Starling, Prosody and ejabberd side by side, in one run, on this machine: each server in
its own process, folder and loopback port, pinned to core 0, with starling-bench pinned to
core 1, TLS (STARTTLS) and SCRAM-SHA-1 for everyone. Writes bench/RESULTS.md.

    scripts/install-bench-deps.sh          # prosody and ejabberd from Debian (once)
    bench/compare/run.py                   # everything, medians of 3 runs
    bench/compare/run.py --quick           # small counts, one run: does it all work?
    bench/compare/run.py --servers starling --scenarios messages

Figures (bench/README.md explains each): server CPU per operation at a fixed moderate rate
(from /proc utime+stime), the highest rate whose p99 stays within 100 ms, memory per idle
session, and the generator's own CPU, so a saturated generator is visible."""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (BENCH, ROOT, PresenceLayout, bench_command, cpu_seconds, load_average, parse_result,  # noqa: E402
                    rss_kib, run_bench)

SERVER_CPU, BENCH_CPU = 0, 1
PASSWORD = "bench-password-1"
P99_LIMIT_MS = 100.0


def make_server(name, workdir, port):
    if name == "starling":
        from starling_server import StarlingServer
        return StarlingServer(workdir, port)
    if name == "prosody":
        from prosody_server import ProsodyServer
        return ProsodyServer(workdir, port)
    if name == "ejabberd":
        from ejabberd_server import EjabberdServer
        return EjabberdServer(workdir, port)
    raise SystemExit(f"unknown server {name}")


def common_args(port):
    return ["--port", port, "--password", PASSWORD]


def say(text):
    print(text, file=sys.stderr, flush=True)


# --- scenarios: each returns {figure: value} for one run --------------------------------------

def idle(server, port, sessions, hold=12.0):
    """RSS per authenticated idle session (roster fetched, presence sent) and time to log
    them all in. A fresh server for each count, so one count's garbage is not the next's."""
    server.start(SERVER_CPU)
    try:
        time.sleep(1.0)
        before = rss_kib(server.pid())
        cmd = bench_command(BENCH_CPU, "idle", *common_args(port), "--sessions", sessions, "--hold", 600, "--quiet",
                            "--concurrency", 100)
        gen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        for line in gen.stdout:
            lines.append(line)
            if line.strip() == "ready":
                break
        # Past Starling's 10 s idle release of parsers, so every server is measured at rest.
        time.sleep(hold)
        after = rss_kib(server.pid())
        gen.kill()
        gen.wait()
        result = parse_result("".join(lines))
        up = int(result.get("sessions", 0))
        return {
            "sessions": up,
            "failed": result.get("failed", sessions),
            "connect_seconds": result.get("connect_seconds"),
            "rss_kib_per_session": (after - before) / up if up else None,
            "rss_mib_total": after / 1024,
        }
    finally:
        server.stop()


def login_cost(server, port, rate, seconds, users):
    pid = server.pid()
    cpu0 = cpu_seconds(pid)
    r = run_bench(BENCH_CPU, "login", *common_args(port), "--rate", rate, "--duration", seconds, "--users", users)
    cpu = cpu_seconds(pid) - cpu0
    done = r.get("logins", 0)
    return {
        "logins": done,
        "failed": r.get("failed"),
        "server_ms_per_login": 1000 * cpu / done if done else None,
        "p99_ms": r.get("latency_p99_ms"),
        "generator_cpu_share": r.get("generator_cpu_seconds", 0) / seconds,
        "error": r.get("first_error") or r.get("stderr"),
    }


def highest_passing(measure, rates):
    """The highest rate in `rates` (ascending) whose run passes; stops at the first failure."""
    best, trail = None, []
    for rate in rates:
        r = measure(rate)
        trail.append((rate, r))
        if not r["pass"]:
            break
        best = rate
    return best, trail


def login_max(server, port, users, seconds):
    def measure(rate):
        r = run_bench(BENCH_CPU, "login", *common_args(port), "--rate", rate, "--duration", seconds, "--users", users)
        ok = (r.get("exit") == 0 and r.get("failed", 1) == 0 and r.get("skipped_over_concurrency", 1) == 0
              and r.get("latency_p99_ms", 1e9) <= P99_LIMIT_MS)
        return {"pass": ok, "p99_ms": r.get("latency_p99_ms"), "generator_cpu_share": r.get("generator_cpu_seconds", 0) / seconds}
    return highest_passing(measure, [25, 50, 100, 200, 300, 400, 600, 800, 1000, 1200])


def run_windowed(pid, *args):
    """starling-bench with server CPU sampled exactly over the window it announces
    ("measuring" … "measured"), so the logins before it do not count. Returns its results,
    the server CPU seconds in the window (None if the window was not announced) and, if it
    failed, the end of its stderr."""
    gen = subprocess.Popen(bench_command(BENCH_CPU, *args, "--quiet"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    lines, cpu = [], {}
    for line in gen.stdout:
        lines.append(line)
        if line.strip() in ("measuring", "measured"):
            cpu[line.strip()] = cpu_seconds(pid)
    gen.wait()
    used = cpu["measured"] - cpu["measuring"] if len(cpu) == 2 else None
    return parse_result("".join(lines)), used, gen.stderr.read().strip()[-500:] if gen.returncode else None


def message_cost(server, port, pairs, rate, seconds):
    """Server CPU per message due in the measuring window."""
    r, used, error = run_windowed(server.pid(), "messages", *common_args(port), "--pairs", pairs, "--rate", rate,
                                  "--duration", seconds, "--warmup", 2)
    delivered = r.get("received", 0)
    return {
        "delivered": delivered,
        "lost": r.get("lost"),
        "server_us_per_message": 1e6 * used / delivered if delivered and used is not None else None,
        "p50_ms": r.get("latency_p50_ms"),
        "p99_ms": r.get("latency_p99_ms"),
        "generator_cpu_share": r.get("generator_cpu_share"),
        "error": error,
    }


def message_max(server, port, pairs, seconds):
    def measure(rate):
        time.sleep(5)  # the previous run's sessions are gone (ejabberd lingers on each close)
        r = run_bench(BENCH_CPU, "messages", *common_args(port), "--pairs", pairs, "--rate", rate, "--duration", seconds,
                      "--warmup", 1)
        ok = r.get("exit") == 0 and r.get("lost", 1) == 0 and r.get("latency_p99_ms", 1e9) <= P99_LIMIT_MS
        return {"pass": ok, "p99_ms": r.get("latency_p99_ms"), "generator_cpu_share": r.get("generator_cpu_share")}
    return highest_passing(measure, [1000, 2000, 4000, 8000, 12000, 16000, 24000, 32000, 48000, 64000, 96000, 128000])


def presence_cost(server, port, layout, rate, seconds):
    """Server CPU per login of a user whose contacts are all online, over the window
    starling-bench announces (after the contacts' own logins): TLS, SCRAM, roster, a probe
    to each contact and their answers, the broadcast of available presence, and at logout
    of unavailable presence."""
    r, used, error = run_windowed(server.pid(), "presence", *common_args(port), *layout.bench_args(), "--rate", rate,
                                  "--duration", seconds)
    done = r.get("logins", 0)
    return {
        "logins": done,
        "failed": r.get("failed"),
        "server_ms_per_login": 1000 * used / done if done and used is not None else None,
        "p50_ms": r.get("latency_p50_ms"),
        "p99_ms": r.get("latency_p99_ms"),
        "contacts_got": (r.get("contacts_got_available_per_login"), r.get("contacts_got_unavailable_per_login")),
        "generator_cpu_share": r.get("generator_cpu_seconds", 0) / seconds,
        "error": r.get("first_error") or error,
    }


def presence_max(server, port, layout, seconds):
    def measure(rate):
        r = run_bench(BENCH_CPU, "presence", *common_args(port), *layout.bench_args(), "--rate", rate,
                      "--duration", seconds)
        ok = (r.get("exit") == 0 and r.get("failed", 1) == 0 and r.get("skipped_busy", 1) == 0
              and r.get("latency_p99_ms", 1e9) <= P99_LIMIT_MS)
        return {"pass": ok, "p99_ms": r.get("latency_p99_ms"), "generator_cpu_share": r.get("generator_cpu_seconds", 0) / seconds}
    return highest_passing(measure, [10, 20, 40, 80, 120, 160, 240, 320, 480, 640])


def fresh_server_scenario(server, figures, prefix, label, cost, kept, ramp):
    """One scenario on a server of its own (a ramp ends by overloading it, and ejabberd went
    on resetting new connections for a while afterwards): the cost at a fixed rate, whose
    results `kept` maps to figures, then the ramp's highest passing rate."""
    server.start(SERVER_CPU)
    try:
        r = cost()
        say(f"   {label}: {r}")
        for figure, key in kept.items():
            figures.setdefault(figure, []).append(r[key])
        best, trail = ramp()
        say(f"   {prefix} max: {best}/s ({[(rate, x['p99_ms']) for rate, x in trail]})")
        figures.setdefault(f"{prefix}_max_per_second", []).append(best)
        figures.setdefault(f"{prefix}_max_generator_share", []).append(trail[-1][1]["generator_cpu_share"])
    finally:
        server.stop()


# --- the run ----------------------------------------------------------------------------------

def median(values):
    values = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(values) if values else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", default="starling,prosody,ejabberd")
    ap.add_argument("--scenarios", default="idle,login,messages,presence")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small counts and one run")
    ap.add_argument("--out", default=str(ROOT / "bench/RESULTS.md"))
    ap.add_argument("--workdir", help="keep server folders (and their accounts) here between runs")
    ap.add_argument("--merge", action="store_true",
                    help="keep the figures of servers not measured now from the earlier RESULTS.json")
    args = ap.parse_args()
    if not BENCH.exists():
        raise SystemExit(f"{BENCH} is missing: run scripts/build.sh first")
    servers = args.servers.split(",")
    scenarios = args.scenarios.split(",")
    runs = 1 if args.quick else args.runs
    idle_counts = [200, 1000] if args.quick else [1000, 5000, 10000, 19000]
    pairs = 50 if args.quick else 500
    users = max(max(idle_counts), 2 * pairs)
    seconds = 3 if args.quick else 10
    ramp_seconds = 3 if args.quick else 5
    # Presence: cyclers log in and out; each has 100 contacts among the background accounts,
    # all online. 200 cyclers keep a cycler from being asked to log in again while its
    # previous login is still going, up to a few hundred logins/s.
    layout = PresenceLayout("pres", 20, 150, 100) if args.quick else PresenceLayout("pres", 200, 500, 100)
    # Logins cycle through 500 accounts: starling-bench keeps each account's salted
    # password, as clients do, so its own PBKDF2 does not set the ceiling.
    login_users = min(users, 500)

    base = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="starling-compare-"))
    results = {}  # server -> figure -> [values]
    versions = {}
    for name in servers:
        port = __import__("common").free_port()
        server = make_server(name, base / name, port)
        versions[name] = server.version()
        figures = results.setdefault(server.name, {})
        say(f"== {server.name} {versions[name]}: {users} accounts")
        server.start(SERVER_CPU)
        t = time.monotonic()
        server.create_accounts("user", users, PASSWORD)
        say(f"   accounts made in {time.monotonic() - t:.1f} s")
        if "presence" in scenarios:
            t = time.monotonic()
            server.create_accounts(layout.prefix, layout.accounts, PASSWORD, layout=layout)
            say(f"   {layout.accounts} presence accounts and their rosters made in {time.monotonic() - t:.1f} s")
        server.stop()
        for run in range(runs):
            say(f"-- {server.name}: run {run + 1} of {runs} (load average {load_average():.2f})")
            figures.setdefault("load_average", []).append(load_average())
            if "idle" in scenarios:
                for n in idle_counts:
                    r = idle(server, port, n)
                    say(f"   idle {n}: {r}")
                    figures.setdefault(f"idle_{n}_kib_per_session", []).append(r["rss_kib_per_session"])
                    figures.setdefault(f"idle_{n}_connect_seconds", []).append(r["connect_seconds"])
                    figures.setdefault(f"idle_{n}_sessions", []).append(r["sessions"])
            if "login" in scenarios:
                fresh_server_scenario(
                    server, figures, "login", "logins at 50/s",
                    lambda: login_cost(server, port, 50, seconds, login_users),
                    {"login_server_ms": "server_ms_per_login", "login_generator_share": "generator_cpu_share"},
                    lambda: login_max(server, port, login_users, ramp_seconds))
            if "messages" in scenarios:
                fresh_server_scenario(
                    server, figures, "message", "messages at 1,000/s",
                    lambda: message_cost(server, port, pairs, 1000, seconds),
                    {"message_server_us": "server_us_per_message", "message_p50_ms": "p50_ms", "message_p99_ms": "p99_ms"},
                    lambda: message_max(server, port, pairs, ramp_seconds))
            if "presence" in scenarios:
                fresh_server_scenario(
                    server, figures, "presence", "presence logins at 20/s",
                    lambda: presence_cost(server, port, layout, 20, seconds),
                    {"presence_server_ms": "server_ms_per_login", "presence_p50_ms": "p50_ms", "presence_p99_ms": "p99_ms"},
                    lambda: presence_max(server, port, layout, ramp_seconds))
    raw = Path(args.out).with_suffix(".json")
    if args.merge and raw.exists():
        # Figures not measured again now (other servers, other scenarios) are kept.
        earlier = json.loads(raw.read_text())
        for name, figures in earlier["results"].items():
            for key, values in figures.items():
                results.setdefault(name, {}).setdefault(key, values)
        for name, version in earlier["versions"].items():
            versions.setdefault(name, version)
    raw.write_text(json.dumps({"results": results, "versions": versions}, indent=1))
    write_results(Path(args.out), results, versions, runs, pairs, idle_counts, args.quick)
    say(f"wrote {args.out} and {raw}")


FIGURES = [
    # key, label, lower is better
    ("message_server_us", "server CPU per 1:1 message at 1,000 msgs/s (µs)", True),
    ("message_max_per_second", "highest 1:1 msgs/s with p99 ≤ 100 ms", False),
    ("message_p50_ms", "1:1 message latency p50 at 1,000 msgs/s (ms)", True),
    ("message_p99_ms", "1:1 message latency p99 at 1,000 msgs/s (ms)", True),
    ("login_server_ms", "server CPU per login, TLS + SCRAM-SHA-1 (ms)", True),
    ("login_max_per_second", "highest logins/s with p99 ≤ 100 ms", False),
    ("presence_server_ms", "server CPU per login with 100 online contacts, logout included (ms)", True),
    ("presence_max_per_second", "highest such logins/s with p99 ≤ 100 ms (until all 100 contacts' presence is in)", False),
    ("presence_p50_ms", "such a login, to the last contact's presence, p50 at 20/s (ms)", True),
    ("presence_p99_ms", "such a login, to the last contact's presence, p99 at 20/s (ms)", True),
]


def write_results(path, results, versions, runs, pairs, idle_counts, quick):
    order = ["Starling", "Prosody", "ejabberd"]
    names = sorted(results, key=lambda n: order.index(n) if n in order else len(order))
    lines = [
        "# Starling, Prosody and ejabberd side by side",
        "",
        f"Written by `bench/compare/run.py`{' --quick (small counts, one run: not for comparison)' if quick else ''}"
        f" on {datetime.date.today().isoformat()}. Machine: {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, {platform.platform()}. "
        f"Each server pinned to core {SERVER_CPU}, starling-bench to core {BENCH_CPU}; STARTTLS and SCRAM-SHA-1 "
        f"for all; {pairs} chatting pairs; medians of {runs} run(s).",
        "",
        "Versions: " + ", ".join(f"{n} {versions.get(n.lower(), '?')}" for n in names) + ".",
        "Load average at the start of each run: "
        + "; ".join(f"{n} {', '.join(f'{v:.2f}' for v in results[n].get('load_average', []))}" for n in names) + ".",
        "",
        "| figure | " + " | ".join(names) + " | Starling vs best other |",
        "| --- | " + " | ".join("---" for _ in names) + " | --- |",
    ]

    def fmt(v):
        if v is None:
            return "–"
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"

    rows = list(FIGURES) + [(f"idle_{n}_kib_per_session", f"RSS per idle TLS session, {n:,} sessions (KiB)", True)
                            for n in idle_counts] + [
        (f"idle_{n}_connect_seconds", f"time to log in {n:,} sessions (s)", True) for n in idle_counts]
    for key, label, lower in rows:
        values = {n: median(results[n].get(key, [])) for n in names}
        if all(v is None for v in values.values()):
            continue
        ratio = "–"
        if "Starling" in values and values["Starling"]:
            others = [v for n, v in values.items() if n != "Starling" and v]
            if others:
                best = min(others) if lower else max(others)
                ratio = f"{values['Starling'] / best:.2f}×"
        lines.append(f"| {label} | " + " | ".join(fmt(values[n]) for n in names) + f" | {ratio} |")
    lines += ["", "Generator CPU share (1.0 = its whole core; near 1.0 the generator, not the server, was the limit):", ""]
    for key in ("message_max_generator_share", "login_max_generator_share", "login_generator_share",
                "presence_max_generator_share"):
        lines.append(f"- {key}: " + ", ".join(f"{n} {fmt(median(results[n].get(key, [])))}" for n in names))
    lines.append("")
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
