"""Provides the chat core's outputs (Send, Close) and its command-table entry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from easychat.proto.message import Message

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client


@dataclass(frozen=True, slots=True)
class Send:
    """Deliver `message` to every connection in `targets` but `exclude`.

    The core reuses one `targets` object for a room while its membership
    lasts, so the shell can coalesce consecutive Sends to the same room.
    """

    targets: Sequence[int]
    message: Message
    exclude: int | None = None

    def recipients(self) -> list[int]:
        """The connections that get the message: `targets` without `exclude`."""
        return [target for target in self.targets if target != self.exclude]


@dataclass(slots=True)
class SendBytes:
    """Deliver `data`, one or more lines already encoded, to `targets` but `exclude`.

    The fast path (chat/fastpath.py) builds the wire bytes itself; `data` is
    what `Send` with the same message would have been encoded to. Not
    frozen, though nothing changes it: one is built per relayed message,
    and a frozen dataclass takes three times as long to build (0.43 us
    against 0.14 us here).
    """

    targets: Sequence[int]
    data: bytes
    exclude: int | None = None

    def recipients(self) -> list[int]:
        """The connections that get the data: `targets` without `exclude`."""
        return [target for target in self.targets if target != self.exclude]


# A relayed message as the console shows it (see `ChatCore.relayed`): the
# sender's nick, the room or person it went to, and the text's bytes, or
# None for a private message, whose text never leaves the core this way.
# A plain tuple: one is built per relayed message, and nothing is cheaper.
Relayed = tuple[str, str, bytes | None]


@dataclass(frozen=True, slots=True)
class Close:
    """Close connection `conn` once what was queued for it is sent."""

    conn: int
    reason: str


Action = Send | SendBytes | Close
Handler = Callable[["ChatCore", "Client", Message], None]


@dataclass(frozen=True, slots=True)
class Command:
    """A command's handler and the policy checked before it runs."""

    handler: Handler
    min_params: int = 0
    before_registration: bool = False
