"""Provides how the app carries out /list, /mode, /kick, /ban, /ignore, /ctcp and the rest."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from easychat.client.conversations import ConversationKind, Paging
from easychat.client.events import Line, LineKind, RoomList
from easychat.client.input import commands_irc as irc
from easychat.client.input.split import split_message, text_budget
from easychat.client.masks import MAX_IGNORES, ban_mask, is_mask
from easychat.client.session.session import Session
from easychat.proto.message import Message
from easychat.store.clientlog import default_log_dir
from easychat.store.ignores import ignores_path, load_ignores, save_ignores
from easychat.tui.screens.chat import ChatScreen
from easychat.tui.screens.rooms import RoomsScreen
from easychat.tui.widgets.input import ChatInput

if TYPE_CHECKING:
    from easychat.tui.app import EasyChatApp

# The commands that go to the server.
_Sent: TypeAlias = (
    irc.ListRooms
    | irc.Mode
    | irc.Kick
    | irc.Ban
    | irc.Invite
    | irc.Notice
    | irc.Quote
    | irc.Ctcp
    | irc.Redact
)

_IRC_INTENTS = (
    irc.ListRooms,
    irc.Mode,
    irc.Kick,
    irc.Ban,
    irc.Invite,
    irc.Notice,
    irc.Quote,
    irc.Ignore,
    irc.Unignore,
    irc.Close,
    irc.Clear,
    irc.Ctcp,
    irc.Redact,
)


def load_ignore_list(app: EasyChatApp) -> None:
    """Fills `app.ignores` from the user's file; an unreadable file is reported."""
    try:
        masks = load_ignores(_ignores_file(app))
    except OSError as exc:
        app.notify(f"Ignore list not loaded: {exc}", severity="warning")
        return
    for mask in masks:
        app.ignores.add(mask)


def _ignores_file(app: EasyChatApp) -> Path:
    """The ignore list's file: beside the local logs, like the client's other state."""
    return ignores_path(app.settings.log_dir or default_log_dir())


def run_irc_command(app: EasyChatApp, chat: ChatScreen, intent: object) -> bool:
    """Carries out a command of `client/input/commands_irc.py`; False for any other intent."""
    if not isinstance(intent, _IRC_INTENTS):
        return False
    if isinstance(intent, (irc.Ignore, irc.Unignore)):
        _ignore(app, chat, intent)
    elif isinstance(intent, irc.Clear):
        conv = chat.conversations.current
        conv.lines.clear()
        conv.history = []
        conv.paging = Paging.IDLE
        chat.redraw_log()
    elif isinstance(intent, irc.Close):
        _close(app, chat)
    else:
        _send(app, chat, intent)
    return True


def _ignore(app: EasyChatApp, chat: ChatScreen, intent: irc.Ignore | irc.Unignore) -> None:
    ignores = app.ignores
    if isinstance(intent, irc.Ignore) and intent.mask is None:
        if not ignores.masks:
            chat.show_info("You ignore nobody. /ignore nick hides someone's messages.")
        else:
            chat.show_info("Ignored: " + ", ".join(ignores.masks))
        return
    mask = intent.mask
    assert mask is not None
    if isinstance(intent, irc.Ignore):
        if not ignores.add(mask):
            full = len(ignores.masks) >= MAX_IGNORES
            why = f"The ignore list is full ({MAX_IGNORES})." if full else f"{mask} is ignored."
            chat.show_info(why, LineKind.ERROR)
            return
        text = f"Ignoring {mask}: their messages are hidden. /unignore {mask} shows them again."
    else:
        if not ignores.remove(mask):
            chat.show_info(f"{mask} is not ignored. /ignore lists who is.", LineKind.ERROR)
            return
        text = f"No longer ignoring {mask}."
    try:
        save_ignores(_ignores_file(app), ignores.masks)
    except OSError as exc:
        text += f" (Not saved for next time: {exc})"
    chat.show_info(text)


def _close(app: EasyChatApp, chat: ChatScreen) -> None:
    conv = chat.conversations.current
    if conv is chat.conversations.server:
        chat.show_info("The server window stays open; /quit disconnects.", LineKind.ERROR)
        return
    app.close_conversation(conv.name)  # parts a room we are in, and forgets it


