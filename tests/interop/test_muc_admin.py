"""XEP-0045 Multi-User Chat, administration, with raw stanzas over slixmpp:

- the two new configuration fields, muc#roomconfig_membersonly and
  muc#roomconfig_moderatedroom, and what disco#info says of them (§10.2, §6.4);
- roles by nick (muc#admin): kicking (§8.2), voice (§8.3, §8.4), moderator status (§9.6,
  §9.7), with who may do what and the exact errors;
- affiliations by bare JID (muc#admin): banning and unbanning, a domain ban (§9.1, §9.2),
  membership (§9.3, §9.4), admin and owner status (§10.3-§10.7), the last owner, a request
  with several items that is applied entirely or not at all;
- the lists (§9.2, §9.5, §9.8, §10.5, §10.8) and who may read them;
- members-only rooms (§7.2.6, §9.4, §10.2 status 322, invitations §7.8.2 / §9.5);
- moderated rooms (§5.1.2, §7.4);
- destroying a room (§10.9);
- a persistent room's affiliations across a restart.

Where the XEP leaves a choice (error precedence, which error for a mixed request, who reads
which list), these tests hold the server to the decisions made for this feature. All tests share one
server (alice, bob, carol, dave) but the persistence test, and each uses a room of its own.
Checks that something does NOT happen wait QUIET seconds after a positive barrier (a
reply that must arrive first), so they can fail. The helpers for raw stanzas come from
test_muc.py."""
import pytest
from slixmpp.stanza import Message, Presence

from conftest import Server
from test_muc import (INSTANT, MUC, NS_DISCO_INFO, NS_MUC_OWNER, NS_MUC_USER, SERVICE, absent,
                      assert_error, configure, connect, enter, error_for, groupchat, item, new_room,
                      presence_from, send, send_message, send_presence, status_codes, uid)
from xmpp_client import run

NS_MUC_ADMIN = "http://jabber.org/protocol/muc#admin"
USERS = ("alice", "bob", "carol", "dave")


def bare(user):
    return f"{user}@localhost"


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("starling-muc-admin"), extra=MUC)
    for name in USERS:
        s.add_user(name)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def srv(admin_server):
    yield admin_server
    assert admin_server.alive(), "the server died during the test:\n" + admin_server.log()[-4000:]


# --- muc#admin requests, as sent on the wire -------------------------------------------------

def _reason(reason):
    return f"<reason>{reason}</reason>" if reason is not None else ""


def role_item(nick, role, reason=None):
    return f"<item nick='{nick}' role='{role}'>{_reason(reason)}</item>"


def affiliation_item(jid, affiliation, reason=None):
    return f"<item jid='{jid}' affiliation='{affiliation}'>{_reason(reason)}</item>"


async def admin_set(client, room, *items):
    """An iq set of muc#admin items to the room; the reply, result or error."""
    return await client.query("set", room, f"<query xmlns='{NS_MUC_ADMIN}'>{''.join(items)}</query>")


async def set_role(client, room, nick, role, reason=None):
    return await admin_set(client, room, role_item(nick, role, reason))


async def set_affiliation(client, room, jid, affiliation, reason=None):
    return await admin_set(client, room, affiliation_item(jid, affiliation, reason))


def assert_result(reply):
    assert reply["type"] == "result", str(reply)


async def admin_list(client, room, attribute, value):
    """§9.2/§9.5/§9.8/§10.5/§10.8: the list of one affiliation or role; the reply."""
    return await client.query("get", room, f"<query xmlns='{NS_MUC_ADMIN}'><item {attribute}='{value}'/></query>")


def list_items(reply):
    assert_result(reply)
    return reply.xml.findall(f"{{{NS_MUC_ADMIN}}}query/{{{NS_MUC_ADMIN}}}item")


def affiliation_list(reply):
    """The (jid, affiliation) pairs of an affiliation list."""
    return sorted((i.get("jid"), i.get("affiliation")) for i in list_items(reply))


# --- what the room sends ------------------------------------------------------------------------

def occupant_presence(jid, type_=None, codes=(), **attrs):
    """Presence from exactly `jid` of this type (None: available) with at least these status
    codes and an <item/> with these attribute values."""
    def match(s):
        if not presence_from(jid, type_)(s) or not set(codes) <= status_codes(s):
            return False
        it = item(s)
        return it is not None and all(it.get(k) == v for k, v in attrs.items())
    return match


def actor_nick(presence):
    actor = item(presence).find(f"{{{NS_MUC_USER}}}actor")
    return None if actor is None else actor.get("nick")


def reason_of(presence):
    return item(presence).findtext(f"{{{NS_MUC_USER}}}reason")


def marks(clients):
    return {c: len(c.received) for c in clients}


async def everyone_sees(since, predicate, what):
    """Each client of `since` (client → mark) gets a stanza matching `predicate`; the list."""
    return [await c.wait_for(predicate, what, start=m) for c, m in since.items()]


def room_presence(room):
    return lambda s: isinstance(s, Presence) and (s.xml.get("from") or "").startswith(room + "/")


async def disco_features(client, room):
    info = await client.query("get", room, f"<query xmlns='{NS_DISCO_INFO}'/>")
    assert_result(info)
    return {f.get("var") for f in info.xml.iter(f"{{{NS_DISCO_INFO}}}feature")}


