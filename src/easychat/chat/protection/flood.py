"""Provides flood control: token buckets per client (one for CHATHISTORY), a queue, Excess Flood."""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from easychat.proto.message import Message

if TYPE_CHECKING:
    from easychat.chat.config import CoreConfig
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

log = logging.getLogger("easychat.chat")

# Never throttled: these cost no token and are never refused. QUIT is handled
# at once, so a client can always leave. PING and PONG keep their place
# behind lines already queued (a client's PING still answers after what it
# sent before, which clients use to sync) but are handled at once when the
# queue is full. Before registration nothing is throttled at all:
# registration is bounded by its timeout and by the failed-registration
# limit per IP instead.
EXEMPT = frozenset({"PING", "PONG", "QUIT"})

# CHATHISTORY spends a budget of its own, not the lines' one: a client
# reconnecting asks for TARGETS and the latest page of every conversation at
# once, and that catch-up must not be queued or refused as a flood. A burst
# of 30 covers a catch-up of two dozen conversations with room to spare.
# It refills at 1 request a second: a person scrolling back asks for a page
# every few seconds, and a client that floods history is held to one page
# (at most HISTORY_PAGE rows) a second, refused with FAIL beyond that.
HISTORY_COMMANDS = frozenset({"CHATHISTORY"})
HISTORY_BURST = 30
HISTORY_RATE = 1.0

# Lines a person pastes: these may use the paste reserve (see FloodBucket).
# BATCH is the `BATCH -` that closes a draft/multiline message (chat/multiline.py).
CHAT_COMMANDS = frozenset({"PRIVMSG", "NOTICE", "TAGMSG", "BATCH"})


@dataclass(slots=True)
class FloodBucket:
    """Tokens a client spends on lines: a burst for anything, a reserve for pastes.

    One refill rate feeds two pools. `tokens` (up to `burst`) pays for any
    throttled command. Refill that would overflow `tokens` goes into
    `reserve` (up to `paste - burst`), which only chat lines may spend once
    `tokens` is empty. So a quiet client can paste `paste` lines at once, a
    JOIN/MODE/NICK storm gets `burst` before it is slowed, and the sustained
    rate is `rate` lines per second whatever the mix: the reserve is filled
    by idle time, never in addition to the normal rate.
    """

    rate: float
    burst: float
    reserve_cap: float
    stamp: float
    tokens: float = 0.0
    reserve: float = 0.0

    @classmethod
    def full(cls, config: CoreConfig, now: float) -> FloodBucket:
        """A bucket for a new client, full."""
        burst = float(config.flood_burst)
        reserve_cap = float(max(0, config.flood_paste - config.flood_burst))
        return cls(config.flood_rate, burst, reserve_cap, now, burst, reserve_cap)

    def refill(self, now: float) -> None:
        """Adds what `rate` earned since the last refill (time never runs backwards here)."""
        earned = max(0.0, now - self.stamp) * self.rate
        self.stamp = max(self.stamp, now)
        room = self.burst - self.tokens
        if earned <= room:
            self.tokens += earned
        else:
            self.tokens = self.burst
            self.reserve = min(self.reserve_cap, self.reserve + earned - room)

    def take(self, chat: bool, cost: float = 1.0) -> bool:
        """Spends `cost` tokens for a line (chat lines may use the reserve).

        A cost above what the bucket can ever hold is capped at that, so
        that a costly line waits for a full bucket rather than forever.
        """
        cost = min(cost, self.burst + (self.reserve_cap if chat else 0.0))
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        if chat and cost > 1.0 and self.tokens + self.reserve >= cost:
            self.reserve -= cost - self.tokens  # the burst first, then the reserve
            self.tokens = 0.0
            return True
        if chat and self.reserve >= cost:
            self.reserve -= cost
            return True
        return False

    def wait(self) -> float:
        """Seconds until the next token is earned."""
        return max(0.0, (1.0 - self.tokens) / self.rate)


@dataclass(slots=True)
class FloodState:
    """One client's flood control: its bucket, the lines waiting, its refusals."""

    bucket: FloodBucket
    history: FloodBucket  # CHATHISTORY's own budget
    queue: deque[Message] = field(default_factory=deque)
    # Lines refused since the queue was last empty; past flood_excess the
    # client is disconnected.
    refused: int = 0


