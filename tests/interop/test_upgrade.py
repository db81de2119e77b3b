"""The database of the previous release, upgraded in place at start-up (issue 24, part 4).

tests/fixtures/release-0.1.db was written by the release binary itself (see
tests/fixtures/make_release_db.py): accounts keyed by username alone, a mutual subscription
with a name and groups (alice, bob), a pending request with a XEP-0172 nick (carol to dave),
a blocklist, a vCard and private XML (alice), and an offline message for dave. The current
server starts on a copy: everything must be there for alice@localhost and dave@localhost,
old passwords included. A copy the upgrade cannot finish is left byte for byte as it was,
and the server says why and does not start."""
import hashlib
import shutil
import sqlite3
import subprocess
from pathlib import Path

from slixmpp.stanza import Presence

from conftest import STARLING
from xmpp_client import available, login, run

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1.db"
NS_ROSTER = "jabber:iq:roster"


def with_release_db(server):
    data = server.root / "data"
    data.mkdir()
    shutil.copy(FIXTURE, data / "starling.db")
    return data / "starling.db"


def test_the_previous_release_database_is_upgraded_with_nothing_lost(make_server):
    server = make_server()
    with_release_db(server)
    server.start()
    assert "cannot upgrade" not in server.log()

    listed = server.cli("user", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["alice@localhost", "bob@localhost", "carol@localhost", "dave@localhost"]

    async def scenario():
        alice = await login(server, "alice")  # the password set by the old release
        roster = await alice.query("get", None, f"<query xmlns='{NS_ROSTER}'/>")
        query = roster.xml.find(f"{{{NS_ROSTER}}}query")
        bob = query.find(f"{{{NS_ROSTER}}}item[@jid='bob@localhost']")
        assert bob is not None, str(roster)
        assert bob.get("name") == "Bobby" and bob.get("subscription") == "both", str(roster)
        assert sorted(g.text for g in bob.findall(f"{{{NS_ROSTER}}}group")) == ["Friends", "Work"]

        blocklist = await alice.query("get", None, "<blocklist xmlns='urn:xmpp:blocking'/>")
        assert "mallory@elsewhere.test" in str(blocklist), str(blocklist)
        vcard = await alice.query("get", None, "<vCard xmlns='vcard-temp'/>")
        assert "Alice Liddell" in str(vcard), str(vcard)
        private = await alice.query("get", None, "<query xmlns='jabber:iq:private'><notes xmlns='example:notes'/></query>")
        assert "tea at four" in str(private), str(private)

        # Subscriptions work across the upgrade: bob's presence reaches alice.
        await available(alice)
        bob_client = await login(server, "bob")
        await available(bob_client)
        await alice.wait_for(lambda s: isinstance(s, Presence) and s["from"].bare == "bob@localhost"
                             and s["type"] == "available", "bob's presence")

        dave = await login(server, "dave")
        await available(dave)
        offline = await dave.message(lambda m: m["body"] == "kept while you were away", "the offline message")
        assert offline["from"].bare == "alice@localhost"
        request = await dave.wait_for(lambda s: isinstance(s, Presence) and s["type"] == "subscribe",
                                      "carol's stored subscription request")
        assert request["from"].bare == "carol@localhost"
        assert "Caroline" in str(request), str(request)  # XEP-0172 nick kept

    run(scenario())
    server.stop()

    # The next start finds the current schema: the same data, nothing moved twice.
    server.start()

    async def again():
        alice = await login(server, "alice")
        roster = await alice.query("get", None, f"<query xmlns='{NS_ROSTER}'/>")
        items = roster.xml.find(f"{{{NS_ROSTER}}}query").findall(f"{{{NS_ROSTER}}}item")
        assert sorted(i.get("jid") for i in items) == ["bob@localhost"], str(roster)

    run(again())
    assert server.cli("user", "list").stdout.split() == listed.stdout.split()


def test_an_upgrade_that_fails_leaves_the_file_as_it_was_and_says_why(make_server):
    server = make_server()
    db = with_release_db(server)
    # A table in the way of the new schema (left by a tool, say): the upgrade cannot finish.
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE account_rows (x)")
    conn.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    result = subprocess.run([STARLING, "serve", "-c", str(server.config)], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert "cannot upgrade" in said and "account_rows" in said, said
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    # The CLI says the same and changes nothing either.
    listed = server.cli("user", "list")
    assert listed.returncode != 0 and "cannot upgrade" in listed.stderr, listed.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
