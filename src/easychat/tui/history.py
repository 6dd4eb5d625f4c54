"""Provides the app's history: local log lines, server pages, scroll-back and catch-up."""

from __future__ import annotations

from typing import Literal

from easychat.client.conversations import UNREAD_KINDS, Conversation, ConversationKind, Paging
from easychat.client.events import HistoryBatch, HistoryFailed, Line, LineKind
from easychat.client.session.session import Session
from easychat.net.client import ClientConnection
from easychat.store.clientlog import ClientLog, LogEntry
from easychat.tui.screens.chat import ChatScreen

# Lines of the local log shown above a conversation when it opens.
HISTORY_LINES = 50

# Lines asked of the server's history at a time: on joining, per page when
# scrolling back, per step of a catch-up after a reconnect. A screenful or
# two; the server may allow fewer (ISUPPORT CHATHISTORY), and the session
# asks for no more than that.
HISTORY_PAGE = 50

# Line kinds kept in the local log (server chatter is not).
_LOGGED = {LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE, LineKind.EVENT, LineKind.DELETED}


def local_history(store: ClientLog | None, name: str) -> list[Line]:
    """The last lines of `name` in the local log, to show when it opens."""
    if store is None:
        return []
    return _from_log(name, store.recent(name, HISTORY_LINES))


def _from_log(name: str, entries: list[LogEntry]) -> list[Line]:
    return [
        Line(
            name,
            LineKind(entry.kind),
            entry.sender,
            entry.text,
            entry.time,
            entry.own,
            msgid=entry.msgid,
        )
        for entry in entries
    ]


def to_local_log(store: ClientLog | None, conv: Conversation, line: Line) -> None:
    """Writes a line to the local log (which ignores a msgid it already has)."""
    if store is not None and line.kind in _LOGGED and conv.kind is not ConversationKind.SERVER:
        store.append(
            conv.name,
            line.time,
            line.kind.value,
            line.sender,
            line.text,
            own=line.own,
            msgid=line.msgid,
        )


def load_history(
    session: Session | None, connection: ClientConnection | None, conv: Conversation
) -> None:
    """Asks the server for `conv`'s history, if it keeps any.

    A conversation this run already has lines of from the server (a
    rejoin, a reconnect) asks for what came after the newest of them;
    otherwise for the latest page.
    """
    if session is None or connection is None or conv.kind is ConversationKind.SERVER:
        return
    newest = conv.newest_msgid() if conv.synced else None
    if newest is not None:
        connection.send(session.history_after(conv.name, newest, HISTORY_PAGE))
    else:
        connection.send(session.history_latest(conv.name, HISTORY_PAGE))


def load_earlier(
    chat: ChatScreen,
    session: Session | None,
    connection: ClientConnection | None,
    name: str,
    store: ClientLog | None = None,
) -> None:
    """Loads the page before the oldest line of `name`.

    Lines that fell out of memory come back from the local log first (no
    server needed); past those, the server is asked, with a loading line.
    """
    conv = chat.conversations.get(name)
    if conv is None or conv.paging is not Paging.IDLE:
        return
    if conv.earlier_in_log and store is not None:
        oldest = next(iter(conv.history or conv.lines), None)
        if oldest is not None:
            # Lines of the oldest one's time come first (a burst shares a
            # millisecond): ask for as many more as are held already.
            held = sum(1 for line in [*conv.history, *conv.lines] if line.time == oldest.time)
            limit = HISTORY_PAGE + held
            entries = store.before(conv.name, oldest.time, limit)
            added = conv.merge(_from_log(name, entries))
            conv.earlier_in_log = bool(added) and len(entries) == limit
            if added:
                chat.show_paging(conv, "keep")
                return
        conv.earlier_in_log = False
    if session is None or connection is None or not session.supports_history:
        return
    oldest_id = conv.oldest_msgid()
    request = (
        session.history_before(conv.name, oldest_id, HISTORY_PAGE)
        if oldest_id is not None
        else session.history_latest(conv.name, HISTORY_PAGE)
    )
    if not request:
        return
    connection.send(request)
    conv.paging = Paging.LOADING
    chat.show_paging(conv, "top")


def merge_page(
    chat: ChatScreen,
    event: HistoryBatch,
    store: ClientLog | None,
    session: Session | None,
    connection: ClientConnection | None,
) -> None:
    """Merges a page of the server's history into its conversation."""
    conv = chat.conversations.get(event.target)
    if conv is None:
        return  # closed meanwhile
    added = conv.merge(event.lines)
    conv.synced = True
    for line in added:
        to_local_log(store, conv, line)
    place: Literal["end", "keep"] = "end"
    if conv.paging is Paging.LOADING and event.request in {"BEFORE", "LATEST"}:
        conv.paging = Paging.IDLE if added else Paging.EXHAUSTED
        place = "keep"
    elif event.request == "AFTER" and added:
        # Missed while away: unread, and perhaps more than one page of it.
        if conv is not chat.conversations.current:
            missed = [line for line in added if not line.own and line.kind in UNREAD_KINDS]
            conv.unread += len(missed)
            private = conv.kind is ConversationKind.PRIVATE and bool(missed)
            conv.mentioned = conv.mentioned or private or any(line.mention for line in missed)
        load_history(session, connection, conv)
    elif conv is not chat.conversations.current:
        conv.count_new(added)  # on coming back: what arrived while the client was not running
    if added or place == "keep":
        chat.show_paging(conv, place)


def page_failed(chat: ChatScreen, event: HistoryFailed) -> None:
    """A refused page stops loading; scrolling to the top again retries."""
    named = chat.conversations.get(event.target) if event.target else None
    for conv in [named] if named is not None else chat.conversations.ordered():
        if conv.paging is Paging.LOADING:
            conv.paging = Paging.IDLE
            chat.show_paging(conv, "keep")
