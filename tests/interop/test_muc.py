"""XEP-0045 Multi-User Chat, first slice, with slixmpp: the service in disco (§6.1, §6.2),
room creation and the instant room (§10.1), entering (§7.1, §7.2: occupant presence,
self-presence, semi-anonymous items, the subject, nick conflict, no nick, locked room),
exiting (§7.14, and the session ending without it, RFC 6121 §4.6.3), groupchat (§7.4),
private messages (§7.5), nick change (§7.6) and the subject (§8.1), plus slixmpp's own
xep_0045 plugin at its defaults. The module "muc" is on by default: one test checks that.

Stanzas are sent raw so the tests say exactly what goes on the wire. All tests share one
server; each uses a room of its own (uuid). Checks that something does NOT arrive wait
QUIET seconds after a positive barrier (a reply that must arrive first), so they can fail."""
import uuid

import pytest
from slixmpp import JID
from slixmpp.stanza import Message, Presence

from conftest import Server
from xmpp_client import HANG_TIMEOUT, available, login, run, wait_in

MUC = ('[modules]\nenabled = ["disco", "ping", "version", "time", "roster", "vcard", "private_xml", '
       '"offline", "last_activity", "register", "blocking", "muc"]\n')
SERVICE = "conference.localhost"
NS_CLIENT = "jabber:client"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = NS_MUC + "#user"
NS_MUC_OWNER = NS_MUC + "#owner"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
INSTANT = f"<query xmlns='{NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'/></query>"

# How long an absence is waited for, after a barrier; a bound, not a timing assertion.
QUIET = 0.7


def uid():
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
def muc_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("starling-muc"), extra=MUC)
    for name in ("alice", "bob", "carol"):
        s.add_user(name)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def srv(muc_server):
    yield muc_server
    assert muc_server.alive(), "the server died during the test:\n" + muc_server.log()[-4000:]


# --- stanzas -----------------------------------------------------------------------------

def new_room():
    return f"room-{uid()}@{SERVICE}"


def muc_x(stanza):
    return stanza.xml.find(f"{{{NS_MUC_USER}}}x")


def status_codes(stanza):
    x = muc_x(stanza)
    return set() if x is None else {int(s.get("code")) for s in x.findall(f"{{{NS_MUC_USER}}}status")}


def item(stanza):
    x = muc_x(stanza)
    return None if x is None else x.find(f"{{{NS_MUC_USER}}}item")


def presence_from(jid, type_=None, code=None):
    """Presence from exactly `jid`, of this type (None: available), with status `code` if given."""
    return lambda s: (isinstance(s, Presence) and s.xml.get("from") == jid and s.xml.get("type") == type_
                      and (code is None or code in status_codes(s)))


def error_for(ident):
    return lambda s: s.xml.get("id") == ident and s.xml.get("type") == "error"


def groupchat(sender, body):
    return lambda s: (isinstance(s, Message) and s.xml.get("type") == "groupchat"
                      and s.xml.get("from") == sender and s["body"] == body)


def is_subject(room):
    """§7.2.15/§8.1: a groupchat message from the room (or an occupant) with <subject/> and no <body/>."""
    return lambda s: (isinstance(s, Message) and s.xml.get("type") == "groupchat"
                      and (s.xml.get("from") or "").split("/")[0] == room
                      and s.xml.find(f"{{{NS_CLIENT}}}subject") is not None
                      and s.xml.find(f"{{{NS_CLIENT}}}body") is None)


def subject_text(message):
    return message.xml.find(f"{{{NS_CLIENT}}}subject").text or ""


def assert_error(stanza, type_, condition):
    assert stanza.xml.get("type") == "error", str(stanza)
    error = stanza.xml.find(f"{{{NS_CLIENT}}}error")
    assert error is not None and error.get("type") == type_, f"want type {type_}: {stanza}"
    assert error.find(f"{{{NS_STANZAS}}}{condition}") is not None, f"want <{condition}/>: {stanza}"


def send(client, xml):
    client.send_raw(xml)  # the stream's default namespace is jabber:client


def send_presence(client, to, type_=None, muc=True):
    """A presence with an id (to match its error); muc=True adds the join's <x/> (§7.2.1)."""
    ident = uid()
    kind = f" type='{type_}'" if type_ else ""
    x = f"<x xmlns='{NS_MUC}'/>" if muc else ""
    send(client, f"<presence to='{to}' id='{ident}'{kind}>{x}</presence>")
    return ident


def send_message(client, to, type_, body=None, subject=None):
    ident = uid()
    payload = (f"<body>{body}</body>" if body is not None else "") + \
              (f"<subject>{subject}</subject>" if subject is not None else "")
    send(client, f"<message to='{to}' type='{type_}' id='{ident}'>{payload}</message>")
    return ident


async def absent(client, predicate, start, what, wait=QUIET):
    found = await wait_in(client.received, client._arrived, predicate, wait, start)
    assert found is None, f"{client.boundjid.full} got {what}: {found}"


# --- rooms -------------------------------------------------------------------------------

