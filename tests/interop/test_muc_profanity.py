"""A password-protected, persistent room made and used with profanity, end to end.

Two real clients, profanity 0.13.1 (libstrophe), each in its own tmux server and HOME, are
driven as a new user would drive them, and everything checked is what their screens show:

 1. alice `/join`s a new room on conference.localhost; profanity says it is locked (status
    201) and she configures it with `/room config` and the form commands (`/fieldN on`,
    `/fieldN <text>`, `/form submit`): kept when empty, password-protected, a password.
 2. She makes bob a member: `/affiliation set member bob@localhost`, which `/affiliation
    list member` must then show (XEP-0045 §9.3, §9.5).
 3. bob's `/join <room> nick bob password <wrong>` is refused on his screen (§7.2.5,
    not-authorized); with the right password he enters, as a member.
 4. They chat both ways; each sees the other's line.
 5. The server is stopped and started on the same data folder. Both profanity clients
    reconnect by themselves (its default `/reconnect 30`) and ask again about the
    self-signed certificate; the user answers `/tls allow` as the first time.
 6. The room is back as it was: bob (out of it, `/close`) is refused without the password
    and enters with it, still a member; alice enters with it, still the owner, and the room
    is not created anew (no "Room locked"); they chat both ways again; alice's
    `/affiliation list member` shows bob, her `/room config` shows the room kept and
    password-protected, and bob's `/info` in the room shows muc_persistent and
    muc_passwordprotected (disco#info) and his affiliation, member.

What the server must do about affiliations (steps 2, 3 and 6) is collected and reported
together at the end, so that a server without muc#admin still shows how far the rest gets.
Every other check fails at once. Every wait is bounded; a failure shows the screen, both
profanity logs' tails and the server log's tail."""
import asyncio
import os
import re

import pytest

from conftest import PASSWORD
from test_clients_at_defaults import PROFANITY, TMUX, Tmux, tail, token
from test_muc import MUC, SERVICE
from xmpp_client import HANG_TIMEOUT, run

# profanity tries to reconnect 30 s (its default) after losing the connection.
RECONNECT_TIMEOUT = 75
# The whole scenario: two logins, a restart and two reconnections.
SCENARIO_TIMEOUT = 300


# A line of a window's text (not of the title, status bars or occupants panel).
STAMPED = re.compile(r"^\d\d:\d\d:\d\d [-!] ", re.M)
MEMBER_BOB = re.compile(r"Affiliation: member[^\n]*\n[^\n]*! +bob@localhost")


def after_last(screen: str, marker: str) -> str:
    """What the screen shows after the last `marker` (the whole screen without one)."""
    at = screen.rfind(marker)
    return screen if at < 0 else screen[at + len(marker):]


