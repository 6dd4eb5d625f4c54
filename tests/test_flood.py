"""Flood control in the chat core: token bucket, paste reserve, queue, RATE_LIMITED, Excess Flood.

Standard replies (https://ircv3.net/specs/extensions/standard-replies):
"FAIL <command> <code> [<context>...] <description>".
"""

from __future__ import annotations

import re

import pytest

from easychat.chat.config import CoreConfig
from easychat.chat.protection.flood import FloodBucket
from easychat.proto.message import Message
from tests.chatcore_harness import CoreDriver, commands

WAIT = re.compile(r"in (\d+) s\b")


def room() -> tuple[CoreDriver, int, int]:
    """A core with default flood control; Alice and Bob in #room."""
    drv = CoreDriver(CoreConfig(autojoin=()))
    alice = drv.register("Alice", "#room")
    bob = drv.register("Bob", "#room")
    drv.clock.advance(60)  # both buckets full again after registering and joining
    return drv, alice, bob


def texts(messages: list[Message]) -> list[str]:
    """The texts of the PRIVMSGs among `messages`."""
    return [m.params[1] for m in messages if m.command == "PRIVMSG"]


def fails(messages: list[Message]) -> list[Message]:
    """The FAIL replies among `messages`."""
    return [m for m in messages if m.command == "FAIL"]


def paste(drv: CoreDriver, conn: int, first: int, count: int) -> list[Message]:
    """Sends `count` numbered lines to #room at one instant; returns the sender's replies."""
    got: list[Message] = []
    for i in range(first, first + count):
        got += drv.send(conn, f"PRIVMSG #room :line {i}")
    return got


def test_bucket_refill_overflows_into_the_paste_reserve() -> None:
    """Refill fills the burst first; what overflows goes to the reserve, up to its cap."""
    bucket = FloodBucket(rate=2.0, burst=5.0, reserve_cap=15.0, stamp=0.0)
    bucket.refill(1.0)
    assert (bucket.tokens, bucket.reserve) == (2.0, 0.0)
    bucket.refill(5.0)
    assert (bucket.tokens, bucket.reserve) == (5.0, 5.0)
    bucket.refill(100.0)
    assert (bucket.tokens, bucket.reserve) == (5.0, 15.0)
    assert bucket.take(chat=False)
    bucket.tokens = 0.0
    assert not bucket.take(chat=False), "commands other than chat lines never use the reserve"
    assert bucket.take(chat=True)
    assert bucket.reserve == 14.0
    assert bucket.wait() == 0.5
    bucket.refill(99.0)  # the clock going backwards earns nothing
    assert bucket.tokens == 0.0


def test_paste_of_20_lines_goes_out_at_once() -> None:
    """A quiet client's 20-line paste reaches the room whole, with no FAIL."""
    drv, alice, bob = room()
    got = paste(drv, alice, 1, 20)
    assert fails(got) == []
    assert texts(drv.take(bob)) == [f"line {i}" for i in range(1, 21)]


def test_burst_of_5_commands_then_rate_limited_with_the_wait() -> None:
    """Commands other than chat lines get a burst of 5, then
    `FAIL <command> RATE_LIMITED` saying how long until the next goes out."""
    drv, alice, _ = room()
    for _ in range(5):
        assert commands(drv.send(alice, "TIME")) == ["391"]
    got = drv.send(alice, "TIME")
    assert commands(got) == ["FAIL"]
    assert got[0].params[:2] == ("TIME", "RATE_LIMITED")
    match = WAIT.search(got[0].params[-1])
    assert match is not None, got[0].params
    assert match.group(1) == "1"
    drv.advance(0.5)
    assert commands(drv.take(alice)) == ["391"], "the queued TIME goes out when a token comes in"


def test_the_first_line_over_the_limit_is_told_and_queued() -> None:
    """Line 21 of a paste is queued, not lost: one FAIL tells the wait, and the
    line goes out as soon as a token is earned."""
    drv, alice, bob = room()
    paste(drv, alice, 1, 20)
    drv.take(bob)
    got = drv.send(alice, "PRIVMSG #room :line 21")
    assert [m.params[:2] for m in got] == [("PRIVMSG", "RATE_LIMITED")]
    assert "queued" in got[0].params[-1]
    assert WAIT.search(got[0].params[-1]) is not None
    assert fails(paste(drv, alice, 22, 3)) == [], "one FAIL per episode, not one per line"
    assert texts(drv.take(bob)) == []
    drv.advance(0.5)
    assert texts(drv.take(bob)) == ["line 21"]


def test_queued_lines_go_out_in_order_from_tick_alone() -> None:
    """With no new input, tick sends queued lines at 2 a second, in order."""
    drv, alice, bob = room()
    paste(drv, alice, 1, 30)
    assert texts(drv.take(bob)) == [f"line {i}" for i in range(1, 21)]
    delivered: list[str] = []
    for _ in range(5):
        drv.advance(1.0)
        now = texts(drv.take(bob))
        assert len(now) == 2, "2 lines a second, no more"
        delivered += now
    assert delivered == [f"line {i}" for i in range(21, 31)]
    drv.advance(60)
    assert texts(drv.take(bob)) == []


def test_queue_bound_refuses_with_fail_and_keeps_what_it_holds() -> None:
    """Past the queue (20 lines) each line is refused with its own FAIL saying
    when to retry; nothing queued is lost and nothing refused is sent."""
    drv, alice, bob = room()
    paste(drv, alice, 1, 40)  # 20 at once, 20 queued
    got = drv.send(alice, "PRIVMSG #room :line 41")
    assert len(fails(got)) == 1
    fail = got[0]
    assert fail.params[:2] == ("PRIVMSG", "RATE_LIMITED")
    assert "not sent" in fail.params[-1]
    match = WAIT.search(fail.params[-1])
    assert match is not None
    assert match.group(1) == "1"
    drv.advance(30)
    assert texts(drv.take(bob)) == [f"line {i}" for i in range(1, 41)]