async def connect(server, user):
    client = await login(server, user, resource="muc")
    await available(client)
    return client


async def enter(client, room, nick):
    """Enters room/nick (§7.2.1); returns the self-presence (status 110)."""
    occupant = f"{room}/{nick}"
    mark = len(client.received)  # an earlier visit's self-presence is not this one
    ident = send_presence(client, occupant)
    got = await client.wait_for(lambda s: error_for(ident)(s) or presence_from(occupant, code=110)(s),
                                f"self-presence from {occupant}", start=mark)
    assert got.xml.get("type") != "error", f"entering {occupant}: {got}"
    return got


async def create(client, room, nick):
    """§10.1.1 then §10.1.2: creates the room and accepts the instant room."""
    own = await enter(client, room, nick)
    assert {110, 201} <= status_codes(own), f"§10.1.1 Example 154: {own}"
    reply = await client.query("set", room, INSTANT)
    assert reply["type"] == "result" and len(reply.xml) == 0, f"§10.1.2: an empty result: {reply}"
    return own


async def room_of(server, *users):
    """A fresh unlocked room: the first user creates it, the others enter in order; every
    occupant's nick is its user name."""
    room = new_room()
    clients = [await connect(server, u) for u in users]
    await create(clients[0], room, users[0])
    for c, u in zip(clients[1:], users[1:]):
        await enter(c, room, u)
    # Everyone has seen everyone enter: later marks start after the joins.
    for c in clients:
        for u in users:
            await c.wait_for(presence_from(f"{room}/{u}"), f"{u}'s presence")
    return room, clients


# --- §6: discovery -----------------------------------------------------------------------

def test_service_disco_info_and_host_disco_items_6_1_6_2(srv):
    async def body():
        alice = await connect(srv, "alice")
        info = await alice.query("get", SERVICE, f"<query xmlns='{NS_DISCO_INFO}'/>")
        assert info["type"] == "result", str(info)
        query = info.xml.find(f"{{{NS_DISCO_INFO}}}query")
        identities = {(i.get("category"), i.get("type")) for i in query.findall(f"{{{NS_DISCO_INFO}}}identity")}
        assert ("conference", "text") in identities, str(info)
        assert NS_MUC in {f.get("var") for f in query.findall(f"{{{NS_DISCO_INFO}}}feature")}, str(info)
        items = await alice.query("get", "localhost", f"<query xmlns='{NS_DISCO_ITEMS}'/>")
        assert items["type"] == "result", str(items)
        jids = {i.get("jid") for i in items.xml.iter(f"{{{NS_DISCO_ITEMS}}}item")}
        assert SERVICE in jids, str(items)

    run(body())


def test_muc_is_on_by_default(make_server):
    """At the defaults (no [modules] section), conference.localhost is there and a user can
    make a room and enter it."""
    server = make_server()
    server.add_user("alice")
    server.start()

    async def body():
        alice = await connect(server, "alice")
        items = await alice.query("get", "localhost", f"<query xmlns='{NS_DISCO_ITEMS}'/>")
        assert items["type"] == "result", str(items)
        assert SERVICE in {i.get("jid") for i in items.xml.iter(f"{{{NS_DISCO_ITEMS}}}item")}, str(items)
        room = new_room()
        own = await enter(alice, room, "alice")
        assert {110, 201} <= status_codes(own), str(own)
        assert (await alice.query("set", room, INSTANT))["type"] == "result"

    run(body())


# --- §10.1, §7.2: creating and entering ---------------------------------------------------

def test_creator_is_owner_and_room_is_locked_until_instant_room_10_1(srv):
    async def body():
        room = new_room()
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        own = await enter(alice, room, "alice")
        assert {110, 201} <= status_codes(own), str(own)
        assert (item(own).get("affiliation"), item(own).get("role")) == ("owner", "moderator"), str(own)
        # §7.2.10: nobody else may enter before the owner configures the room.
        ident = send_presence(bob, f"{room}/bob")
        assert_error(await bob.wait_for(error_for(ident), "error for entering a locked room"),
                     "cancel", "item-not-found")
        reply = await alice.query("set", room, INSTANT)
        assert reply["type"] == "result" and len(reply.xml) == 0, str(reply)
        bob_own = await enter(bob, room, "bob")
        assert 201 not in status_codes(bob_own), f"only the creator learns of the creation: {bob_own}"
        assert (item(bob_own).get("affiliation"), item(bob_own).get("role")) == ("none", "participant")

    run(body())


def test_presence_without_nick_is_jid_malformed_and_creates_nothing_7_2_1(srv):
    async def body():
        room = new_room()
        alice = await connect(srv, "alice")
        ident = send_presence(alice, room)
        assert_error(await alice.wait_for(error_for(ident), "error for a join without nick"),
                     "modify", "jid-malformed")
        own = await enter(alice, room, "alice")
        assert 201 in status_codes(own), f"the refused join must not have created the room: {own}"

    run(body())