# --- rooms ----------------------------------------------------------------------------------------

async def room_with(server, owner, others=(), *, members=(), admins=(), owners=(), outcasts=(),
                    moderators=(), **config):
    """A fresh room: `owner` creates it and submits `config` (muc#roomconfig_ suffixes; none:
    the instant room), gives out the affiliations by bare JID, then `others` enter in order
    (nick: the user name) and finally the `moderators` get role moderator. Returns the room
    and the clients by user name, once everyone has seen everyone."""
    room = new_room()
    clients = {owner: await connect(server, owner)}
    own = await enter(clients[owner], room, owner)
    assert 201 in status_codes(own), f"a fresh room: {own}"
    if config:
        await configure(clients[owner], room, **config)
    else:
        assert_result(await clients[owner].query("set", room, INSTANT))
    for users, affiliation in ((members, "member"), (admins, "admin"), (owners, "owner"), (outcasts, "outcast")):
        for user in users:
            assert_result(await set_affiliation(clients[owner], room, bare(user), affiliation))
    for user in others:
        clients[user] = await connect(server, user)
        await enter(clients[user], room, user)
    for c in clients.values():
        for user in clients:
            await c.wait_for(presence_from(f"{room}/{user}"), f"{user}'s presence")
    for user in moderators:
        since = marks(clients.values())
        assert_result(await set_role(clients[owner], room, user, "moderator"))
        await everyone_sees(since, occupant_presence(f"{room}/{user}", role="moderator"), f"{user} a moderator")
    return room, clients


async def still_inside(client, room, nick):
    """The occupant is still in the room: its groupchat is broadcast back to it."""
    body = f"still here {uid()}"
    send_message(client, room, "groupchat", body)
    await client.wait_for(groupchat(f"{room}/{nick}", body), f"{nick}'s groupchat echo")


# --- §10.2: the new configuration fields ---------------------------------------------------------

def test_membersonly_and_moderatedroom_fields_default_off_and_show_in_disco_10_2_6_4(srv):
    async def body():
        room, c = await room_with(srv, "alice")
        alice = c["alice"]
        form = await alice.query("get", room, f"<query xmlns='{NS_MUC_OWNER}'/>")
        assert_result(form)
        fields = {f.get("var"): f for f in form.xml.iter("{jabber:x:data}field")}
        for var in ("muc#roomconfig_membersonly", "muc#roomconfig_moderatedroom"):
            assert var in fields, f"{var} missing: {form}"
            assert fields[var].get("type") == "boolean", str(form)
            assert fields[var].findtext("{jabber:x:data}value") == "0", f"{var} defaults to 0: {form}"
        features = await disco_features(alice, room)
        assert {"muc_open", "muc_unmoderated"} <= features, features
        assert not {"muc_membersonly", "muc_moderated"} & features, features
        await configure(alice, room, membersonly="1", moderatedroom="1")
        features = await disco_features(alice, room)
        assert {"muc_membersonly", "muc_moderated"} <= features, features
        assert not {"muc_open", "muc_unmoderated"} & features, features

    run(body())


# --- §8.2: kicking ----------------------------------------------------------------------------------