def enabled(config: CoreConfig) -> bool:
    """Whether flood control is on (`--flood-rate 0` or `--flood-burst 0` turn it off)."""
    return config.flood_rate > 0 and config.flood_burst > 0


def new_state(config: CoreConfig, now: float) -> FloodState | None:
    """Flood control for a new client, or None when it is off."""
    if not enabled(config):
        return None
    history = FloodBucket(HISTORY_RATE, HISTORY_BURST, 0.0, now, HISTORY_BURST)
    return FloodState(FloodBucket.full(config, now), history)


def cost(client: Client, msg: Message) -> int:
    """The tokens a line costs: one, or for the `BATCH -` closing a multiline
    message, one a line of it (it is one message, but not a cheaper paste)."""
    if msg.command == "BATCH" and msg.params and msg.params[0].startswith("-"):
        batch = client.batches.get(msg.params[0][1:])
        if batch is not None and batch.closed:
            return max(1, len(batch.lines))
    return 1


def _seconds(wait: float) -> int:
    return max(1, math.ceil(wait))


def admit(core: ChatCore, client: Client, msg: Message) -> bool:
    """Decides what to do with one parsed line: True means handle it now.

    Otherwise the line was queued (and goes out from `drain` as tokens come
    in) or refused with `FAIL <command> RATE_LIMITED`; a client whose
    refusals pass `flood_excess` before its queue empties is disconnected
    with "Excess Flood".
    """
    state = client.flood
    if state is None or not client.registered or msg.command == "QUIT":
        return True
    cfg = core.config
    drain(core, client)
    if core.clients.get(client.id) is not client:
        return False  # a queued line ended the connection
    if msg.command in HISTORY_COMMANDS:
        state.history.refill(core.timer())
        if not state.history.take(False):
            return _refuse(core, client, msg, state.history)
    exempt = msg.command in EXEMPT or msg.command in HISTORY_COMMANDS
    chat = msg.command in CHAT_COMMANDS
    if not state.queue and (exempt or state.bucket.take(chat, cost(client, msg))):
        if not exempt:
            state.refused = 0
        return True
    if exempt:
        if len(state.queue) < cfg.flood_queue:
            state.queue.append(msg)
            return False
        return True  # never refused: handled now, ahead of the full queue
    if len(state.queue) < cfg.flood_queue:
        if not state.queue:
            core.fail(
                client,
                msg.command,
                "RATE_LIMITED",
                f"Sending too fast: your lines are queued and go out at {cfg.flood_rate:g}"
                f" a second, the next in {_seconds(state.bucket.wait())} s",
            )
        state.queue.append(msg)
        return False
    return _refuse(core, client, msg, state.bucket)


def _refuse(core: ChatCore, client: Client, msg: Message, bucket: FloodBucket) -> bool:
    """Refuses `msg` with FAIL RATE_LIMITED (or Excess Flood past the limit); False."""
    state = client.flood
    assert state is not None
    state.refused += 1
    if core.config.flood_excess and state.refused > core.config.flood_excess:
        log.warning("%s flooded past every limit from %s", client.nick, client.host)
        core.quit(client, "Excess Flood", tell_client=True)
        return False
    retry = _seconds(bucket.wait())
    core.fail(
        client,
        msg.command,
        "RATE_LIMITED",
        f"Sending too fast: this line was not sent, retry in {retry} s",
    )
    return False


def admit_chat_now(core: ChatCore, client: Client) -> bool:
    """For the fast path: True, with the token spent, when a chat line may go at once.

    False (nothing spent) when the line would be queued or refused, or
    lines are already waiting: `admit` then decides, as for any line.
    """
    state = client.flood
    if state is None:
        return True
    state.bucket.refill(core.timer())
    if state.queue or not state.bucket.take(True):
        return False
    state.refused = 0
    return True


def drain(core: ChatCore, client: Client) -> None:
    """Handles queued lines for which tokens have come in, in the order they came."""
    state = client.flood
    if state is None:
        return
    state.bucket.refill(core.timer())  # not the wall clock: a step back would stall it
    if not state.queue:
        return
    while state.queue and core.clients.get(client.id) is client:
        command = state.queue[0].command
        free = command in EXEMPT or command in HISTORY_COMMANDS  # history paid on arrival
        chat = command in CHAT_COMMANDS
        if not free and not state.bucket.take(chat, cost(client, state.queue[0])):
            return
        core.dispatch(client, state.queue.popleft())
    state.refused = 0
