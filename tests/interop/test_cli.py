"""The starling command line: user add|del|passwd|list, check, version, and serve's start
and shutdown."""
import asyncio
import re
import signal
import socket
import subprocess

import pytest

from conftest import PASSWORD, STARLING, free_port
from xmpp_client import HANG_TIMEOUT, attempt_login, login, run


def account_names(s):
    r = s.cli("user", "list")
    assert r.returncode == 0, r.stderr
    return set(r.stdout.split())


async def outcome_of(s, user, password, mech=None):
    client = await attempt_login(s, user, password=password, mech=mech)
    result = client.outcome.result()
    client.close_now()
    return result


# --- user ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["dave", "dave@localhost"])
def test_user_add_reads_the_password_from_stdin_and_the_account_can_log_in(make_server, name):
    s = make_server()
    r = s.cli("user", "add", name, input="s3cret dave pass\n")
    assert r.returncode == 0, r.stderr
    assert "dave@localhost" in r.stdout
    assert "dave@localhost" in account_names(s)
    s.start()

    async def body():
        for mech in ("SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"):
            assert await outcome_of(s, "dave", "s3cret dave pass", mech) == ("bound", "dave@localhost/test"), mech

    run(body())


def test_user_add_of_an_existing_account_fails_and_keeps_its_password(make_server):
    s = make_server()
    s.add_user("alice")
    r = s.cli("user", "add", "alice", input="another password\n")
    assert r.returncode != 0
    assert "alice@localhost" in r.stderr and "exist" in r.stderr, r.stderr
    s.start()

    async def body():
        assert (await outcome_of(s, "alice", PASSWORD))[0] == "bound"
        assert await outcome_of(s, "alice", "another password") == ("failed_auth", "not-authorized")

    run(body())


def test_user_passwd_changes_the_password_while_the_server_runs(make_server):
    s = make_server()
    s.add_user("alice")
    s.start()

    async def body():
        assert (await outcome_of(s, "alice", PASSWORD))[0] == "bound"
        r = s.cli("user", "passwd", "alice", input="brand new password\n")
        assert r.returncode == 0, r.stderr
        for mech in ("SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"):
            assert await outcome_of(s, "alice", PASSWORD, mech) == ("failed_auth", "not-authorized"), mech
            assert (await outcome_of(s, "alice", "brand new password", mech))[0] == "bound", mech

    run(body())


def test_user_passwd_of_an_unknown_account_fails(make_server):
    s = make_server()
    r = s.cli("user", "passwd", "nobody", input="whatever password\n")
    assert r.returncode != 0
    assert "nobody" in r.stderr, r.stderr
    assert "nobody@localhost" not in account_names(s)


def test_user_del_removes_the_account_so_it_can_no_longer_log_in(make_server):
    s = make_server()
    s.add_user("alice")
    s.add_user("bob")
    s.start()

    async def body():
        assert (await outcome_of(s, "alice", PASSWORD))[0] == "bound"
        r = s.cli("user", "del", "alice")
        assert r.returncode == 0, r.stderr
        assert "alice@localhost" not in account_names(s)
        assert await outcome_of(s, "alice", PASSWORD, "SCRAM-SHA-256") == ("failed_auth", "not-authorized")
        assert await outcome_of(s, "alice", PASSWORD, "PLAIN") == ("failed_auth", "not-authorized")
        # The other account is untouched.
        assert (await outcome_of(s, "bob", PASSWORD))[0] == "bound"

    run(body())


def test_user_del_of_an_unknown_account_fails(make_server):
    s = make_server()
    r = s.cli("user", "del", "nobody")
    assert r.returncode != 0
    assert "nobody" in r.stderr, r.stderr


def test_user_list_lists_every_account(make_server):
    s = make_server()
    assert account_names(s) == set()
    for name in ("alice", "bob", "carol"):
        s.add_user(name)
    assert account_names(s) == {"alice@localhost", "bob@localhost", "carol@localhost"}
    assert s.cli("user", "del", "bob").returncode == 0
    assert account_names(s) == {"alice@localhost", "carol@localhost"}