def test_entering_sends_occupants_then_self_then_subject_semi_anonymously_7_1_7_2(srv):
    async def body():
        room, (alice, bob) = await room_of(srv, "alice", "bob")
        carol = await connect(srv, "carol")
        marks = {c: len(c.received) for c in (alice, bob, carol)}
        own = await enter(carol, room, "carol")
        assert 201 not in status_codes(own), str(own)
        subject = await carol.wait_for(is_subject(room), "the room subject", start=marks[carol])
        assert subject_text(subject) == "", f"§7.2.15 Example 41: no subject set: {subject}"
        seen = [s for s in carol.received[marks[carol]:] if isinstance(s, Presence)
                and (s.xml.get("from") or "").startswith(room + "/")]
        # §7.2.2: each other occupant's presence once, in any order, then the self-presence.
        senders = [s.xml.get("from") for s in seen]
        assert len(senders) == 3 and set(senders[:2]) == {f"{room}/alice", f"{room}/bob"}, senders
        assert seen[2] is own, [str(s) for s in seen]
        assert carol.received.index(subject) > carol.received.index(own)
        # §7.2.4: a non-moderator sees no real JIDs.
        by_nick = {s.xml.get("from").split("/", 1)[1]: item(s) for s in seen}
        assert (by_nick["alice"].get("affiliation"), by_nick["alice"].get("role")) == ("owner", "moderator")
        assert (by_nick["bob"].get("affiliation"), by_nick["bob"].get("role")) == ("none", "participant")
        assert by_nick["alice"].get("jid") is None and by_nick["bob"].get("jid") is None, [str(s) for s in seen]
        # The moderator sees carol's full JID, the participant does not.
        to_alice = await alice.wait_for(presence_from(f"{room}/carol"), "carol's presence", start=marks[alice])
        to_bob = await bob.wait_for(presence_from(f"{room}/carol"), "carol's presence", start=marks[bob])
        assert item(to_alice).get("jid") == carol.boundjid.full, str(to_alice)
        assert item(to_bob).get("jid") is None, str(to_bob)
        for p in (to_alice, to_bob):
            assert (item(p).get("affiliation"), item(p).get("role")) == ("none", "participant"), str(p)
            assert 110 not in status_codes(p), str(p)

    run(body())


def test_nick_in_use_is_a_conflict_and_the_room_hears_nothing_7_2_8(srv):
    async def body():
        room, (alice,) = await room_of(srv, "alice")
        bob = await connect(srv, "bob")
        mark = len(alice.received)
        ident = send_presence(bob, f"{room}/alice")
        assert_error(await bob.wait_for(error_for(ident), "error for a nick in use"), "cancel", "conflict")
        await absent(alice, lambda s: isinstance(s, Presence) and s.xml.get("from", "").startswith(room),
                     mark, "room presence after a refused join")

    run(body())


# --- §7.14: exiting ------------------------------------------------------------------------

def test_exit_is_broadcast_and_the_last_exit_destroys_the_room_7_14(srv):
    async def body():
        room, (alice, bob) = await room_of(srv, "alice", "bob")
        mark = len(alice.received)
        send_presence(bob, f"{room}/bob", "unavailable", muc=False)
        own = await bob.wait_for(presence_from(f"{room}/bob", "unavailable", 110), "own exit")
        assert item(own).get("role") == "none", str(own)
        seen = await alice.wait_for(presence_from(f"{room}/bob", "unavailable"), "bob's exit", start=mark)
        assert item(seen).get("role") == "none" and 110 not in status_codes(seen), str(seen)
        # bob is no occupant any more (§7.4).
        ident = send_message(bob, room, "groupchat", "after leaving")
        assert_error(await bob.wait_for(error_for(ident), "error for groupchat after exit"),
                     "modify", "not-acceptable")
        send_presence(alice, f"{room}/alice", "unavailable", muc=False)
        await alice.wait_for(presence_from(f"{room}/alice", "unavailable", 110), "own exit")
        # A temporary room dies with its last occupant: entering creates it anew.
        again = await enter(alice, room, "alice")
        assert 201 in status_codes(again), str(again)

    run(body())


def test_closed_connection_makes_the_occupant_leave_rfc6121_4_6_3(srv):
    async def body():
        room, (alice, bob) = await room_of(srv, "alice", "bob")
        mark = len(alice.received)
        bob.close_now()
        gone = await alice.wait_for(presence_from(f"{room}/bob", "unavailable"), "bob's exit", start=mark)
        assert item(gone).get("role") == "none", str(gone)
        # The nick is free again.
        carol = await connect(srv, "carol")
        await enter(carol, room, "bob")

    run(body())


# --- §7.4, §7.5: messages -------------------------------------------------------------------

