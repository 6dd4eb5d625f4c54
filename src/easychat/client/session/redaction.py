"""Provides the session's message redaction (IRCv3 draft/message-redaction): REDACT in and out."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from easychat.client.events import Event, Line, LineKind, Redacted
from easychat.proto.message import Message

if TYPE_CHECKING:
    from easychat.client.session.rooms import Room

REDACTION_CAP = "draft/message-redaction"

# What a deleted message's line says instead of its text; the sender and
# the time stay on the line.
DELETED_TEXT = "message deleted"


def deleted_text(sender: str, by: str, reason: str | None, same: Callable[[str, str], bool]) -> str:
    """The text of a deleted line: who deleted it when it was not its sender, and why."""
    text = DELETED_TEXT if same(sender, by) else f"{DELETED_TEXT} by {by}"
    return f"{text}: {reason}" if reason else text


class RedactionMixin:
    """REDACT for the Session: the event when a message is deleted, and the request.

    Mixed into `Session`, which owns the attributes declared here.
    """

    nick: str
    caps: set[str]

    if TYPE_CHECKING:

        def is_channel(self, target: str) -> bool: ...

        def same(self, a: str, b: str) -> bool: ...

        def room(self, name: str) -> Room | None: ...

        def _time(self, msg: Message) -> float: ...

    @property
    def can_redact(self) -> bool:
        """Whether the server lets us delete messages (it offered and we have the cap)."""
        return REDACTION_CAP in self.caps

    def redact(self, target: str, msgid: str, reason: str | None = None) -> Message:
        """The REDACT that deletes message `msgid` of `target` (a room or a nick)."""
        return Message("REDACT", (target, msgid) if not reason else (target, msgid, reason))

    def _on_redact(self, msg: Message) -> list[Event]:
        """`REDACT <target> <msgid> [:<reason>]`: the message leaves its conversation.

        "When a REDACT command's msgid parameter references a known message
        not in the target's history, clients MUST ignore it": the event names
        the conversation, and only a line of that conversation changes.
        """
        if len(msg.params) < 2 or msg.nick is None:
            return []
        target, msgid = msg.params[0], msg.params[1]
        reason = msg.params[2] if len(msg.params) > 2 and msg.params[2] else None
        if self.is_channel(target):
            room = self.room(target)
            conv = room.name if room is not None else target
        elif self.same(msg.nick, self.nick):
            conv = target  # our own REDACT (echo-message): the conversation is its target
        else:
            conv = msg.nick
        return [Redacted(conv, msgid, msg.nick, reason, self._time(msg))]


def deleted_line(line: Line, event: Redacted, same: Callable[[str, str], bool]) -> Line:
    """`line` as it shows once deleted: same sender, time and msgid, no text."""
    text = deleted_text(line.sender, event.by, event.reason, same)
    return Line(
        line.conversation,
        LineKind.DELETED,
        line.sender,
        text,
        line.time,
        line.own,
        msgid=line.msgid,
    )
