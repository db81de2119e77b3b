"""Several domains on one server (issue 24), over the wire: the real binary serving
localhost and example.net, accounts made with `starling user add user@domain`, slixmpp
users with the same username on both domains chatting across them, each domain's own
self-signed certificate chosen by SNI on direct TLS and by the stream's 'to' on STARTTLS
(`openssl s_client`), host-unknown for a third domain, and `starling check` on the mistakes
a two-domain file invites."""
import asyncio
import subprocess

import pytest
from slixmpp.stanza import Message

from conftest import PASSWORD, STARLING
from raw_stream import RawStream, stream_header
from xmpp_client import Client, HANG_TIMEOUT, available, run

SECOND = "example.net"
OTHER_PASSWORD = "the password of the other alice"
TWO_DOMAINS = f'[hosts."{SECOND}"]\nadmins = ["boss@{SECOND}"]\n'


@pytest.fixture
def two_domains(make_server):
    server = make_server(extra=TWO_DOMAINS)
    for user, password in (("alice@localhost", PASSWORD), (f"alice@{SECOND}", OTHER_PASSWORD),
                           (f"bob@{SECOND}", PASSWORD)):
        r = server.cli("user", "add", user, input=password + "\n")
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == f"created {user}"
    server.start()
    return server


async def login_at(server, jid, password=PASSWORD, direct_tls=False):
    client = Client(jid + "/test", password)
    client.connect(("127.0.0.1", server.tls_port if direct_tls else server.port), use_ssl=direct_tls)
    await asyncio.wait_for(asyncio.shield(client.outcome), HANG_TIMEOUT)
    assert client.outcome.result()[0] == "bound", f"{jid}: {client.outcome.result()}\n{server.log()[-3000:]}"
    return client


def test_user_commands_name_the_domain_and_refuse_a_bare_name_when_there_are_several(two_domains):
    server = two_domains
    r = server.cli("user", "add", "carol", input=PASSWORD + "\n")
    assert r.returncode != 0 and "several domains" in r.stderr and "carol@<domain>" in r.stderr, r.stderr
    r = server.cli("user", "add", "carol@elsewhere.test", input=PASSWORD + "\n")
    assert r.returncode != 0 and "does not host elsewhere.test" in r.stderr, r.stderr
    listed = server.cli("user", "list").stdout.split()
    assert listed == [f"alice@{SECOND}", f"bob@{SECOND}", "alice@localhost"], listed  # by domain, then name
    only = server.cli("user", "list", "--domain", SECOND).stdout.split()
    assert only == [f"alice@{SECOND}", f"bob@{SECOND}"], only
    r = server.cli("user", "del", f"alice@{SECOND}")
    assert r.returncode == 0 and r.stdout.strip() == f"deleted alice@{SECOND}", r.stderr
    assert server.cli("user", "list", "--domain", "localhost").stdout.split() == ["alice@localhost"]


def test_the_same_username_on_both_domains_logs_in_with_its_own_password_and_chats_across(two_domains):
    server = two_domains

    async def scenario():
        here = await login_at(server, "alice@localhost")
        there = await login_at(server, f"alice@{SECOND}", OTHER_PASSWORD, direct_tls=True)
        bob = await login_at(server, f"bob@{SECOND}")
        for c in (here, there, bob):
            await available(c)
        here.send_message(mto=f"alice@{SECOND}", mbody="hello from localhost", mtype="chat")
        got = await there.message(lambda m: m["body"] == "hello from localhost")
        assert got["from"] == here.boundjid
        there.send_message(mto="alice@localhost", mbody="hello from the other side", mtype="chat")
        back = await here.message(lambda m: m["body"] == "hello from the other side")
        assert back["from"] == there.boundjid
        # Within example.net as well, and nothing for bob of what the alices said.
        bob.send_message(mto=f"alice@{SECOND}", mbody="neighbour", mtype="chat")
        await there.message(lambda m: m["body"] == "neighbour")
        await bob.sync()
        assert not [m for m in bob.received if isinstance(m, Message) and m["body"]]
        # Each domain answers for itself.
        pong = await bob.query("get", SECOND, "<ping xmlns='urn:xmpp:ping'/>")
        assert pong["type"] == "result" and pong["from"] == SECOND

    run(scenario())