class Profanity:
    """One user's profanity in its own tmux server, HOME and XDG folders."""

    def __init__(self, tmp_path, server, user):
        self.server, self.user = server, user
        self.home = tmp_path / f"home-{user}"
        self.home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "TMUX"))}
        env.update(HOME=str(self.home), TERM="xterm-256color")
        self.tmux = Tmux(tmp_path / f"tmux-{user}.sock", env)

    def report(self, screen: str) -> str:
        log = self.home / ".local/share/profanity/logs/profanity.log"
        return (f"--- {self.user}'s screen ---\n{screen}\n--- {self.user}'s profanity log ---\n{tail(log, 3000)}"
                f"\n--- server log ---\n{self.server.log()[-5000:]}")

    async def screen(self) -> str:
        return await self.tmux.screen()

    async def type(self, text: str):
        await self.tmux.type(text)

    async def until(self, predicate, what: str, timeout: float = HANG_TIMEOUT) -> str:
        """The screen once predicate(screen) holds; fails with the screen and the logs."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            screen = await self.screen()
            if predicate(screen):
                return screen
            if loop.time() >= deadline:
                raise AssertionError(f"{self.user}'s profanity: no {what} on screen within {timeout}s\n"
                                     + self.report(screen))
            await asyncio.sleep(0.1)

    async def check(self, condition: bool, what: str):
        if not condition:
            raise AssertionError(f"{self.user}'s profanity: {what}\n" + self.report(await self.screen()))

    async def start(self):
        # The time limit ends profanity (and so the session and the tmux server) should
        # the test's finally never run.
        await self.tmux.cmd("new-session", "-d", "-s", "client", "-x", "200", "-y", "50",
                            "timeout", "--foreground", str(SCENARIO_TIMEOUT + 60), PROFANITY)
        await self.until(lambda s: "/help" in s, "welcome screen")

    async def connect(self):
        """`/connect` as the profanity test at defaults does: the password at the prompt,
        then `/tls allow` for the self-signed certificate."""
        await self.type(f"/connect {self.user}@localhost server 127.0.0.1 port {self.server.port}")
        await self.until(lambda s: "Enter password" in s, "password prompt")
        await self.type(PASSWORD)
        screen = await self.until(lambda s: "/tls allow" in s or "logged in successfully" in s
                                  or "Login failed" in s, "certificate prompt")
        await self.check("/tls allow" in screen, "no certificate prompt")
        await self.type("/tls allow")
        screen = await self.until(lambda s: "logged in successfully" in s or "Login failed" in s, "login")
        await self.check("logged in successfully" in screen, "login failed")

    async def clear(self):
        """`/clear`s the current window, so that what follows is all that it shows."""
        await self.type("/clear")
        # Only a barrier (profanity reads its input asynchronously), not a check: should
        # something arrive at once, what it shows is still new.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while STAMPED.search(await self.screen()) and loop.time() < deadline:
            await asyncio.sleep(0.05)

    async def console(self):
        """Focuses the console (window 1) and clears it."""
        await self.type("/win 1")
        await self.until(lambda s: s.startswith(" Profanity. Type /help"), "the console")
        await self.clear()

    async def join_refused(self, room: str, args: str, what: str):
        """From the console, a `/join` that the room must refuse as not-authorized."""
        await self.console()
        await self.type(f"/join {room} {args}".rstrip())
        error = f"Error joining room {room}, reason: "
        screen = await self.until(lambda s: error in s or "You have joined the room" in s, f"answer to {what}")
        await self.check(f"{error}not-authorized" in screen, f"{what} not refused as not-authorized")

    async def join(self, room: str, args: str) -> str:
        """From the console, a `/join` that must succeed; returns the room window's line
        '-> You have joined the room as <nick>, role: ..., affiliation: ...'."""
        await self.console()
        await self.type(f"/join {room} {args}")
        joined = "-> You have joined the room as "
        screen = await self.until(lambda s: joined in s or f"Error joining room {room}" in s, f"entering {room}")
        await self.check(joined in screen, f"could not enter {room}")
        return joined + after_last(screen, joined).splitlines()[0]

    async def reconnected(self):
        """After the server went away: profanity reconnects by itself and asks again about
        the certificate, on the console; the user allows it."""
        await self.until(lambda s: "Lost connection." in s, "lost connection")
        await self.console()
        screen = await self.until(lambda s: "/tls allow" in after_last(s, "Lost connection.")
                                  or "Connection re-established" in s, "reconnection", RECONNECT_TIMEOUT)
        if "Connection re-established" not in screen:
            await self.type("/tls allow")
            await self.until(lambda s: "Connection re-established" in s, "reconnection")

    async def says_and_hears(self, other: "Profanity", text: str):
        """Types `text` in the room window (current); the other one must show it as said
        by this one's nick (the user name)."""
        await self.type(text)
        await other.until(lambda s: f"{self.user}: {text}" in s, f"{self.user}'s message {text!r}")


def form_fields(screen: str) -> dict:
    """profanity's form window lines '[fieldN] <label>: <value>' → {tag: (label, value)}."""
    return {m.group(1): (m.group(2), m.group(3).strip())
            for m in re.finditer(r"\[(field\d+)\] ([^:\n]*):[ \t]*([^\n]*)", screen)}


def tag_of(fields: dict, label: str, boolean: bool):
    """The tag whose label matches `label` (a regex) and whose value is (or not) a boolean."""
    for tag, (text, value) in fields.items():
        if re.search(label, text, re.I) and (value in ("TRUE", "FALSE")) == boolean:
            return tag, value
    return None, None


PERSISTENT = r"persist|keep|kept"
PROTECTED = r"password|protect"
SECRET = r"password|secret"


