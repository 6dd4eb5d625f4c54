"""Provides read markers on the client's side: what the user has seen, and another device's word.

With draft/read-marker the server keeps, per account, the time of the newest
message read in each conversation. This client tells it what the user has
seen (`newest_seen`), and takes what another client of the same account
says (`apply_marker`): lines up to that time are read here too.
"""

from __future__ import annotations

import itertools

from easychat.client.conversations import UNREAD_KINDS, Conversation, ConversationKind


def newest_seen(conv: Conversation) -> float | None:
    """The time of the newest message from the server in `conv` (one with a msgid).

    Only a server's message has a time the server knows: our own notices
    ("You have left ...") and lines without a msgid are not read markers.
    """
    every = itertools.chain(reversed(conv.lines), reversed(conv.history))
    return next((line.time for line in every if line.msgid), None)


def apply_marker(conv: Conversation, seen: float, *, current: bool) -> None:
    """The user's account has read `conv` up to `seen`: count and mark what follows.

    Unread counts only go down (to the lines after `seen` from others), a
    mention stays only if one of those lines has it, and the "new messages"
    line moves to `seen`. The conversation being looked at keeps its line
    where it is until the user switches away, as when read here.
    """
    conv.marked = max(conv.marked, seen)
    conv.read_time = max(conv.read_time, seen)
    if current:
        return
    after = [
        line
        for line in itertools.chain(conv.history, conv.lines)
        if line.time > seen and not line.own and line.kind in UNREAD_KINDS
    ]
    conv.unread = min(conv.unread, len(after))
    private = conv.kind is ConversationKind.PRIVATE and bool(after)
    conv.mentioned = conv.mentioned and (private or any(line.mention for line in after))
    conv.new_after = seen if conv.new_after is None else max(conv.new_after, seen)