def test_a_kick_removes_the_occupant_with_307_actor_and_reason_8_2(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"])
        alice, bob, carol = c["alice"], c["bob"], c["carol"]
        since = marks(c.values())
        assert_result(await set_role(alice, room, "bob", "none", "Avaunt"))
        own = await bob.wait_for(presence_from(f"{room}/bob", "unavailable"), "bob's removal", start=since[bob])
        assert status_codes(own) == {110, 307}, str(own)
        assert (item(own).get("affiliation"), item(own).get("role")) == ("none", "none"), str(own)
        assert actor_nick(own) == "alice" and reason_of(own) == "Avaunt", str(own)
        for other in (alice, carol):
            seen = await other.wait_for(presence_from(f"{room}/bob", "unavailable"), "bob's removal",
                                        start=since[other])
            assert status_codes(seen) == {307}, str(seen)
            assert item(seen).get("role") == "none" and reason_of(seen) == "Avaunt", str(seen)
        # bob is no occupant any more.
        ident = send_message(bob, room, "groupchat", "still here?")
        assert_error(await bob.wait_for(error_for(ident), "refusal of bob's groupchat"), "modify", "not-acceptable")
        await absent(carol, groupchat(f"{room}/bob", "still here?"), since[carol], "a kicked user's message")

    run(body())


def test_kicking_oneself_is_a_conflict_8_2(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob"])
        alice, bob = c["alice"], c["bob"]
        since = marks(c.values())
        assert_error(await set_role(alice, room, "alice", "none"), "cancel", "conflict")
        await still_inside(alice, room, "alice")
        await absent(bob, presence_from(f"{room}/alice", "unavailable"), since[bob], "alice's removal")

    run(body())


def test_kicking_a_higher_affiliation_is_not_allowed_8_2(srv):
    async def body():
        # bob: admin; carol: a member made moderator; dave: an unaffiliated moderator.
        room, c = await room_with(srv, "alice", ["bob", "carol", "dave"], admins=["bob"], members=["carol"],
                                  moderators=["carol", "dave"])
        since = marks(c.values())
        for kicker, target in (("carol", "bob"), ("dave", "bob"), ("bob", "alice")):
            reply = await set_role(c[kicker], room, target, "none")
            assert_error(reply, "cancel", "not-allowed")
        await still_inside(c["bob"], room, "bob")
        for client in c.values():
            await absent(client, lambda s: room_presence(room)(s) and s.xml.get("type") == "unavailable",
                         since[client], "someone's removal")

    run(body())


# --- who may change roles at all -------------------------------------------------------------------

def test_a_participant_may_change_no_role_forbidden(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"])
        bob, carol = c["bob"], c["carol"]
        since = marks(c.values())
        for role in ("none", "visitor", "moderator"):
            assert_error(await set_role(bob, room, "carol", role), "auth", "forbidden")
        await still_inside(carol, room, "carol")
        await absent(carol, lambda s: presence_from(f"{room}/carol", "unavailable")(s)
                     or occupant_presence(f"{room}/carol", role="visitor")(s)
                     or occupant_presence(f"{room}/carol", role="moderator")(s), since[carol], "a role change")

    run(body())


def test_a_stranger_without_affiliation_may_change_nothing_forbidden(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob"])
        dave = await connect(srv, "dave")  # not in the room, no affiliation
        assert_error(await set_role(dave, room, "bob", "none"), "auth", "forbidden")
        assert_error(await set_affiliation(dave, room, bare("bob"), "outcast"), "auth", "forbidden")
        await still_inside(c["bob"], room, "bob")

    run(body())


def test_a_role_change_for_a_nick_not_in_the_room_is_item_not_found(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob"])
        assert_error(await set_role(c["alice"], room, "nobody", "none"), "cancel", "item-not-found")
        assert_error(await set_role(c["alice"], room, "nobody", "moderator"), "cancel", "item-not-found")

    run(body())


def test_an_item_with_both_role_and_affiliation_or_neither_is_a_bad_request(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob"])
        alice, bob = c["alice"], c["bob"]
        since = marks([bob])
        both = f"<item nick='bob' jid='{bare('bob')}' role='none' affiliation='outcast'/>"
        assert_error(await admin_set(alice, room, both), "modify", "bad-request")
        for neither in ("<item nick='bob'/>", f"<item jid='{bare('bob')}'/>"):
            assert_error(await admin_set(alice, room, neither), "modify", "bad-request")
        await still_inside(bob, room, "bob")
        await absent(bob, presence_from(f"{room}/bob", "unavailable"), since[bob], "its removal")
        assert affiliation_list(await admin_list(alice, room, "affiliation", "outcast")) == []

    run(body())


# --- §5.1.2, §7.4, §8.3, §8.4: moderated rooms and voice ------------------------------------------

def test_in_a_moderated_room_newcomers_without_affiliation_are_visitors_5_1_2(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], members=["bob"], moderatedroom="1")
        roles = {}
        for user in ("alice", "bob", "carol"):
            own = await c[user].wait_for(presence_from(f"{room}/{user}", code=110), "its self-presence")
            roles[user] = (item(own).get("affiliation"), item(own).get("role"))
        assert roles == {"alice": ("owner", "moderator"), "bob": ("member", "participant"),
                         "carol": ("none", "visitor")}, roles

    run(body())


def test_a_visitors_groupchat_is_forbidden_and_not_broadcast_7_4(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["carol"], moderatedroom="1")
        alice, carol = c["alice"], c["carol"]
        since = marks(c.values())
        ident = send_message(carol, room, "groupchat", "may I speak?")
        assert_error(await carol.wait_for(error_for(ident), "refusal of a visitor's message"), "auth", "forbidden")
        await absent(alice, groupchat(f"{room}/carol", "may I speak?"), since[alice], "a visitor's message")
        await absent(carol, groupchat(f"{room}/carol", "may I speak?"), since[carol], "its own echo")

    run(body())


def test_granting_voice_is_broadcast_and_the_visitor_may_speak_8_3(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], members=["bob"], moderatedroom="1")
        alice, carol = c["alice"], c["carol"]
        since = marks(c.values())
        assert_result(await set_role(alice, room, "carol", "participant", "A worthy witch"))
        await everyone_sees(since, occupant_presence(f"{room}/carol", role="participant", affiliation="none"),
                            "carol's voice")
        send_message(carol, room, "groupchat", "thank you")
        await everyone_sees(since, groupchat(f"{room}/carol", "thank you"), "carol's message")

    run(body())


def test_revoking_voice_makes_a_participant_a_visitor_8_4(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], members=["bob"], moderatedroom="1")
        alice, bob = c["alice"], c["bob"]
        since = marks(c.values())
        assert_result(await set_role(alice, room, "bob", "visitor"))
        await everyone_sees(since, occupant_presence(f"{room}/bob", role="visitor", affiliation="member"),
                            "bob's loss of voice")
        ident = send_message(bob, room, "groupchat", "hush")
        assert_error(await bob.wait_for(error_for(ident), "refusal"), "auth", "forbidden")
        await absent(alice, groupchat(f"{room}/bob", "hush"), since[alice], "a visitor's message")

    run(body())


def test_voice_is_granted_and_revoked_by_moderators_only_8_3_8_4(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], members=["bob"], moderatedroom="1")
        bob, carol = c["bob"], c["carol"]  # bob: a member participant; carol: a visitor
        since = marks(c.values())
        assert_error(await set_role(bob, room, "carol", "participant"), "auth", "forbidden")
        assert_error(await set_role(carol, room, "bob", "visitor"), "auth", "forbidden")
        await still_inside(bob, room, "bob")
        await absent(carol, occupant_presence(f"{room}/carol", role="participant"), since[carol], "a refused voice")

    run(body())


def test_revoking_voice_from_an_admin_or_owner_is_not_allowed_8_4(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], admins=["bob"], moderators=["carol"],
                                  moderatedroom="1")
        since = marks(c.values())
        for requester, target in (("carol", "bob"), ("carol", "alice"), ("alice", "bob"), ("bob", "alice")):
            assert_error(await set_role(c[requester], room, target, "visitor"), "cancel", "not-allowed")
        await still_inside(c["bob"], room, "bob")
        for client in c.values():
            await absent(client, lambda s: room_presence(room)(s) and item(s) is not None
                         and item(s).get("role") == "visitor", since[client], "a visitor")

    run(body())


# --- §9.6, §9.7: moderator status ------------------------------------------------------------------

def test_an_admin_grants_and_revokes_moderator_status_9_6_9_7(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], admins=["bob"])
        bob = c["bob"]
        since = marks(c.values())
        assert_result(await set_role(bob, room, "carol", "moderator", "A worthy witch"))
        await everyone_sees(since, occupant_presence(f"{room}/carol", role="moderator", affiliation="none"),
                            "carol a moderator")
        since = marks(c.values())
        assert_result(await set_role(bob, room, "carol", "participant"))
        await everyone_sees(since, occupant_presence(f"{room}/carol", role="participant", affiliation="none"),
                            "carol a participant again")

    run(body())


