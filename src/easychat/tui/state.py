"""Provides the app's remembered state at work: rooms joined and left, chats, read positions."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from easychat.client.conversations import Conversation, ConversationKind
from easychat.client.events import Joined, Left, Line, LineKind
from easychat.proto.message import Message
from easychat.store.clientstate import ClientState, ReadMark
from easychat.tui.history import load_history, local_history
from easychat.tui.readmarkers import ask_marker
from easychat.tui.screens.chat import ChatScreen

if TYPE_CHECKING:
    from easychat.tui.app import EasyChatApp


def rejoin_messages(state: ClientState) -> list[Message]:
    """The JOINs, with keys, of the rooms we were in (never one parted or kicked from)."""
    return [Message("JOIN", (name, key) if key else (name,)) for name, key in state.rooms()]


def came_back(state: ClientState, chat: ChatScreen, conv: Conversation) -> None:
    """A conversation opened this run: what is later than where we stopped reading is new."""
    mark = state.read_mark(conv.name)
    if mark is None:
        return
    conv.new_after = mark.time
    if conv is not chat.conversations.current:
        conv.read_time = mark.time
        conv.count_new(conv.history)
    chat.show_paging(conv, "end")


def save_read_marks(state: ClientState, chat: ChatScreen) -> None:
    """Remembers where the user stopped reading each conversation."""
    for conv in chat.conversations.ordered():
        if conv.kind is ConversationKind.SERVER:
            continue
        seen_all = conv is chat.conversations.current or not conv.unread
        seen = conv.newest_time() if seen_all else conv.read_time
        if seen > 0:
            msgid = conv.newest_msgid() if seen_all else None
            state.set_read(conv.name, ReadMark(seen, msgid), save=False)
    state.save()


def reopen_private(app: EasyChatApp, chat: ChatScreen) -> None:
    """On the first login of a run: the private conversations open last time."""
    for name in app.state.private():
        conv = chat.open_conversation(
            name, ConversationKind.PRIVATE, local_history(app.store, name), focus=False
        )
        came_back(app.state, chat, conv)
        load_history(app.session, app.connection, conv)
        ask_marker(app, conv)


def joined(app: EasyChatApp, chat: ChatScreen, event: Joined) -> Conversation | None:
    """We are in a room: remember it (with its key) and open it; None if parted again.

    A room the user left that the server joined us to by itself (an autojoin
    such as #lobby) is parted again, as the user asked.
    """
    session, connection = app.session, app.connection
    assert session is not None
    folded = session.fold(event.channel)
    if folded not in app.focus_on_join and app.state.was_left(event.channel):
        if connection is not None:
            connection.send([Message("PART", (event.channel,))])
        return None
    focus = folded in app.focus_on_join or chat.conversations.current is chat.conversations.server
    app.focus_on_join.discard(folded)
    first = chat.conversations.get(event.channel) is None
    app.state.joined(event.channel, app.join_keys.pop(folded, None))
    chat.set_topic(event.channel, "")  # until this server's says otherwise
    room = chat.open_conversation(
        event.channel, ConversationKind.ROOM, local_history(app.store, event.channel), focus=focus
    )
    if first:
        came_back(app.state, chat, room)
    load_history(session, connection, room)
    if room is chat.conversations.current and connection is not None:
        # Who is away: one WHO for the room in view (not every rejoined room,
        # which would spend the flood budget of a reconnect).
        connection.send(session.who(room.name))
    return room


def left(state: ClientState, chat: ChatScreen, event: Left) -> None:
    """We parted or were kicked: forget the room, empty its members and topic, say so."""
    state.left(event.channel)
    chat.set_members(event.channel, [])
    chat.set_topic(event.channel, "")
    conv = chat.conversations.get(event.channel)
    if conv is None or conv.left:  # (not again when an autojoin is parted)
        return
    conv.active = False
    conv.left = True
    why = f" ({event.reason})" if event.reason else ""
    text = f"You have left {conv.name}{why}. /join {conv.name} to come back, /close to close it."
    chat.add_line(Line(conv.name, LineKind.INFO, "", text, time.time()))
    chat.refresh_sidebar()