def test_groupchat_reaches_every_occupant_and_non_occupants_are_refused_7_4(srv):
    async def body():
        room, clients = await room_of(srv, "alice", "bob")
        carol = await connect(srv, "carol")
        send_message(clients[1], room, "groupchat", "hello room")
        for c in clients:  # the sender included
            await c.wait_for(groupchat(f"{room}/bob", "hello room"), "the groupchat message")
        marks = {c: len(c.received) for c in clients}
        ident = send_message(carol, room, "groupchat", "from outside")
        assert_error(await carol.wait_for(error_for(ident), "error for a non-occupant"), "modify", "not-acceptable")
        for c in clients:
            await absent(c, lambda s: isinstance(s, Message) and s["body"] == "from outside", marks[c],
                         "a non-occupant's message")

    run(body())


def test_private_messages_7_5(srv):
    async def body():
        room, (alice, bob) = await room_of(srv, "alice", "bob")
        carol = await connect(srv, "carol")
        send_message(bob, f"{room}/alice", "chat", "psst")
        pm = await alice.wait_for(lambda s: isinstance(s, Message) and s["body"] == "psst", "the private message")
        assert (pm.xml.get("from"), pm.xml.get("type")) == (f"{room}/bob", "chat"), str(pm)
        ident = send_message(bob, f"{room}/nobody", "chat", "to no one")
        assert_error(await bob.wait_for(error_for(ident), "error for an absent nick"), "cancel", "item-not-found")
        mark = len(alice.received)
        ident = send_message(carol, f"{room}/alice", "chat", "from outside")
        assert_error(await carol.wait_for(error_for(ident), "error for a non-occupant"), "modify", "not-acceptable")
        await absent(alice, lambda s: isinstance(s, Message) and s["body"] == "from outside", mark,
                     "a non-occupant's private message")

    run(body())


# --- §7.6: nick change ------------------------------------------------------------------------

def test_nick_change_and_conflict_7_6(srv):
    async def body():
        room, (alice, bob) = await room_of(srv, "alice", "bob")
        marks = {c: len(c.received) for c in (alice, bob)}
        send_presence(bob, f"{room}/robert", muc=False)  # Example 49: plain presence
        for c, own in ((alice, False), (bob, True)):
            old = await c.wait_for(presence_from(f"{room}/bob", "unavailable", 303), "303", start=marks[c])
            new = await c.wait_for(presence_from(f"{room}/robert"), "the new nick", start=marks[c])
            assert item(old).get("nick") == "robert", str(old)
            assert (110 in status_codes(old), 110 in status_codes(new)) == (own, own), f"{old}\n{new}"
            assert c.received.index(old) < c.received.index(new), "unavailable first"
        ident = send_presence(bob, f"{room}/alice", muc=False)
        assert_error(await bob.wait_for(error_for(ident), "error for a nick in use"), "cancel", "conflict")
        send_message(bob, room, "groupchat", "renamed")
        await alice.wait_for(groupchat(f"{room}/robert", "renamed"), "a message from the new nick")

    run(body())


# --- §8.1: subject ------------------------------------------------------------------------------

def test_only_moderators_change_the_subject_8_1(srv):
    async def body():
        room, (alice, bob) = await room_of(srv, "alice", "bob")
        marks = {c: len(c.received) for c in (alice, bob)}
        ident = send_message(bob, room, "groupchat", subject="bob's topic")
        assert_error(await bob.wait_for(error_for(ident), "error for a participant's subject"), "auth", "forbidden")
        await absent(alice, lambda s: is_subject(room)(s) and subject_text(s) == "bob's topic", marks[alice],
                     "a refused subject")
        send_message(alice, room, "groupchat", subject="witches")
        for c in (alice, bob):
            got = await c.wait_for(lambda s: is_subject(room)(s) and subject_text(s) == "witches",
                                   "the new subject", start=marks[c])
            assert got.xml.get("from") == f"{room}/alice", str(got)
        # §7.2.15: a newcomer gets the current subject after its self-presence.
        carol = await connect(srv, "carol")
        own = await enter(carol, room, "carol")
        got = await carol.wait_for(is_subject(room), "the subject")
        assert subject_text(got) == "witches", str(got)
        assert carol.received.index(got) > carol.received.index(own)

    run(body())


# --- slixmpp's plugin at its defaults --------------------------------------------------------------

def test_slixmpp_xep_0045_plugin_creates_joins_and_chats(srv):
    async def body():
        room = JID(new_room())
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        for c in (alice, bob):
            c.register_plugin("xep_0045")
        # join_muc_wait returns after the self-presence AND the subject (§7.1).
        own, _, _, _ = await alice["xep_0045"].join_muc_wait(room, "alice", timeout=HANG_TIMEOUT)
        assert {110, 201} <= own["muc"]["status_codes"], str(own)
        assert (own["muc"]["affiliation"], own["muc"]["role"]) == ("owner", "moderator"), str(own)
        form = alice["xep_0004"].make_form(ftype="submit")
        await alice["xep_0045"].set_room_config(room, form, timeout=HANG_TIMEOUT)
        own, _, occupants, _ = await bob["xep_0045"].join_muc_wait(room, "bob", timeout=HANG_TIMEOUT)
        assert "alice" in {p["muc"]["nick"] for p in occupants}, [str(p) for p in occupants]
        await alice.wait_for(presence_from(f"{room}/bob"), "bob's presence")
        assert set(alice["xep_0045"].get_roster(room)) == {"alice", "bob"}
        bob.send_message(mto=room, mbody="hello from slixmpp", mtype="groupchat")
        for c in (alice, bob):
            msg = await c.message(lambda m: m["type"] == "groupchat" and m["body"] == "hello from slixmpp")
            assert msg["mucnick"] == "bob" and msg["from"].bare == room.bare, str(msg)

    run(body())