def test_a_password_of_one_domain_does_not_open_the_other(two_domains):
    async def scenario():
        client = Client(f"alice@{SECOND}/x", PASSWORD)  # localhost alice's password
        client.connect(("127.0.0.1", two_domains.port))
        await asyncio.wait_for(asyncio.shield(client.outcome), HANG_TIMEOUT)
        assert client.outcome.result()[0] == "failed_auth", client.outcome.result()

    run(scenario())


def certificate_subject(port, *, servername=None, starttls_domain=None):
    args = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-brief"]
    if servername:
        args += ["-servername", servername]
    else:
        args += ["-noservername"]
    if starttls_domain:
        args += ["-starttls", "xmpp", "-xmpphost", starttls_domain]
    r = subprocess.run(args, input="", capture_output=True, text=True, timeout=30)
    out = r.stdout + r.stderr
    lines = [line for line in out.splitlines() if "Peer certificate" in line or "subject=" in line]
    assert lines, out
    return lines[0]


def test_each_domain_presents_its_own_certificate(two_domains):
    server = two_domains
    assert "CN = localhost" in certificate_subject(server.tls_port, servername="localhost")
    assert f"CN = {SECOND}" in certificate_subject(server.tls_port, servername=SECOND)
    # Without SNI: the first domain's. On STARTTLS: the one the stream's 'to' named.
    assert "CN = localhost" in certificate_subject(server.tls_port)
    assert f"CN = {SECOND}" in certificate_subject(server.port, starttls_domain=SECOND)
    assert "CN = localhost" in certificate_subject(server.port, starttls_domain="localhost")


def test_a_third_domain_gets_host_unknown(two_domains):
    s = RawStream(two_domains.port)
    try:
        s.send(stream_header(to="elsewhere.test"))
        condition, closed = s.expect_stream_error()
        assert condition == "host-unknown" and closed
    finally:
        s.close()
    # Both served domains are accepted on the same port.
    for domain in ("localhost", SECOND):
        s = RawStream(two_domains.port)
        try:
            s.send(stream_header(to=domain))
            features = s.element()
            assert features.tag.endswith("features"), features
        finally:
            s.close()


def write(tmp_path, text):
    path = tmp_path / "starling.toml"
    path.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n[c2s]\nport = 0\ndirect_tls_port = 0\n'
                    '[http]\nport = 0\ntls_port = 0\n' + text)
    return path


def check(path):
    return subprocess.run([STARLING, "check", "-c", str(path)], capture_output=True, text=True, timeout=30)


def test_check_refuses_a_domain_listed_twice(tmp_path):
    r = check(write(tmp_path, '[hosts."LocalHost"]\n'))
    assert r.returncode != 0
    assert 'hosts."LocalHost": the domain is listed twice (also in server)' in r.stderr, r.stderr


def test_check_reports_settings_for_a_module_the_domain_does_not_enable(tmp_path):
    r = check(write(tmp_path, f'[hosts."{SECOND}".modules]\nenabled = ["ping", "disco"]\n'
                              f'[hosts."{SECOND}".modules.register]\nallow_registration = true\n'))
    assert r.returncode != 0
    assert f'hosts."{SECOND}".modules.register: settings for a module {SECOND} does not enable' in r.stderr, r.stderr


def test_check_reports_a_certificate_that_does_not_name_its_domain(tmp_path, make_server):
    # localhost's self-signed certificate, configured for example.net.
    donor = make_server()
    donor.start()
    donor.stop()
    cert = donor.root / "data" / "tls" / "localhost.crt"
    key = donor.root / "data" / "tls" / "localhost.key"
    r = check(write(tmp_path, f'[hosts."{SECOND}"]\ncertificate = "{cert}"\nkey = "{key}"\n'))
    assert r.returncode != 0
    assert f'hosts."{SECOND}".certificate: {cert} does not name {SECOND}' in r.stderr, r.stderr


def test_check_accepts_a_two_domain_file(tmp_path):
    r = check(write(tmp_path, f'[hosts."{SECOND}"]\nadmins = ["boss@{SECOND}"]\n'
                              f'[hosts."{SECOND}".modules.register]\nallow_registration = true\n'))
    assert r.returncode == 0, r.stderr
