"""Provides what the session knows of other people: their user@host, and whom to ignore."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from easychat.client.masks import IgnoreList
from easychat.proto.message import Message

# Nicks whose user@host is remembered (for /ban): every message source adds
# one; beyond this many the longest unseen is forgotten. A big room is a few
# thousand people; the memory stays a few hundred kilobytes.
MAX_KNOWN_HOSTS = 5000


class PeersMixin:
    """The Session's memory of other users' addresses and its ignore list.

    Mixed into `Session`, which owns the attributes declared here. `ignores`
    is the app's list (shared, so changes apply at once); messages from a
    matching source are dropped before anything is shown or counted.
    """

    nick: str
    fold: Callable[[str], str]
    ignores: IgnoreList
    _hosts: dict[str, str]

    if TYPE_CHECKING:

        def same(self, a: str, b: str) -> bool: ...

    def _seen(self, msg: Message) -> None:
        """Remembers the user@host of a message's source."""
        source = msg.source
        if source is None or "!" not in source or "@" not in source:
            return
        nick, _, userhost = source.partition("!")
        key = self.fold(nick)
        self._hosts.pop(key, None)  # re-inserted last: the most recently seen
        self._hosts[key] = userhost
        if len(self._hosts) > MAX_KNOWN_HOSTS:
            del self._hosts[next(iter(self._hosts))]

    def userhost(self, nick: str) -> str | None:
        """The `user@host` last seen for `nick`, if any."""
        return self._hosts.get(self.fold(nick))

    def _ignored(self, msg: Message) -> bool:
        """Whether `msg` comes from someone on the ignore list (never ourselves)."""
        if "!" not in (msg.source or "") or self.same(msg.nick or "", self.nick):
            return False
        return self.ignores.ignores(msg.source)