def test_user_import_creates_accounts_from_stdin_and_keeps_existing_ones(make_server):
    s = make_server()
    s.add_user("alice")
    r = s.cli("user", "import", input="# name password\nalice other\nbob  two words\nCarol@localhost three\n\n")
    assert r.returncode == 0, r.stderr
    assert "created 2 account(s), 1 existed already" in r.stdout
    assert account_names(s) == {"alice@localhost", "bob@localhost", "carol@localhost"}
    s.start()

    async def body():
        assert (await outcome_of(s, "alice", PASSWORD))[0] == "bound"  # kept, not overwritten
        assert (await outcome_of(s, "bob", "two words"))[0] == "bound"
        assert (await outcome_of(s, "carol", "three"))[0] == "bound"

    run(body())


def test_user_import_with_a_bad_line_imports_nothing_and_names_the_lines(make_server):
    s = make_server()
    r = s.cli("user", "import", input="dave pass\nno-password\nerin@example.org x\ndave again\n")
    assert r.returncode == 2
    for number in ("line 2", "line 3", "line 4"):
        assert number in r.stderr, r.stderr
    assert "nothing imported" in r.stderr
    assert account_names(s) == set()


@pytest.mark.parametrize("name, named", [
    ("a b@", "a b"),                      # a space in the localpart, and no domain
    ("@", "@"),                           # nothing at all
    ("a b", "a b"),
    ("alice@example.org", "example.org"),  # a domain this server does not host
    ("alice@localhost/res", "alice@localhost/res"),  # a full JID, not an account
])
def test_user_add_refuses_an_invalid_username_with_a_message(make_server, name, named):
    s = make_server()
    r = s.cli("user", "add", name, input=PASSWORD + "\n")
    assert r.returncode != 0
    assert named in r.stderr, r.stderr  # the message says what is wrong
    assert account_names(s) == set()


# --- check -----------------------------------------------------------------------------

def write_config(tmp_path, body, port=None, tls_port=None):
    """A config whose every line is known: [server] data_dir (lines 1-2), [c2s] with the
    loopback interface and free ports (lines 3-6), then `body` from line 7."""
    port = port or free_port()
    tls_port = tls_port or free_port()
    path = tmp_path / "starling.toml"
    path.write_text(
        "[server]\n"
        f'data_dir = "{tmp_path / "data"}"\n'
        "[c2s]\n"
        'interfaces = ["127.0.0.1"]\n'
        f"port = {port}\n"
        f"direct_tls_port = {tls_port}\n"
        + body
        # The HTTP ports off, after the lines the tests count: other servers run side by side.
        + "\n[http]\nport = 0\ntls_port = 0\n"
    )
    return path


def starling(*args, timeout=60):
    return subprocess.run([STARLING, *args], capture_output=True, text=True, timeout=timeout)


BROKEN = {
    # name: (text from line 7, key, line)
    "unknown_key": ("portt = 5222\n", "c2s.portt", 7),
    "wrong_type": ('resource_conflict = "replace"\nkeepalive_interval = "abc"\n', "c2s.keepalive_interval", 8),
    "invalid_value": ('resource_conflict = "x"\n', "c2s.resource_conflict", 7),
    "unknown_module": ('[modules]\nenabled = ["ping", "nosuchmodule"]\n', "modules.enabled", 8),
    "unknown_section": ("[nosuchsection]\nx = 1\n", "nosuchsection", 7),
}


@pytest.mark.parametrize("case", BROKEN.keys())
def test_check_names_key_and_line_of_a_broken_setting(tmp_path, case):
    text, key, line = BROKEN[case]
    path = write_config(tmp_path, text)
    r = starling("check", "-c", str(path))
    assert r.returncode != 0
    assert f"line {line}: {key}:" in r.stderr, r.stderr


def test_check_names_the_port_key_when_the_type_is_wrong(tmp_path):
    path = tmp_path / "starling.toml"
    path.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n[c2s]\nport = "abc"\n')
    r = starling("check", "-c", str(path))
    assert r.returncode != 0
    assert "line 4: c2s.port:" in r.stderr, r.stderr


def test_check_reports_every_problem_not_just_the_first(tmp_path):
    path = write_config(tmp_path, 'portt = 1\nresource_conflict = "x"\n')
    r = starling("check", "-c", str(path))
    assert r.returncode != 0
    assert "line 7: c2s.portt:" in r.stderr, r.stderr
    assert "line 8: c2s.resource_conflict:" in r.stderr, r.stderr