def test_a_moderator_without_admin_affiliation_may_not_grant_or_revoke_moderator_forbidden_9_6(srv):
    async def body():
        # carol: a member made moderator; dave: an unaffiliated moderator; bob: a participant.
        room, c = await room_with(srv, "alice", ["bob", "carol", "dave"], members=["carol"],
                                  moderators=["carol", "dave"])
        since = marks(c.values())
        assert_error(await set_role(c["carol"], room, "bob", "moderator"), "auth", "forbidden")
        assert_error(await set_role(c["carol"], room, "dave", "participant"), "auth", "forbidden")
        assert_error(await set_role(c["dave"], room, "carol", "participant"), "auth", "forbidden")
        await still_inside(c["bob"], room, "bob")
        for client in c.values():
            await absent(client, lambda s: room_presence(room)(s) and s.xml.get("type") is None,
                         since[client], "a role change")

    run(body())


def test_revoking_moderator_from_an_admin_or_owner_is_not_allowed_9_7(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], admins=["bob", "carol"])
        since = marks(c.values())
        for requester, target in (("bob", "alice"), ("bob", "carol"), ("alice", "bob")):
            assert_error(await set_role(c[requester], room, target, "participant"), "cancel", "not-allowed")
        await still_inside(c["alice"], room, "alice")
        for client in c.values():
            await absent(client, lambda s: room_presence(room)(s) and item(s) is not None
                         and item(s).get("role") == "participant", since[client], "a lost moderator status")

    run(body())


# --- §9.1, §9.2: banning -------------------------------------------------------------------------------

