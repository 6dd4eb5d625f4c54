"""Provides the nick history WHOWAS answers from: who left which nick, and when."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from easychat.proto.names import casefold

if TYPE_CHECKING:
    from easychat.chat.state import Client

# Entries kept, over all nicks; the oldest goes first. Each is a few hundred
# bytes, so 1024 cost well under 1 MiB, and they cover the recent past that
# WHOWAS is asked about (ergo keeps 100 by default, ircu 1024 and more).
NICK_HISTORY_SIZE = 1024


@dataclass(frozen=True, slots=True)
class WasEntry:
    """A nick as it was when its holder left it (NICK to another, or QUIT)."""

    nick: str
    user: str
    host: str
    realname: str
    left_at: int  # wall-clock seconds


class NickHistory:
    """The last `size` nicks left, newest last, searched newest first."""

    def __init__(self, size: int = NICK_HISTORY_SIZE) -> None:
        self._entries: deque[tuple[str, WasEntry]] = deque(maxlen=size)

    def __len__(self) -> int:
        return len(self._entries)

    def left(self, client: Client, now: float) -> None:
        """Records that `client` is leaving its nick now (a NICK change or a quit)."""
        if client.nick is None or not client.registered:
            return
        entry = WasEntry(
            client.nick, client.user or "*", client.visible_host, client.realname, int(now)
        )
        self._entries.append((casefold(client.nick), entry))

    def lookup(self, nick: str) -> Iterator[WasEntry]:
        """Entries for `nick` (casefolded, no wildcards), the most recent first."""
        folded = casefold(nick)
        return (entry for key, entry in reversed(self._entries) if key == folded)