@pytest.mark.parametrize("which", ["port", "direct_tls_port"])
def test_check_names_a_port_already_in_use(tmp_path, which):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        path = write_config(tmp_path, "", **{"port" if which == "port" else "tls_port": taken})
        r = starling("check", "-c", str(path))
    assert r.returncode != 0
    assert f"c2s.{which}:" in r.stderr, r.stderr
    assert str(taken) in r.stderr, r.stderr


def test_check_accepts_a_good_config(tmp_path):
    path = write_config(tmp_path, 'resource_conflict = "reject"\n[modules]\nenabled = ["ping", "disco"]\n')
    r = starling("check", "-c", str(path))
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", r.stderr


def test_version_prints_a_version():
    r = starling("version")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"starling \d+\.\d+\.\d+\S*\n", r.stdout), r.stdout


# --- serve -----------------------------------------------------------------------------

def test_serve_with_a_broken_config_exits_non_zero_without_starting(tmp_path):
    port = free_port()
    path = write_config(tmp_path, 'resource_conflict = "x"\n', port=port)
    r = starling("serve", "-c", str(path), timeout=30)
    assert r.returncode != 0
    assert "c2s.resource_conflict" in r.stderr + r.stdout, r.stderr + r.stdout
    assert not (tmp_path / "data").exists(), "it went on to create its data folder"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_serve_exits_non_zero_when_its_port_is_taken(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        path = write_config(tmp_path, "", port=taken)
        r = starling("serve", "-c", str(path), timeout=30)
    assert r.returncode != 0
    assert str(taken) in r.stderr + r.stdout, r.stderr + r.stdout


def test_serve_refuses_to_start_when_another_starling_listens_on_its_port(make_server, tmp_path):
    # SO_REUSEPORT (one listener per shard) must not let a second server share the port:
    # the kernel would hand it part of the connections, silently.
    first = make_server()
    first.start()
    path = write_config(tmp_path, "", port=first.port, tls_port=first.tls_port)

    async def body():
        second = await asyncio.create_subprocess_exec(
            STARLING, "serve", "-c", str(path), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out = []
        try:
            for _ in range(1000):  # its output, until it exits or says it listens
                line = (await asyncio.wait_for(second.stdout.readline(), HANG_TIMEOUT)).decode(errors="replace")
                if not line:
                    break
                out.append(line)
                assert "listening on" not in line, (
                    f"a second starling listens on port {first.port}, which the first one has:\n" + "".join(out))
            code = await asyncio.wait_for(second.wait(), HANG_TIMEOUT)
            assert code != 0, "".join(out)
            assert str(first.port) in "".join(out), "".join(out)
        finally:
            if second.returncode is None:
                second.terminate()
                await second.wait()

    run(body())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_closes_every_stream_with_system_shutdown_and_exits_zero(make_server, sig):
    s = make_server()
    s.add_user("alice")
    s.start()

    async def body():
        alice = await login(s, "alice")
        # An unauthenticated connection too, that has its stream open.
        reader, writer = await asyncio.open_connection("127.0.0.1", s.port)
        writer.write(b"<?xml version='1.0'?><stream:stream to='localhost' version='1.0' "
                     b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
        await writer.drain()
        raw = b""
        for _ in range(100):  # until the features arrive: the server has the stream
            raw += await asyncio.wait_for(reader.read(4096), HANG_TIMEOUT)
            if b"</stream:features>" in raw or b"<stream:features/>" in raw:
                break
        assert b"starttls" in raw, raw

        s.process.send_signal(sig)

        err = await alice.stream_error()
        assert err["condition"] == "system-shutdown", str(err)
        await alice.wait_closed()

        for _ in range(1000):  # until EOF
            chunk = await asyncio.wait_for(reader.read(4096), HANG_TIMEOUT)
            if not chunk:
                break
            raw += chunk
        writer.close()
        after_features = raw.split(b"features>", 2)[-1]
        assert b"<system-shutdown" in after_features, raw
        assert after_features.rstrip().endswith(b"</stream:stream>"), raw

        code = await asyncio.get_running_loop().run_in_executor(None, lambda: s.process.wait(HANG_TIMEOUT))
        assert code == 0, s.log()[-3000:]

    run(body())