def test_a_ban_removes_the_occupant_with_301_and_refuses_its_return_9_1(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"])
        alice, bob, carol = c["alice"], c["bob"], c["carol"]
        since = marks(c.values())
        assert_result(await set_affiliation(alice, room, bare("bob"), "outcast", "Treason"))
        own = await bob.wait_for(presence_from(f"{room}/bob", "unavailable"), "bob's removal", start=since[bob])
        assert status_codes(own) == {110, 301}, str(own)
        assert (item(own).get("affiliation"), item(own).get("role")) == ("outcast", "none"), str(own)
        assert actor_nick(own) == "alice" and reason_of(own) == "Treason", str(own)
        for other in (alice, carol):
            seen = await other.wait_for(presence_from(f"{room}/bob", "unavailable"), "bob's removal",
                                        start=since[other])
            assert status_codes(seen) == {301}, str(seen)
            assert (item(seen).get("affiliation"), item(seen).get("role")) == ("outcast", "none"), str(seen)
            assert reason_of(seen) == "Treason", str(seen)
        # §7.2.7: the outcast may not come back, under any nick.
        for nick in ("bob", "robert"):
            ident = send_presence(bob, f"{room}/{nick}")
            assert_error(await bob.wait_for(error_for(ident), "refusal of an outcast"), "auth", "forbidden")
        await absent(carol, lambda s: presence_from(f"{room}/bob")(s) or presence_from(f"{room}/robert")(s),
                     since[carol], "the outcast's return")

    run(body())


def test_an_unban_lets_the_user_in_again_and_the_ban_list_follows_9_2(srv):
    async def body():
        room, c = await room_with(srv, "alice")
        alice = c["alice"]
        bob = await connect(srv, "bob")
        assert affiliation_list(await admin_list(alice, room, "affiliation", "outcast")) == []
        assert_result(await set_affiliation(alice, room, bare("bob"), "outcast"))  # not an occupant: fine
        assert affiliation_list(await admin_list(alice, room, "affiliation", "outcast")) == [(bare("bob"), "outcast")]
        ident = send_presence(bob, f"{room}/bob")
        assert_error(await bob.wait_for(error_for(ident), "refusal of an outcast"), "auth", "forbidden")
        assert_result(await set_affiliation(alice, room, bare("bob"), "none"))
        assert affiliation_list(await admin_list(alice, room, "affiliation", "outcast")) == []
        own = await enter(bob, room, "bob")
        assert (item(own).get("affiliation"), item(own).get("role")) == ("none", "participant"), str(own)

    run(body())


def test_a_domain_ban_refuses_the_domains_users_but_a_user_affiliation_comes_first_9_2(srv):
    async def body():
        room, c = await room_with(srv, "alice", members=["dave"])
        alice = c["alice"]
        assert_result(await set_affiliation(alice, room, "localhost", "outcast"))
        assert ("localhost", "outcast") in affiliation_list(await admin_list(alice, room, "affiliation", "outcast"))
        for user in ("bob", "carol"):
            client = await connect(srv, user)
            ident = send_presence(client, f"{room}/{user}")
            assert_error(await client.wait_for(error_for(ident), f"refusal of {user}"), "auth", "forbidden")
        # §9.2: user@domain is matched before domain: the member and the owner are not banned.
        await still_inside(alice, room, "alice")
        dave = await connect(srv, "dave")
        own = await enter(dave, room, "dave")
        assert item(own).get("affiliation") == "member", str(own)

    run(body())


def test_banning_oneself_is_a_conflict_9_1(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob"], admins=["bob"])
        for user in ("alice", "bob"):
            assert_error(await set_affiliation(c[user], room, bare(user), "outcast"), "cancel", "conflict")
        assert affiliation_list(await admin_list(c["alice"], room, "affiliation", "outcast")) == []
        await still_inside(c["bob"], room, "bob")

    run(body())


# --- who may change affiliations ---------------------------------------------------------------------

def test_an_admin_may_not_touch_an_owner_or_admin_not_allowed_9_1(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], admins=["bob", "carol"])
        bob = c["bob"]
        assert_error(await set_affiliation(bob, room, bare("alice"), "outcast"), "cancel", "not-allowed")  # Ex. 115
        assert_error(await set_affiliation(bob, room, bare("carol"), "outcast"), "cancel", "not-allowed")
        await still_inside(c["alice"], room, "alice")
        await still_inside(c["carol"], room, "carol")
        assert affiliation_list(await admin_list(c["alice"], room, "affiliation", "outcast")) == []

    run(body())


def test_only_owners_grant_admin_or_owner_status_forbidden_10_3_10_6(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], admins=["bob"])
        bob, alice = c["bob"], c["alice"]
        since = marks(c.values())
        for affiliation in ("admin", "owner"):
            assert_error(await set_affiliation(bob, room, bare("carol"), affiliation), "auth", "forbidden")
        assert affiliation_list(await admin_list(alice, room, "affiliation", "admin")) == [(bare("bob"), "admin")]
        assert affiliation_list(await admin_list(alice, room, "affiliation", "owner")) == [(bare("alice"), "owner")]
        await absent(c["carol"], occupant_presence(f"{room}/carol", role="moderator"), since[c["carol"]],
                     "a refused promotion")

    run(body())


def test_an_owner_outside_the_room_still_changes_affiliations(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob"])
        alice, bob = c["alice"], c["bob"]
        since = marks([alice])
        send_presence(alice, f"{room}/alice", "unavailable", muc=False)
        await alice.wait_for(presence_from(f"{room}/alice", "unavailable", 110), "its exit", start=since[alice])
        since = marks([bob])
        assert_result(await set_affiliation(alice, room, bare("bob"), "member"))
        await bob.wait_for(occupant_presence(f"{room}/bob", affiliation="member"), "bob a member", start=since[bob])

    run(body())


def test_members_and_unaffiliated_occupants_may_not_change_affiliations_forbidden(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], members=["bob"], moderators=["carol"])
        # bob: a member; carol: an unaffiliated moderator.
        for requester in ("bob", "carol"):
            assert_error(await set_affiliation(c[requester], room, bare("dave"), "member"), "auth", "forbidden")
            assert_error(await set_affiliation(c[requester], room, bare("dave"), "outcast"), "auth", "forbidden")
        assert affiliation_list(await admin_list(c["alice"], room, "affiliation", "member")) == [(bare("bob"), "member")]
        assert affiliation_list(await admin_list(c["alice"], room, "affiliation", "outcast")) == []

    run(body())


# --- §9.3, §10.3, §10.6, §10.7: granting and revoking ----------------------------------------------------

