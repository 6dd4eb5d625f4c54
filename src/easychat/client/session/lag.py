"""Provides the session's lag measurement: a PING of our own and the time to its PONG."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

from easychat.client.events import Event, Lag
from easychat.proto.message import Message

# The token of our lag PINGs; a PONG with another token (a server's own
# keepalive answered, another client's) is not ours to time.
LAG_TOKEN_PREFIX = "easychat-lag-"


class LagMixin:
    """The Session's lag: `lag_ping()` to send, the PONG back gives a `Lag` event.

    Only one ping is out at a time; `lag_waiting()` says how long it has
    been unanswered. Times come from `lag_clock` (monotonic, so a change
    of the wall clock is not lag).
    """

    lag_clock: Callable[[], float] = time.monotonic
    _lag_sent: tuple[str, float] | None = None
    _lag_counter = itertools.count(1)

    def lag_ping(self) -> list[Message]:
        """A PING to time, or nothing while the previous one is unanswered."""
        if self._lag_sent is not None:
            return []
        token = f"{LAG_TOKEN_PREFIX}{next(self._lag_counter)}"
        self._lag_sent = (token, self.lag_clock())
        return [Message("PING", (token,))]

    def lag_waiting(self) -> float | None:
        """Seconds our PING has waited for its PONG, or None when none is out."""
        if self._lag_sent is None:
            return None
        return self.lag_clock() - self._lag_sent[1]

    def _on_pong(self, msg: Message) -> list[Event]:
        if self._lag_sent is None or not msg.params or msg.params[-1] != self._lag_sent[0]:
            return []
        lag = self.lag_clock() - self._lag_sent[1]
        self._lag_sent = None
        return [Lag(lag)]
