"""Provides the chat screen's layout by width: breakpoints, which side lists show, news."""

from __future__ import annotations

from easychat.client.conversations import Conversation

# Terminal widths (columns) below which a side list hides by itself (F2 /
# F3 show it again). Both lists take 42 columns; from 100 columns that
# leaves the log 58, enough for a timestamp, a nick and a sentence. Below
# 100 the members go (irssi shows none at all; /names lists them) and the
# conversation list narrows to 16 (80 columns: a 64-column log). Below 70
# it goes too, so a 60-column terminal gives the log every column; the
# topic bar then shows which conversations have news.
MEMBERS_MIN_WIDTH = 100
CONVERSATIONS_MIN_WIDTH = 70

# The chat screen's HORIZONTAL_BREAKPOINTS: -narrow / -medium / -wide set
# the side lists' widths (easychat.tcss).
BREAKPOINTS = [
    (0, "-narrow"),
    (CONVERSATIONS_MIN_WIDTH, "-medium"),
    (MEMBERS_MIN_WIDTH, "-wide"),
]


def members_wanted(width: int, wanted: bool | None) -> bool:
    """Whether the member list is meant to show (in a room it then does).

    Args:
        width: The screen's width in columns.
        wanted: F3's choice (shown or hidden), or None to follow the width.
    """
    return width >= MEMBERS_MIN_WIDTH if wanted is None else wanted


def lists_shown(width: int, shown: dict[str, bool | None], *, room: bool) -> tuple[bool, bool]:
    """Whether the conversation list and the member list show.

    Args:
        width: The screen's width in columns.
        shown: F2 / F3's choices by list ("conversations", "members"); None
            follows the width.
        room: Whether the current conversation is a room (only rooms have members).

    Returns:
        (conversation list shown, member list shown).
    """
    conversations = shown["conversations"]
    if conversations is None:
        conversations = width >= CONVERSATIONS_MIN_WIDTH
    return conversations, members_wanted(width, shown["members"]) and room


def activity(ordered: list[Conversation], current: Conversation) -> str:
    """The other conversations with news, as the topic bar names them.

    `[2:#dev 3]`: conversation 2 (Alt+2) has 3 unread lines; `@` marks a mention.
    """
    parts = []
    for number, conv in enumerate(ordered, 1):
        if conv is current or not (conv.unread or conv.mentioned):
            continue
        news = f" {conv.unread}" if conv.unread else ""
        parts.append(f"[{number}:{conv.name}{news}{' @' if conv.mentioned else ''}]")
    return " ".join(parts)