def _send(app: EasyChatApp, chat: ChatScreen, intent: _Sent) -> None:
    """The commands that go to the server."""
    session, connection = app.session, app.connection
    if session is None or connection is None or not session.registered:
        chat.show_info(
            "Not connected: nothing was sent. Press Up to get your text back.", LineKind.ERROR
        )
        return
    conv = chat.conversations.current
    here = conv.name if conv.kind is ConversationKind.ROOM else None
    out: list[Message] = []
    if isinstance(intent, irc.ListRooms):
        out.append(Message("LIST"))
        app.push_screen(RoomsScreen(intent.filter), lambda room: _join_listed(chat, room))
    elif isinstance(intent, irc.Quote):
        connection.send_raw(intent.line)
    elif isinstance(intent, irc.Notice):
        budget = text_budget(session.nick, intent.target, "NOTICE")
        target_conv = chat.conversations.get(intent.target)
        for piece in split_message(intent.text, budget):
            out.append(Message("NOTICE", (intent.target, piece)))
            if "echo-message" not in session.caps:
                where = target_conv.name if target_conv is not None else None
                line = Line(where, LineKind.NOTICE, session.nick, piece, time.time(), own=True)
                app.handle(line)
    elif isinstance(intent, irc.Ctcp):
        out.append(session.ctcp_request(intent.target, intent.command, intent.args))
        chat.show_info(f"CTCP {intent.command} sent to {intent.target}")
    elif isinstance(intent, irc.Redact):
        redact = _redact(chat, session, intent)
        if redact is None:
            return
        out.append(redact)
    elif isinstance(intent, irc.Mode):
        target = intent.target or here
        if target is None:
            chat.show_info("Usage: /mode #room|nick [modes [args]] outside a room", LineKind.ERROR)
            return
        modes = (intent.modes, *intent.args) if intent.modes else ()
        out.append(Message("MODE", (target, *modes)))
    else:
        room = intent.room or here
        if room is None:
            chat.show_info("Name the room, or use this command in one.", LineKind.ERROR)
            return
        if isinstance(intent, irc.Kick):
            params = (room, intent.nick, intent.reason) if intent.reason else (room, intent.nick)
            out.append(Message("KICK", params))
        elif isinstance(intent, irc.Ban):
            known = None if is_mask(intent.who) else session.userhost(intent.who)
            mask = ban_mask(intent.who, known)
            out.append(Message("MODE", (room, "+b", mask)))
            chat.show_info(f"Banning {mask} in {room}")
        elif isinstance(intent, irc.Invite):
            out.append(Message("INVITE", (intent.nick, room)))
    connection.send(out)


def _redact(chat: ChatScreen, session: Session, intent: irc.Redact) -> Message | None:
    """The REDACT of /redact: the last message of ours (or of `intent.nick`) here."""
    conv = chat.conversations.current
    if not session.can_redact:
        chat.show_info("This server does not let messages be deleted.", LineKind.ERROR)
        return None
    if conv.kind is ConversationKind.SERVER:
        chat.show_info("/redact works in a room or a private conversation.", LineKind.ERROR)
        return None
    nick = intent.nick
    line = conv.last_message(
        (lambda line: line.own) if nick is None else (lambda line: session.same(line.sender, nick))
    )
    if line is None or line.msgid is None:
        whose = "of yours" if nick is None else f"of {nick}"
        chat.show_info(f"No message {whose} here to delete.", LineKind.ERROR)
        return None
    return session.redact(conv.name, line.msgid, intent.reason or None)


def _join_listed(chat: ChatScreen, room: str | None) -> None:
    """The rooms screen closed: join the room chosen there (as if typed), if any."""
    if room is not None and chat.ready:
        chat.post_message(ChatScreen.Typed(f"/join {room}", chat.conversations.current.name))


def show_room_list(app: EasyChatApp, event: RoomList) -> None:
    """Hands the server's LIST answer to the rooms screen, if it is still open."""
    for screen in app.screen_stack:
        if isinstance(screen, RoomsScreen):
            screen.show(event.rooms, event.truncated)
    if app.chat is not None and app.chat.ready:
        field = app.chat.query_one("#message", ChatInput)
        field.listed_rooms = [room.name for room in event.rooms]
