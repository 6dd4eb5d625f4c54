"""Provides the join filter: which joins, parts and quits of others a room shows."""

from __future__ import annotations

from collections.abc import Callable

from easychat.client.conversations import UNREAD_KINDS
from easychat.client.events import Line

# The settings: every join line, none, or ("smart", weechat's smart filter)
# only those of people who spoke in that room recently.
JOIN_FILTERS = ("smart", "all", "none")

# "Recently" for the smart filter: weechat's default (irc.look.smart_filter_delay).
SMART_FILTER_SECONDS = 600.0

# Speakers remembered; past this, those silent longer than
# SMART_FILTER_SECONDS are forgotten (a bound for huge busy rooms).
MAX_SPEAKERS = 10_000


class JoinFilter:
    """Remembers who spoke where and when; says whether a presence line is shown.

    Names are compared with the `fold` given at each call (the server's
    casemapping, which the 005 may change after the filter is made).
    """

    def __init__(self, mode: str = "smart") -> None:
        if mode not in JOIN_FILTERS:
            raise ValueError(f"join filter must be one of {', '.join(JOIN_FILTERS)}")
        self.mode = mode
        self._spoke: dict[tuple[str, str], float] = {}

    def note(self, line: Line, fold: Callable[[str], str]) -> None:
        """Remembers that `line`'s sender spoke in its conversation at its time."""
        if line.kind not in UNREAD_KINDS or line.conversation is None:
            return
        self._spoke[(fold(line.conversation), fold(line.sender))] = line.time
        if len(self._spoke) > MAX_SPEAKERS:
            cutoff = line.time - SMART_FILTER_SECONDS
            self._spoke = {key: when for key, when in self._spoke.items() if when >= cutoff}

    def shows(self, line: Line, fold: Callable[[str], str]) -> bool:
        """Whether a line is shown: all but presence lines the setting hides."""
        if not line.presence or self.mode == "all":
            return True
        if self.mode == "none" or line.conversation is None:
            return False
        spoke = self._spoke.get((fold(line.conversation), fold(line.sender)))
        return spoke is not None and line.time - spoke <= SMART_FILTER_SECONDS