# --- §10.1.3, §10.2: the configuration form and what it does --------------------------------

def form_xml(**fields):
    """A submitted muc#roomconfig form with these fields (var suffix → value)."""
    body = "".join(f"<field var='muc#roomconfig_{k}'><value>{v}</value></field>" for k, v in fields.items())
    return (f"<query xmlns='{NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'>"
            f"<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>{body}</x></query>")


async def configure(client, room, **fields):
    reply = await client.query("set", room, form_xml(**fields))
    assert reply["type"] == "result", str(reply)


def test_the_owner_gets_the_configuration_form_and_others_are_forbidden_10_2(srv):
    async def body():
        room, (alice, bob) = await room_of(srv, "alice", "bob")
        form = await alice.query("get", room, f"<query xmlns='{NS_MUC_OWNER}'/>")
        assert form["type"] == "result", str(form)
        x = form.xml.find(f"{{{NS_MUC_OWNER}}}query/{{jabber:x:data}}x")
        assert x is not None and x.get("type") == "form", str(form)
        fields = {f.get("var"): f for f in x.findall("{jabber:x:data}field")}
        assert fields["FORM_TYPE"].findtext("{jabber:x:data}value") == "http://jabber.org/protocol/muc#roomconfig"
        for var in ("roomname", "persistentroom", "publicroom", "passwordprotectedroom", "roomsecret", "whois",
                    "maxusers", "changesubject"):
            assert f"muc#roomconfig_{var}" in fields, f"{var} missing: {form}"
        assert_error(await bob.query("get", room, f"<query xmlns='{NS_MUC_OWNER}'/>"), "auth", "forbidden")
        assert_error(await bob.query("set", room, form_xml(roomname="mine")), "auth", "forbidden")
        assert_error(await alice.query("set", room, form_xml(whois="everybody")), "modify", "not-acceptable")
        # A password-protected room without a password is no configuration either.
        assert_error(await alice.query("set", room, form_xml(passwordprotectedroom="1")), "modify", "not-acceptable")

    run(body())


def test_a_password_protected_room_wants_the_password_7_2_5(srv):
    async def body():
        room = new_room()
        alice, bob = await connect(srv, "alice"), await connect(srv, "bob")
        await enter(alice, room, "alice")
        await configure(alice, room, passwordprotectedroom="1", roomsecret="cauldron")
        for password in (None, "wrong"):
            ident = uid()
            x = f"<x xmlns='{NS_MUC}'>" + (f"<password>{password}</password>" if password else "") + "</x>"
            send(bob, f"<presence to='{room}/bob' id='{ident}'>{x}</presence>")
            assert_error(await bob.wait_for(error_for(ident), "refusal"), "auth", "not-authorized")
        send(bob, f"<presence to='{room}/bob'><x xmlns='{NS_MUC}'><password>cauldron</password></x></presence>")
        await bob.wait_for(presence_from(f"{room}/bob", code=110), "bob inside")
        info = await bob.query("get", room, f"<query xmlns='{NS_DISCO_INFO}'/>")
        assert "muc_passwordprotected" in str(info), str(info)

    run(body())


def test_a_full_room_turns_newcomers_away_7_2_9(srv):
    async def body():
        room = new_room()
        alice, bob, carol = await connect(srv, "alice"), await connect(srv, "bob"), await connect(srv, "carol")
        await enter(alice, room, "alice")
        await configure(alice, room, maxusers="2")
        await enter(bob, room, "bob")
        ident = send_presence(carol, f"{room}/carol")
        assert_error(await carol.wait_for(error_for(ident), "refusal"), "wait", "service-unavailable")  # Example 30

    run(body())


def test_a_non_anonymous_room_shows_real_jids_to_all_with_status_100_and_172_10_2_1(srv):
    async def body():
        room, (alice, bob) = await room_of(srv, "alice", "bob")
        mark = len(bob.received)
        await configure(alice, room, whois="anyone")
        notice = await bob.wait_for(lambda s: isinstance(s, Message) and s.xml.get("from") == room
                                    and 172 in status_codes(s), "status 172", start=mark)
        assert notice.xml.find(f"{{{NS_CLIENT}}}body") is None
        carol = await connect(srv, "carol")
        own = await enter(carol, room, "carol")
        assert 100 in status_codes(own), f"§7.2.3: non-anonymous room: {own}"
        bobs = await carol.wait_for(presence_from(f"{room}/bob"), "bob's presence")
        assert item(bobs).get("jid", "").startswith("bob@localhost/"), f"carol sees bob's JID: {bobs}"

    run(body())