def test_queued_lines_are_processed_on_the_next_receive() -> None:
    """A line arriving after tokens came in first lets the queue go, then itself."""
    drv, alice, bob = room()
    paste(drv, alice, 1, 22)
    drv.take(bob)
    drv.clock.advance(10)  # no tick: the next receive drains
    drv.send(alice, "PRIVMSG #room :line 23")
    assert texts(drv.take(bob)) == ["line 21", "line 22", "line 23"]


def test_excess_flood_disconnects_and_others_see_the_quit() -> None:
    """A client that keeps sending past the queue is closed with
    `ERROR :Closing link: ... (Excess Flood)`; its room sees `QUIT :Excess Flood`."""
    drv, alice, bob = room()
    paste(drv, alice, 1, 40)
    refused = paste(drv, alice, 41, 10)
    assert len(fails(refused)) == 10
    assert alice not in drv.closed, "10 refusals are still tolerated"
    got = drv.send(alice, "PRIVMSG #room :one too many")
    error = [m for m in got if m.command == "ERROR"]
    assert error
    assert error[0].params[0] == "Closing link: 127.0.0.1 (Excess Flood)"
    assert drv.closed[alice] == "Excess Flood"
    quits = [m for m in drv.take(bob) if m.command == "QUIT"]
    assert [q.params[0] for q in quits] == ["Excess Flood"]
    drv.advance(30)
    assert texts(drv.take(bob)) == [], "a disconnected client's queue is dropped with it"


def test_refusals_are_forgiven_once_the_queue_drains() -> None:
    """The Excess Flood count starts again after the queue empties."""
    drv, alice, _ = room()
    paste(drv, alice, 1, 40)
    paste(drv, alice, 41, 10)
    for _ in range(60):  # the shell ticks every second: the queue drains, then the bucket refills
        drv.advance(1.0)
    paste(drv, alice, 51, 40)
    paste(drv, alice, 91, 10)
    assert alice not in drv.closed


def test_ping_pong_quit_are_never_throttled() -> None:
    """PING is answered and PONG taken with no token left; QUIT always works."""
    drv, alice, bob = room()
    paste(drv, alice, 1, 20)
    for i in range(30):
        assert commands(drv.send(alice, f"PING t{i}")) == ["PONG"]
        assert drv.send(alice, "PONG x") == []
    assert commands(drv.send(alice, "TIME")) == ["FAIL"]  # still no token for anything else
    drv.send(alice, "QUIT :bye")
    assert drv.closed[alice] == "Quit: bye"
    assert [m.params[0] for m in drv.take(bob) if m.command == "QUIT"] == ["Quit: bye"]


def test_ping_keeps_its_place_behind_queued_lines() -> None:
    """A PING sent after queued lines is answered after them: the server answers in order."""
    drv, alice, bob = room()
    paste(drv, alice, 1, 21)
    drv.take(alice)
    drv.take(bob)
    assert drv.send(alice, "PING sync") == []
    drv.advance(0.5)
    assert texts(drv.take(bob)) == ["line 21"]
    assert commands(drv.take(alice)) == ["PONG"]


def test_registration_is_not_throttled() -> None:
    """Before registration nothing is throttled (the registration timeout bounds it)."""
    drv = CoreDriver(CoreConfig(autojoin=()))
    conn = drv.open()
    for _ in range(40):
        assert commands(drv.send(conn, "CAP LS 302")) == ["CAP"]
    drv.send(conn, "CAP END")
    drv.send(conn, "NICK Alice")
    assert "001" in commands(drv.send(conn, "USER a 0 * :A"))


@pytest.mark.parametrize("off", [{"flood_rate": 0.0}, {"flood_burst": 0}])
def test_zero_turns_flood_control_off(off: dict[str, float]) -> None:
    """`--flood-rate 0` or `--flood-burst 0`: any number of lines at once."""
    drv = CoreDriver(CoreConfig(autojoin=(), **off))  # type: ignore[arg-type]
    alice = drv.register("Alice", "#room")
    bob = drv.register("Bob", "#room")
    assert fails(paste(drv, alice, 1, 500)) == []
    assert len(texts(drv.take(bob))) == 500


def test_zero_queue_refuses_at_once_and_zero_excess_never_disconnects() -> None:
    """`--flood-queue 0` refuses every line over the rate; `--flood-excess 0` never cuts off."""
    drv = CoreDriver(CoreConfig(autojoin=(), flood_queue=0, flood_excess=0))
    alice = drv.register("Alice", "#room")
    bob = drv.register("Bob", "#room")
    drv.clock.advance(60)
    got = paste(drv, alice, 1, 200)
    assert len(fails(got)) == 180
    assert all("not sent" in m.params[-1] for m in fails(got))
    assert alice not in drv.closed
    drv.advance(60)
    assert texts(drv.take(bob)) == [f"line {i}" for i in range(1, 21)]


def test_sustained_rate_is_2_a_second_whatever_the_mix() -> None:
    """The paste reserve fills only from idle time: after a paste, commands wait too."""
    drv, alice, bob = room()
    paste(drv, alice, 1, 20)
    assert commands(drv.send(alice, "TIME")) == ["FAIL"]
    drv.advance(2.5)  # 5 tokens: the queued TIME and 4 more lines
    assert commands(drv.take(alice)) == ["391"]
    assert fails(paste(drv, alice, 21, 4)) == []
    assert commands(drv.send(alice, "PRIVMSG #room :x")) == ["FAIL"]
    assert len(texts(drv.take(bob))) == 24