def test_granting_membership_updates_the_occupants_presence_9_3(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"])
        since = marks(c.values())
        assert_result(await set_affiliation(c["alice"], room, bare("bob"), "member", "A worthy witch"))
        await everyone_sees(since, occupant_presence(f"{room}/bob", affiliation="member", role="participant"),
                            "bob a member")
        assert affiliation_list(await admin_list(c["alice"], room, "affiliation", "member")) == [(bare("bob"), "member")]

    run(body())


def test_a_full_jid_in_an_affiliation_item_counts_as_its_bare_jid(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob"])
        since = marks(c.values())
        assert_result(await set_affiliation(c["alice"], room, c["bob"].boundjid.full, "member"))
        await everyone_sees(since, occupant_presence(f"{room}/bob", affiliation="member"), "bob a member")
        assert affiliation_list(await admin_list(c["alice"], room, "affiliation", "member")) == [(bare("bob"), "member")]

    run(body())


def test_granting_admin_status_makes_the_occupant_a_moderator_10_6(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"])
        since = marks(c.values())
        assert_result(await set_affiliation(c["alice"], room, bare("bob"), "admin"))
        await everyone_sees(since, occupant_presence(f"{room}/bob", affiliation="admin", role="moderator"),
                            "bob an admin")
        assert affiliation_list(await admin_list(c["alice"], room, "affiliation", "admin")) == [(bare("bob"), "admin")]

    run(body())


def test_granting_owner_status_makes_the_occupant_a_moderator_10_3(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"])
        since = marks(c.values())
        assert_result(await set_affiliation(c["alice"], room, bare("bob"), "owner"))
        await everyone_sees(since, occupant_presence(f"{room}/bob", affiliation="owner", role="moderator"),
                            "bob an owner")
        owners = affiliation_list(await admin_list(c["alice"], room, "affiliation", "owner"))
        assert owners == [(bare("alice"), "owner"), (bare("bob"), "owner")], owners
        # The new owner may configure the room (§10.2).
        form = await c["bob"].query("get", room, f"<query xmlns='{NS_MUC_OWNER}'/>")
        assert_result(form)

    run(body())


@pytest.mark.parametrize("moderated, role", [("0", "participant"), ("1", "visitor")])
def test_revoking_admin_status_leaves_a_participant_or_in_a_moderated_room_a_visitor_10_7(srv, moderated, role):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], admins=["bob"], moderatedroom=moderated)
        since = marks(c.values())
        assert_result(await set_affiliation(c["alice"], room, bare("bob"), "none"))
        await everyone_sees(since, occupant_presence(f"{room}/bob", affiliation="none", role=role),
                            f"bob no admin, a {role}")
        assert affiliation_list(await admin_list(c["alice"], room, "affiliation", "admin")) == []

    run(body())


def test_the_only_owner_may_not_give_up_ownership_but_one_of_two_may_10_4(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob"])
        alice = c["alice"]
        for affiliation in ("admin", "member", "none"):
            assert_error(await set_affiliation(alice, room, bare("alice"), affiliation), "cancel", "conflict")
        assert affiliation_list(await admin_list(alice, room, "affiliation", "owner")) == [(bare("alice"), "owner")]
        assert_result(await set_affiliation(alice, room, bare("bob"), "owner"))
        since = marks(c.values())
        assert_result(await set_affiliation(alice, room, bare("alice"), "admin"))
        await everyone_sees(since, occupant_presence(f"{room}/alice", affiliation="admin", role="moderator"),
                            "alice an admin")
        assert affiliation_list(await admin_list(c["bob"], room, "affiliation", "owner")) == [(bare("bob"), "owner")]

    run(body())


def test_a_request_with_one_item_not_permitted_applies_none_of_them_9_2(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], admins=["bob"])
        alice, bob, carol = c["alice"], c["bob"], c["carol"]
        since = marks(c.values())
        # The admin may make carol a member, but not ban the owner.
        reply = await admin_set(bob, room, affiliation_item(bare("carol"), "member"),
                                affiliation_item(bare("alice"), "outcast"))
        assert_error(reply, "cancel", "not-allowed")
        # The owner may ban dave, but not herself.
        reply = await admin_set(alice, room, affiliation_item(bare("dave"), "outcast"),
                                affiliation_item(bare("alice"), "outcast"))
        assert_error(reply, "cancel", "conflict")
        # Role items likewise: the admin may kick carol, but not the owner.
        reply = await admin_set(bob, room, role_item("carol", "none"), role_item("alice", "none"))
        assert_error(reply, "cancel", "not-allowed")
        assert affiliation_list(await admin_list(alice, room, "affiliation", "member")) == []
        assert affiliation_list(await admin_list(alice, room, "affiliation", "outcast")) == []
        await still_inside(carol, room, "carol")
        await still_inside(alice, room, "alice")
        for client in c.values():
            await absent(client, lambda s: (room_presence(room)(s) and item(s) is not None
                                            and item(s).get("affiliation") in ("member", "outcast"))
                         or presence_from(f"{room}/carol", "unavailable")(s), since[client], "a change applied")

    run(body())


# --- the lists ---------------------------------------------------------------------------------------------

def test_the_member_and_ban_lists_go_to_admins_and_owners_9_2_9_5(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], admins=["bob"], members=["carol"],
                                  outcasts=["dave"])
        for requester in ("alice", "bob"):
            members = await admin_list(c[requester], room, "affiliation", "member")
            assert affiliation_list(members) == [(bare("carol"), "member")], str(members)
            outcasts = await admin_list(c[requester], room, "affiliation", "outcast")
            assert affiliation_list(outcasts) == [(bare("dave"), "outcast")], str(outcasts)

    run(body())


def test_members_and_others_may_not_read_the_member_list_of_a_semi_anonymous_room_9_5(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], members=["carol"])
        for requester in ("carol", "bob"):  # a member; an unaffiliated participant
            for affiliation in ("member", "outcast"):
                reply = await admin_list(c[requester], room, "affiliation", affiliation)
                assert_error(reply, "auth", "forbidden")

    run(body())


