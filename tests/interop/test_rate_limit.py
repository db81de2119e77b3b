"""The aggregate stanza rate limit per account (limits.account_stanzas_per_second): an
account's sessions together are slowed to the limit, nothing they send is lost, and other
accounts do not notice."""
import asyncio
import time

from xmpp_client import login, run

PING = "<ping xmlns='urn:xmpp:ping'/>"
RATE = 10
BURST = 5
PER_SESSION = 15


def test_sessions_of_one_account_share_one_budget_and_lose_nothing(make_server):
    server = make_server(limits=f"account_stanzas_per_second = {RATE}\naccount_stanza_burst = {BURST}")
    server.add_user("flooder")
    server.add_user("bystander")
    server.start()

    async def body():
        one = await login(server, "flooder", resource="one")
        two = await login(server, "flooder", resource="two")
        bystander = await login(server, "bystander")
        # Logging in spent some of the budget; let it fill again.
        await asyncio.sleep(BURST / RATE + 0.2)

        async def flood(client):
            pings = [client.query("get", "localhost", PING, timeout=30) for _ in range(PER_SESSION)]
            return await asyncio.gather(*pings)

        async def bystander_round_trips():
            worst = 0.0
            for _ in range(10):
                t = time.monotonic()
                reply = await bystander.query("get", "localhost", PING)
                assert reply["type"] == "result"
                worst = max(worst, time.monotonic() - t)
                await asyncio.sleep(0.1)
            return worst

        start = time.monotonic()
        replies_one, replies_two, worst = await asyncio.gather(flood(one), flood(two), bystander_round_trips())
        elapsed = time.monotonic() - start
        # Every ping answered: the limit slows the sender down, it drops nothing.
        assert [r["type"] for r in replies_one + replies_two] == ["result"] * (2 * PER_SESSION)
        # 30 stanzas against 5 at once and 10 a second for the account as a whole: at least
        # 2.5 s. Two sessions with a budget each would finish in about half that.
        assert elapsed >= (2 * PER_SESSION - BURST) / RATE - 0.3, elapsed
        # Another account is not slowed.
        assert worst < 0.5, worst

    run(body())


def test_the_default_limit_lets_a_busy_client_through(make_server):
    """The default (1000 a second) must not get in the way of normal use: 200 pings at once
    are answered at once."""
    server = make_server()
    server.add_user("busy")
    server.start()

    async def body():
        client = await login(server, "busy")
        start = time.monotonic()
        replies = await asyncio.gather(*[client.query("get", "localhost", PING) for _ in range(200)])
        assert all(r["type"] == "result" for r in replies)
        assert time.monotonic() - start < 2.0

    run(body())