def test_publicroom_and_persistentroom_6_3_10_1(srv):
    async def body():
        alice = await connect(srv, "alice")
        hidden, kept = new_room(), new_room()
        for room in (hidden, kept):
            await enter(alice, room, "alice")
        await configure(alice, hidden, publicroom="0")
        await configure(alice, kept, persistentroom="1", roomname="The Kept Room")
        items = await alice.query("get", SERVICE, f"<query xmlns='{NS_DISCO_ITEMS}'/>")
        listed = {i.get("jid"): i.get("name") for i in items.xml.iter(f"{{{NS_DISCO_ITEMS}}}item")}
        assert hidden not in listed and listed.get(kept) == "The Kept Room", str(items)
        # The persistent room outlives its last occupant, configured as it was.
        send_presence(alice, f"{kept}/alice", type_="unavailable", muc=False)
        await alice.wait_for(presence_from(f"{kept}/alice", type_="unavailable", code=110), "left")
        own = await enter(alice, kept, "alice")
        assert 201 not in status_codes(own), f"the room was kept: {own}"
        info = await alice.query("get", kept, f"<query xmlns='{NS_DISCO_INFO}'/>")
        assert "The Kept Room" in str(info) and "muc_persistent" in str(info), str(info)

    run(body())


def test_cancelling_the_initial_configuration_destroys_the_room_10_1_3(srv):
    async def body():
        room = new_room()
        alice = await connect(srv, "alice")
        await enter(alice, room, "alice")
        reply = await alice.query("set", room, f"<query xmlns='{NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='cancel'/></query>")
        assert reply["type"] == "result", str(reply)
        await alice.wait_for(presence_from(f"{room}/alice", type_="unavailable"), "unavailable from the room")
        own = await enter(alice, room, "alice")
        assert 201 in status_codes(own), f"created again: {own}"

    run(body())


# --- persistence --------------------------------------------------------------------------

def test_a_persistent_room_survives_a_restart_with_its_configuration_and_owner(make_server):
    server = make_server(extra=MUC)
    for name in ("alice", "bob"):
        server.add_user(name)
    server.start()
    room = new_room()

    async def before():
        alice = await connect(server, "alice")
        await enter(alice, room, "alice")
        await configure(alice, room, persistentroom="1", roomname="Coven", passwordprotectedroom="1",
                        roomsecret="cauldron")
        mark = len(alice.received)  # the (empty) subject of entry came before
        send_message(alice, room, "groupchat", subject="Double, double")
        await alice.wait_for(lambda s: is_subject(room)(s) and subject_text(s) == "Double, double", "the subject",
                             start=mark)

    run(before())
    server.stop()
    server.start()

    async def after():
        alice, bob = await connect(server, "alice"), await connect(server, "bob")
        # The password still holds, and the room is not created anew.
        ident = send_presence(bob, f"{room}/bob")
        assert_error(await bob.wait_for(error_for(ident), "refusal"), "auth", "not-authorized")
        mark = len(bob.received)
        send(bob, f"<presence to='{room}/bob'><x xmlns='{NS_MUC}'><password>cauldron</password></x></presence>")
        own = await bob.wait_for(presence_from(f"{room}/bob", code=110), "bob inside", start=mark)
        assert 201 not in status_codes(own), str(own)
        subject = await bob.wait_for(is_subject(room), "the kept subject", start=mark)
        assert subject_text(subject) == "Double, double", str(subject)
        # alice is still the owner: she gets the configuration form, with the kept name.
        mark = len(alice.received)
        send(alice, f"<presence to='{room}/alice'><x xmlns='{NS_MUC}'><password>cauldron</password></x></presence>")
        mine = await alice.wait_for(presence_from(f"{room}/alice", code=110), "alice inside", start=mark)
        assert item(mine).get("affiliation") == "owner", str(mine)
        form = await alice.query("get", room, f"<query xmlns='{NS_MUC_OWNER}'/>")
        assert "Coven" in str(form), str(form)
        info = await bob.query("get", room, f"<query xmlns='{NS_DISCO_INFO}'/>")
        assert "muc_persistent" in str(info) and "muc_passwordprotected" in str(info), str(info)

    run(after())
    assert "persistent room(s) of conference.localhost loaded" in server.log()


# --- §7.2.14: history ------------------------------------------------------------------------

def delayed(room):
    """A groupchat message from the room with a XEP-0203 delay stamped by the room."""
    def match(s):
        if not isinstance(s, Message) or s.xml.get("type") != "groupchat":
            return False
        delay = s.xml.find("{urn:xmpp:delay}delay")
        return delay is not None and delay.get("from") == room and bool(delay.get("stamp"))
    return match


def history_of(client, room, start):
    return [s for s in client.received[start:] if delayed(room)(s)]