def test_the_admin_and_owner_lists_go_to_owners_only_10_5_10_8(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob"], admins=["bob"])
        owners = await admin_list(c["alice"], room, "affiliation", "owner")
        assert affiliation_list(owners) == [(bare("alice"), "owner")], str(owners)
        admins = await admin_list(c["alice"], room, "affiliation", "admin")
        assert affiliation_list(admins) == [(bare("bob"), "admin")], str(admins)
        for affiliation in ("owner", "admin"):
            assert_error(await admin_list(c["bob"], room, "affiliation", affiliation), "auth", "forbidden")

    run(body())


def test_the_role_lists_go_to_moderators_only_9_8(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol", "dave"], members=["bob"], moderatedroom="1")
        # alice: owner moderator; bob: member participant; carol and dave: visitors.
        expected = {"moderator": {("alice", "moderator", "owner", bare("alice"))},
                    "participant": {("bob", "participant", "member", bare("bob"))},
                    "visitor": {("carol", "visitor", "none", bare("carol")), ("dave", "visitor", "none", bare("dave"))}}
        for role, occupants in expected.items():
            reply = await admin_list(c["alice"], room, "role", role)
            got = {(i.get("nick"), i.get("role"), i.get("affiliation"), (i.get("jid") or "").split("/")[0])
                   for i in list_items(reply)}
            assert got == occupants, str(reply)
        for requester in ("bob", "carol"):
            for role in ("moderator", "participant", "visitor"):
                assert_error(await admin_list(c[requester], room, "role", role), "auth", "forbidden")

    run(body())


# --- §7.2.6, §9.4, §10.2: members-only rooms ------------------------------------------------------------

def test_a_members_only_room_refuses_non_members_and_lets_members_in_7_2_6(srv):
    async def body():
        room, c = await room_with(srv, "alice", members=["bob"], membersonly="1")
        alice = c["alice"]
        since = marks([alice])
        carol = await connect(srv, "carol")
        ident = send_presence(carol, f"{room}/carol")
        assert_error(await carol.wait_for(error_for(ident), "refusal of a non-member"), "auth", "registration-required")
        bob = await connect(srv, "bob")
        own = await enter(bob, room, "bob")
        assert (item(own).get("affiliation"), item(own).get("role")) == ("member", "participant"), str(own)
        await alice.wait_for(presence_from(f"{room}/bob"), "bob's presence", start=since[alice])
        await absent(alice, presence_from(f"{room}/carol"), since[alice], "the non-member's presence")

    run(body())


def test_revoking_membership_in_a_members_only_room_removes_the_occupant_with_321_9_4(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], members=["bob", "carol"], membersonly="1")
        alice, bob, carol = c["alice"], c["bob"], c["carol"]
        since = marks(c.values())
        assert_result(await set_affiliation(alice, room, bare("bob"), "none"))
        own = await bob.wait_for(presence_from(f"{room}/bob", "unavailable"), "bob's removal", start=since[bob])
        assert status_codes(own) == {110, 321}, str(own)
        assert (item(own).get("affiliation"), item(own).get("role")) == ("none", "none"), str(own)
        for other in (alice, carol):
            seen = await other.wait_for(presence_from(f"{room}/bob", "unavailable"), "bob's removal",
                                        start=since[other])
            assert status_codes(seen) == {321}, str(seen)
            assert (item(seen).get("affiliation"), item(seen).get("role")) == ("none", "none"), str(seen)
        ident = send_presence(bob, f"{room}/bob")
        assert_error(await bob.wait_for(error_for(ident), "refusal"), "auth", "registration-required")

    run(body())


def test_making_a_room_members_only_removes_the_non_members_with_322_10_2(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], members=["bob"])
        alice, bob, carol = c["alice"], c["bob"], c["carol"]
        since = marks(c.values())
        await configure(alice, room, membersonly="1")
        own = await carol.wait_for(presence_from(f"{room}/carol", "unavailable"), "carol's removal",
                                   start=since[carol])
        assert 322 in status_codes(own) and 307 not in status_codes(own), str(own)
        assert item(own).get("role") == "none", str(own)
        for other in (alice, bob):
            seen = await other.wait_for(presence_from(f"{room}/carol", "unavailable"), "carol's removal",
                                        start=since[other])
            assert 322 in status_codes(seen) and 110 not in status_codes(seen), str(seen)
        await still_inside(bob, room, "bob")
        await still_inside(alice, room, "alice")
        for client in (alice, bob):
            await absent(client, lambda s: room_presence(room)(s) and s.xml.get("type") == "unavailable"
                         and s.xml.get("from") != f"{room}/carol", since[client], "a member's removal")

    run(body())


