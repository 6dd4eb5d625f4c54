"""Provides the session's read markers (IRCv3 draft/read-marker): MARKREAD in and out."""

from __future__ import annotations

from datetime import datetime

from easychat.client.events import Event, ReadMarker
from easychat.proto.message import Message
from easychat.proto.servertime import format_time

READ_MARKER_CAP = "draft/read-marker"

_PREFIX = "timestamp="


class ReadMarkerMixin:
    """MARKREAD: where the user's account has read a conversation up to.

    The server tells us on JOIN, when asked, and whenever another client of
    the account (or this one) moves it; we tell it what the user has seen.
    """

    caps: set[str]

    @property
    def read_markers(self) -> bool:
        """Whether the server keeps read markers for us (draft/read-marker)."""
        return READ_MARKER_CAP in self.caps

    def mark_read(self, target: str, seen: float) -> list[Message]:
        """MARKREAD saying `target` is read up to the message of time `seen` (seconds)."""
        if not self.read_markers:
            return []
        stamp = f"{_PREFIX}{format_time(round(seen * 1000))}"
        return [Message("MARKREAD", (target, stamp))]

    def ask_read_marker(self, target: str) -> list[Message]:
        """MARKREAD asking where `target` is read up to (needed for people, not rooms)."""
        return [Message("MARKREAD", (target,))] if self.read_markers else []

    def _on_markread(self, msg: Message) -> list[Event]:
        if len(msg.params) < 2 or not msg.params[1].startswith(_PREFIX):
            return []  # `*`: nothing read yet, nothing to change
        stamp = msg.params[1][len(_PREFIX) :]
        try:
            seen = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return []
        return [ReadMarker(msg.params[0], seen)]