def test_a_newcomer_gets_the_history_with_delays_before_the_subject_as_much_as_asked_7_2_14(srv):
    async def body():
        room, (alice,) = await room_of(srv, "alice")
        for i in range(1, 6):
            send_message(alice, room, "groupchat", body=f"line {i}")
        await alice.wait_for(groupchat(f"{room}/alice", "line 5"), "the last line")
        bob = await connect(srv, "bob")
        # All of it, in order, after bob's self-presence and before the subject.
        mark = len(bob.received)
        await enter(bob, room, "bob")
        subject = await bob.wait_for(is_subject(room), "the subject", start=mark)
        got = history_of(bob, room, mark)
        assert [m["body"] for m in got] == [f"line {i}" for i in range(1, 6)], [str(m) for m in got]
        assert all(m.xml.get("from") == f"{room}/alice" for m in got)
        assert bob.received.index(got[-1]) < bob.received.index(subject), "history comes before the subject"
        # maxstanzas: the newest two only; maxchars='0': none (§7.2.14).
        carol = await connect(srv, "carol")
        for attrs, expected in (("maxstanzas='2'", ["line 4", "line 5"]), ("maxchars='0'", [])):
            mark = len(carol.received)
            send(carol, f"<presence to='{room}/carol'><x xmlns='{NS_MUC}'><history {attrs}/></x></presence>")
            await carol.wait_for(is_subject(room), "the subject", start=mark)
            assert [m["body"] for m in history_of(carol, room, mark)] == expected, attrs
            send_presence(carol, f"{room}/carol", type_="unavailable", muc=False)
            await carol.wait_for(presence_from(f"{room}/carol", type_="unavailable", code=110), "left", start=mark)
        # since: a date after every line: nothing.
        mark = len(carol.received)
        send(carol, f"<presence to='{room}/carol'><x xmlns='{NS_MUC}'><history since='2999-01-01T00:00:00Z'/></x></presence>")
        await carol.wait_for(is_subject(room), "the subject", start=mark)
        assert history_of(carol, room, mark) == []

    run(body())


def test_a_persistent_rooms_history_survives_a_restart(make_server):
    server = make_server(extra=MUC)
    for name in ("alice", "bob"):
        server.add_user(name)
    server.start()
    room = new_room()

    async def before():
        alice = await connect(server, "alice")
        await enter(alice, room, "alice")
        await configure(alice, room, persistentroom="1", historylength="2")
        for i in range(1, 4):
            send_message(alice, room, "groupchat", body=f"kept {i}")
        await alice.wait_for(groupchat(f"{room}/alice", "kept 3"), "the last line")
        await alice.sync()

    run(before())
    server.stop()
    server.start()

    async def after():
        bob = await connect(server, "bob")
        mark = len(bob.received)
        await enter(bob, room, "bob")
        await bob.wait_for(is_subject(room), "the subject", start=mark)
        assert [m["body"] for m in history_of(bob, room, mark)] == ["kept 2", "kept 3"]

    run(after())


# --- §17.4 iqs to occupants, XEP-0410 self-ping -----------------------------------------------

def iq_with_id(ident):
    return lambda s: s.xml.tag == f"{{{NS_CLIENT}}}iq" and s.xml.get("id") == ident


def test_an_iq_to_an_occupant_is_forwarded_without_real_jids_and_answered_17_4(srv):
    async def body():
        room, (alice, bob) = await room_of(srv, "alice", "bob")
        mark = len(alice.received)
        ident = uid()
        send(bob, f"<iq type='get' id='{ident}' to='{room}/alice'><query xmlns='jabber:iq:version'/></iq>")
        # alice's client sees the request from bob's occupant JID, never his real JID.
        request = await alice.wait_for(lambda s: s.xml.tag == f"{{{NS_CLIENT}}}iq" and s.xml.get("type") == "get"
                                       and s.xml.find("{jabber:iq:version}query") is not None,
                                       "the forwarded request", start=mark)
        assert request.xml.get("from") == f"{room}/bob", str(request)
        # Whatever her client answers comes back to bob from her occupant JID, under his id.
        answer = await bob.wait_for(iq_with_id(ident), "the answer")
        assert answer.xml.get("from") == f"{room}/alice", str(answer)
        assert answer.xml.get("type") in ("result", "error"), str(answer)
        assert "alice@localhost" not in str(answer), str(answer)

    run(body())


def test_self_ping_xep_0410(srv):
    async def body():
        room, (alice,) = await room_of(srv, "alice")
        carol = await connect(srv, "carol")
        ping = "<ping xmlns='urn:xmpp:ping'/>"
        joined = await alice.query("get", f"{room}/alice", ping)
        assert joined["type"] == "result" and joined.xml.get("from") == f"{room}/alice", str(joined)
        assert_error(await carol.query("get", f"{room}/carol", ping), "cancel", "not-acceptable")
        assert_error(await alice.query("get", f"{room}/nobody", ping), "cancel", "item-not-found")
        info = await alice.query("get", room, f"<query xmlns='{NS_DISCO_INFO}'/>")
        assert "http://jabber.org/protocol/muc#self-ping-optimization" in str(info), str(info)

    run(body())