def test_a_password_protected_persistent_room_with_profanity(make_server, tmp_path):
    if not TMUX or not PROFANITY:
        pytest.skip("needs tmux and profanity (scripts/install-deps.sh)")
    server = make_server(extra=MUC)
    for name in ("alice", "bob"):
        server.add_user(name)
    server.start()
    room = f"coven-{token()}@{SERVICE}"
    secret = f"cauldron{token()[:6]}"
    alice, bob = Profanity(tmp_path, server, "alice"), Profanity(tmp_path, server, "bob")
    problems = []  # affiliation checks: reported together at the end

    async def scenario():
        for client in (alice, bob):
            await client.start()
            await client.connect()

        # 1. alice creates the room: locked until configured (§10.1.1, status 201).
        await alice.type(f"/join {room}")
        screen = await alice.until(lambda s: "Room locked, requires configuration" in s
                                   or "Error joining room" in s, "the new room")
        await alice.check("You have joined the room as alice" in screen and "affiliation: owner" in screen,
                          "alice is not the owner of the room she made")
        await alice.type("/room config")
        screen = await alice.until(lambda s: "/form submit" in s or "Could not" in s, "the configuration form")
        fields = form_fields(screen)
        persistent, _ = tag_of(fields, PERSISTENT, True)
        protected, _ = tag_of(fields, PROTECTED, True)
        password, _ = tag_of(fields, SECRET, False)
        await alice.check(None not in (persistent, protected, password),
                          f"no persistent / password-protected / password field in the form: {fields}")
        for command, shows in ((f"/{persistent} on", f"[{persistent}] {fields[persistent][0]}: TRUE"),
                               (f"/{protected} on", f"[{protected}] {fields[protected][0]}: TRUE"),
                               (f"/{password} {secret}", f"[{password}] {fields[password][0]}: [hidden]")):
            await alice.type(command)
            await alice.until(lambda s: shows in after_last(s, "/form help"), f"{command!r} taken")
        await alice.type("/form submit")
        await alice.until(lambda s: "Room configuration successful" in s or "Configuration error" in s,
                          "the configuration's result")
        await alice.check("Room configuration successful" in await alice.screen(), "configuration refused")

        # 2. bob becomes a member (§9.3); the member list shows him (§9.5). Success of
        # the set shows nothing in profanity: the list shows it.
        await alice.type("/affiliation set member bob@localhost")
        await alice.type("/affiliation list member")
        screen = await alice.until(lambda s: "Affiliation: member" in s or "No users found with affiliation" in s
                                   or "Error retrieving member list" in s, "the member list")
        if "Error setting member affiliation" in screen or not MEMBER_BOB.search(screen):
            problems.append("step 2: alice could not make bob a member:\n"
                            + "\n".join(line for line in screen.splitlines()
                                        if "affiliation" in line.lower() or "member" in line.lower()))

        # 3. The wrong password is refused on bob's screen (§7.2.5); the right one lets
        # him in.
        await bob.join_refused(room, "nick bob password wrong-password", "a wrong password")
        joined = await bob.join(room, f"nick bob password {secret}")
        if "affiliation: member" not in joined:
            problems.append(f"step 3: bob entered, but not as a member: {joined!r}")

        # 4. Both ways, each on the other's screen.
        await bob.says_and_hears(alice, f"hello-from-bob-{token()}")
        await alice.says_and_hears(bob, f"hello-from-alice-{token()}")

    async def after_restart():
        try:
            # 5. Both reconnect by themselves (and ask about the certificate again).
            await asyncio.gather(alice.reconnected(), bob.reconnected())

            # 6. The room still wants the password. bob leaves it if profanity rejoined him
            # on its own, then tries without the password, then with it.
            await bob.type(f"/close {room}")
            await bob.join_refused(room, "nick bob", "a join without the password")
            joined = await bob.join(room, f"nick bob password {secret}")
            if "affiliation: member" not in joined:
                problems.append(f"step 6: after the restart bob entered, but not as a member: {joined!r}")
            joined = await alice.join(room, f"nick alice password {secret}")
            await alice.check("affiliation: owner" in joined, f"alice is no longer the owner: {joined!r}")
            screen = await alice.screen()
            await alice.check("Room locked" not in after_last(screen, "-> You have joined the room as alice"),
                              "the room was created anew after the restart")

            await bob.says_and_hears(alice, f"back-from-bob-{token()}")
            await alice.says_and_hears(bob, f"back-from-alice-{token()}")

            await alice.clear()  # the list from before the restart is no answer
            await alice.type("/affiliation list member")
            screen = await alice.until(lambda s: "Affiliation: member" in s or "No users found with affiliation" in s
                                       or "Error retrieving member list" in s, "the member list after the restart")
            if not MEMBER_BOB.search(screen):
                problems.append("step 6: after the restart alice's member list does not show bob:\n"
                                + "\n".join(line for line in screen.splitlines()
                                            if "affiliation" in line.lower() or "member" in line.lower()))

            # The configuration as alice sees it, then as bob's client gets it from disco#info.
            await alice.type("/room config")
            screen = await alice.until(lambda s: "/form submit" in s or "Could not" in s,
                                       "the configuration form after the restart")
            fields = form_fields(after_last(screen, "Form title"))
            persistent, kept = tag_of(fields, PERSISTENT, True)
            protected, locked = tag_of(fields, PROTECTED, True)
            await alice.check((kept, locked) == ("TRUE", "TRUE"),
                              f"after the restart the room is not kept and password-protected: {fields}")
            await alice.type("/form cancel")

            await bob.clear()
            await bob.type("/info")
            screen = await bob.until(lambda s: "Features:" in s and "muc_" in after_last(s, "Features:")
                                     or "Room info request failed" in s, "the room's info")
            await bob.check("muc_persistent" in screen and "muc_passwordprotected" in screen,
                            "disco#info of the room after the restart lacks muc_persistent or muc_passwordprotected")
            if "Affiliation: member" not in screen:
                problems.append("step 6: bob's /info after the restart: "
                                + next((l.strip() for l in screen.splitlines() if "Affiliation:" in l), "none"))
        finally:
            await alice.tmux.kill()
            await bob.tmux.kill()

    try:
        run(scenario(), SCENARIO_TIMEOUT)
        server.stop()
        server.start()
        run(after_restart(), SCENARIO_TIMEOUT)
    finally:
        # Should run() have timed out, the tmux servers go too.
        for client in (alice, bob):
            run(client.tmux.kill(), 20)
    assert server.alive(), "the server died:\n" + server.log()[-5000:]
    assert "persistent room(s) of conference.localhost loaded" in server.log(), server.log()[-5000:]
    assert not problems, ("affiliations (XEP-0045 §9.3, §9.5) did not work:\n" + "\n\n".join(problems)
                          + f"\n--- server log ---\n{server.log()[-3000:]}")
