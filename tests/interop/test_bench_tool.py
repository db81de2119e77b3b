"""starling-bench against a real Starling: each scenario the comparison runs works end to end
and reports what it measured (small counts; these are not measurements)."""
import subprocess

from conftest import ROOT

BENCH = ROOT / "build/src/apps/starling-bench/starling-bench"
PASSWORD = "bench-secret"


def bench(server, *args, timeout=120):
    r = subprocess.run([str(BENCH), *map(str, args), "--port", str(server.port), "--password", PASSWORD, "--quiet"],
                       capture_output=True, text=True, timeout=timeout)
    result = {}
    for line in r.stdout.splitlines():
        if ": " in line:
            key, value = line.split(": ", 1)
            result[key] = value
    return r.returncode, result, r.stderr


def accounts(server, prefix, count):
    lines = "".join(f"{prefix}{i} {PASSWORD}\n" for i in range(1, count + 1))
    r = server.cli("user", "import", input=lines)
    assert r.returncode == 0, r.stderr


def test_login_messages_and_idle_scenarios_report_their_figures(make_server):
    s = make_server(shards=1)
    accounts(s, "user", 20)
    s.start()
    code, r, err = bench(s, "login", "--rate", 20, "--duration", 1, "--users", 5)
    assert code == 0, err
    assert int(r["logins"]) >= 15 and r["failed"] == "0"
    code, r, err = bench(s, "messages", "--pairs", 5, "--rate", 200, "--duration", 1, "--warmup", 0.2)
    assert code == 0, err
    assert int(r["sent"]) >= 150 and r["lost"] == "0" and r["received"] == r["sent"]
    code, r, err = bench(s, "idle", "--sessions", 20)
    assert code == 0, err
    assert r["sessions"] == "20" and r["failed"] == "0"


def test_a_wrong_password_is_a_failed_login_with_the_reason(make_server):
    s = make_server(shards=1)
    accounts(s, "user", 2)
    s.start()
    r = subprocess.run([str(BENCH), "login", "--port", str(s.port), "--password", "wrong", "--rate", "5",
                        "--duration", "0.5", "--users", "2", "--quiet"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "first_error: authentication failed: not-authorized" in r.stdout


def test_rosters_then_presence_logins_see_every_contact(make_server):
    s = make_server(shards=2)
    layout = ["--user-prefix", "pres", "--cyclers", 4, "--background", 10, "--contacts", 6]
    accounts(s, "pres", 14)
    s.start()
    code, r, err = bench(s, "rosters", *layout)
    assert code == 0, err
    assert r["subscriptions"] == r["expected"] == str(2 * 4 * 6)
    code, r, err = bench(s, "presence", *layout, "--rate", 8, "--duration", 1)
    assert code == 0, err
    assert int(r["logins"]) >= 6 and r["failed"] == "0"
    # Each login's available and unavailable presence reached all six contacts, once.
    assert r["contacts_got_available_per_login"] == "6.0"
    assert r["contacts_got_unavailable_per_login"] == "6.0"
    # Made twice, the rosters are not made again (nothing left to approve): said, not hung.
    code, r, err = bench(s, "rosters", *layout, "--timeout", 5)
    assert code != 0 and "were the rosters made before" in err