def test_an_invitation_to_a_members_only_room_makes_the_invitee_a_member_7_8_2_9_5(srv):
    async def body():
        room, c = await room_with(srv, "alice", membersonly="1")
        alice = c["alice"]
        dave = await connect(srv, "dave")
        since = marks([dave])
        send(alice, f"<message to='{room}'><x xmlns='{NS_MUC_USER}'><invite to='{bare('dave')}'/></x></message>")
        await dave.wait_for(lambda s: isinstance(s, Message) and s.xml.get("from") == room
                            and s.xml.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}invite") is not None,
                            "the invitation", start=since[dave])
        members = await admin_list(alice, room, "affiliation", "member")
        assert affiliation_list(members) == [(bare("dave"), "member")], str(members)
        own = await enter(dave, room, "dave")
        assert (item(own).get("affiliation"), item(own).get("role")) == ("member", "participant"), str(own)

    run(body())


# --- §10.9: destroying a room -------------------------------------------------------------------------------

DESTROY = (f"<query xmlns='{NS_MUC_OWNER}'><destroy jid='alternate@{SERVICE}'>"
           f"<reason>Macbeth doth come</reason><password>cauldronburn</password></destroy></query>")


def test_destroying_a_room_removes_each_occupant_once_with_the_alternate_venue_10_9(srv):
    async def body():
        # Persistent: a temporary room would vanish when emptied anyway.
        room, c = await room_with(srv, "alice", ["bob", "carol"], admins=["bob"], persistentroom="1")
        alice = c["alice"]
        since = marks(c.values())
        assert_result(await alice.query("set", room, DESTROY))
        removals = {}
        for user, client in c.items():
            gone = await client.wait_for(presence_from(f"{room}/{user}", "unavailable"), "its removal",
                                         start=since[client])
            removals[client] = gone
            it = item(gone)
            assert it is not None and dict(it.attrib) == {"affiliation": "none", "role": "none"}, str(gone)
            destroy = gone.xml.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}destroy")
            assert destroy is not None and destroy.get("jid") == f"alternate@{SERVICE}", str(gone)
            assert destroy.findtext(f"{{{NS_MUC_USER}}}reason") == "Macbeth doth come", str(gone)
            assert destroy.findtext(f"{{{NS_MUC_USER}}}password") == "cauldronburn", str(gone)
        # The room is gone (a barrier too), even though it was persistent.
        info = await alice.query("get", room, f"<query xmlns='{NS_DISCO_INFO}'/>")
        assert_error(info, "cancel", "item-not-found")
        for client, gone in removals.items():
            await absent(client, lambda s: room_presence(room)(s) and s is not gone, since[client],
                         "a second presence from the room")
        own = await enter(alice, room, "alice")
        assert 201 in status_codes(own), f"a fresh, locked room: {own}"

    run(body())


def test_only_an_owner_destroys_a_room_forbidden_10_9(srv):
    async def body():
        room, c = await room_with(srv, "alice", ["bob", "carol"], admins=["bob"])
        since = marks(c.values())
        for requester in ("bob", "carol"):
            assert_error(await c[requester].query("set", room, DESTROY), "auth", "forbidden")
        await disco_features(c["carol"], room)  # the room still answers
        await still_inside(c["carol"], room, "carol")
        for client in c.values():
            await absent(client, lambda s: room_presence(room)(s) and s.xml.get("type") == "unavailable",
                         since[client], "a removal")

    run(body())


# --- persistence ------------------------------------------------------------------------------------------

def test_a_persistent_rooms_affiliations_survive_a_restart(make_server):
    server = make_server(extra=MUC)
    for name in USERS:
        server.add_user(name)
    server.start()
    box = {}

    async def before():
        room, c = await room_with(server, "alice", members=["bob"], admins=["carol"], outcasts=["dave"],
                                  persistentroom="1", membersonly="1")
        box["room"] = room
        await c["alice"].sync()

    run(before())
    server.stop()
    server.start()
    room = box["room"]

    async def after():
        alice, bob, carol, dave = [await connect(server, u) for u in USERS]
        mine = await enter(alice, room, "alice")
        assert 201 not in status_codes(mine) and item(mine).get("affiliation") == "owner", str(mine)
        for affiliation, expected in (("member", [(bare("bob"), "member")]), ("admin", [(bare("carol"), "admin")]),
                                      ("outcast", [(bare("dave"), "outcast")]),
                                      ("owner", [(bare("alice"), "owner")])):
            reply = await admin_list(alice, room, "affiliation", affiliation)
            assert affiliation_list(reply) == expected, str(reply)
        own = await enter(bob, room, "bob")  # members-only: only a member gets in
        assert (item(own).get("affiliation"), item(own).get("role")) == ("member", "participant"), str(own)
        own = await enter(carol, room, "carol")
        assert (item(own).get("affiliation"), item(own).get("role")) == ("admin", "moderator"), str(own)
        ident = send_presence(dave, f"{room}/dave")
        assert_error(await dave.wait_for(error_for(ident), "refusal of the outcast"), "auth", "forbidden")

    run(after())