# --- §7.8.2: mediated invitations -----------------------------------------------------------

def test_a_mediated_invitation_reaches_the_invitee_with_the_password_and_a_decline_comes_back_7_8_2(srv):
    async def body():
        room, (alice,) = await room_of(srv, "alice")
        await configure(alice, room, passwordprotectedroom="1", roomsecret="toil")
        carol, bob = await connect(srv, "carol"), await connect(srv, "bob")
        mark = len(carol.received)
        send(alice, f"<message to='{room}'><x xmlns='{NS_MUC_USER}'><invite to='carol@localhost'>"
                    f"<reason>come in</reason></invite></x></message>")
        invitation = await carol.wait_for(lambda s: isinstance(s, Message) and s.xml.get("from") == room
                                          and s.xml.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}invite") is not None,
                                          "the invitation", start=mark)
        invite = invitation.xml.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}invite")
        assert invite.get("from") == "alice@localhost", str(invitation)
        assert invite.findtext(f"{{{NS_MUC_USER}}}reason") == "come in", str(invitation)
        assert invitation.xml.findtext(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}password") == "toil", str(invitation)
        mark = len(alice.received)
        send(carol, f"<message to='{room}'><x xmlns='{NS_MUC_USER}'><decline to='alice@localhost'>"
                    f"<reason>busy</reason></decline></x></message>")
        declined = await alice.wait_for(lambda s: isinstance(s, Message) and s.xml.get("from") == room
                                        and s.xml.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}decline") is not None,
                                        "the decline", start=mark)
        decline = declined.xml.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}decline")
        assert decline.get("from") == "carol@localhost" and decline.findtext(f"{{{NS_MUC_USER}}}reason") == "busy"
        # Only an occupant invites.
        ident = uid()
        send(bob, f"<message to='{room}' id='{ident}'><x xmlns='{NS_MUC_USER}'><invite to='carol@localhost'/></x></message>")
        assert_error(await bob.wait_for(error_for(ident), "refusal"), "modify", "not-acceptable")

    run(body())


# --- found in review: what a client may not make the room say, and resynchronising ----------

def test_a_clients_own_muc_user_x_is_never_repeated_17_3(srv):
    async def body():
        room, (alice, bob) = await room_of(srv, "alice", "bob")
        mark = len(alice.received)
        send(bob, f"<presence to='{room}/bob'><status>forged</status><x xmlns='{NS_MUC_USER}'>"
                  f"<item affiliation='owner' role='moderator' jid='boss@localhost/x'/><status code='110'/></x></presence>")
        got = await alice.wait_for(lambda s: presence_from(f"{room}/bob")(s) and s["status"] == "forged",
                                   "bob's updated presence", start=mark)
        xs = got.xml.findall(f"{{{NS_MUC_USER}}}x")
        assert len(xs) == 1, f"only the room's <x/>: {got}"
        assert (item(got).get("affiliation"), item(got).get("role")) == ("none", "participant"), str(got)
        assert 110 not in status_codes(got) and "boss@localhost" not in str(got), str(got)
        # Nor in a groupchat message.
        send(bob, f"<message to='{room}' type='groupchat'><body>hi</body><x xmlns='{NS_MUC_USER}'><status code='104'/></x></message>")
        message = await alice.wait_for(groupchat(f"{room}/bob", "hi"), "bob's message", start=mark)
        assert message.xml.find(f"{{{NS_MUC_USER}}}x") is None, str(message)

    run(body())


def test_a_join_from_a_session_already_inside_gets_the_room_again_7_2_1(srv):
    async def body():
        room, (alice, bob) = await room_of(srv, "alice", "bob")
        mark = len(bob.received)
        send_presence(bob, f"{room}/bob")  # with <x xmlns='muc'/>: a client that lost track
        await bob.wait_for(presence_from(f"{room}/alice"), "alice's presence again", start=mark)
        own = await bob.wait_for(presence_from(f"{room}/bob", code=110), "its own presence", start=mark)
        await bob.wait_for(is_subject(room), "the subject again", start=mark)
        assert item(own).get("role") == "participant", str(own)

    run(body())


def test_a_self_ping_to_a_room_that_is_gone_is_not_acceptable_xep_0410(srv):
    async def body():
        carol = await connect(srv, "carol")
        reply = await carol.query("get", f"{new_room()}/carol", "<ping xmlns='urn:xmpp:ping'/>")
        assert_error(reply, "cancel", "not-acceptable")

    run(body())


def test_a_shorter_history_length_applies_at_once(srv):
    async def body():
        room, (alice,) = await room_of(srv, "alice")
        send_message(alice, room, "groupchat", body="before")
        await alice.wait_for(groupchat(f"{room}/alice", "before"), "the line")
        await configure(alice, room, historylength="0")
        bob = await connect(srv, "bob")
        mark = len(bob.received)
        await enter(bob, room, "bob")
        await bob.wait_for(is_subject(room), "the subject", start=mark)
        assert history_of(bob, room, mark) == []

    run(body())
