"""Provides what the user asks of the app: typed text, /commands, the command palette."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from easychat.client.conversations import ConversationKind
from easychat.client.events import LineKind
from easychat.client.input import commands as cmd
from easychat.proto.message import Message
from easychat.tui.history import load_history, local_history
from easychat.tui.intents_irc import run_irc_command
from easychat.tui.screens.chat import ChatScreen

if TYPE_CHECKING:
    from easychat.tui.app import EasyChatApp


def run_typed(app: EasyChatApp, chat: ChatScreen, text: str) -> None:
    """Parses what the user typed in `chat` and sends, shows or does it."""
    session, connection = app.session, app.connection
    intent = cmd.parse_input(text)
    if isinstance(intent, cmd.Help):
        for usage, description in cmd.COMMAND_HELP:
            chat.show_info(f"{usage:<30} {description}")
        return
    if isinstance(intent, cmd.Invalid):
        chat.show_info(intent.message, LineKind.ERROR)
        return
    if isinstance(intent, cmd.Quit):
        app.leave(intent.reason)
        return
    if run_irc_command(app, chat, intent):  # /list, /mode, /kick, /ignore, ...
        return
    if session is None or connection is None or not session.registered:
        chat.show_info(
            "Not connected: nothing was sent. Press Up to get your text back.", LineKind.ERROR
        )
        return
    conv = chat.conversations.current
    here = conv.name if conv.kind is not ConversationKind.SERVER else None
    out: list[Message] = []
    if isinstance(intent, (cmd.Say, cmd.Me)):
        if here is None:
            chat.show_info(
                "This is the server window: /join #room or /msg nick first.", LineKind.ERROR
            )
            return
        if conv.kind is ConversationKind.ROOM and not conv.active:
            chat.show_info(f"You are not in {here}: /join {here} first.", LineKind.ERROR)
            return
        messages, echo = session.say(here, intent.text, action=isinstance(intent, cmd.Me))
        out += messages
        for event in echo:
            app.handle(event)
    elif isinstance(intent, cmd.Join):
        app.focus_on_join.add(session.fold(intent.room))
        if intent.key:
            app.join_keys[session.fold(intent.room)] = intent.key
        existing = chat.conversations.get(intent.room)
        if existing is not None and existing.active:
            chat.switch_to(existing)
        params = (intent.room, intent.key) if intent.key else (intent.room,)
        out.append(Message("JOIN", params))
    elif isinstance(intent, cmd.Part):
        room = intent.room or here
        if room is None:
            chat.show_info("Usage: /part [#room] [reason]", LineKind.ERROR)
            return
        if not session.is_channel(room):
            app.close_conversation(room)
            return
        out.append(Message("PART", (room, intent.reason) if intent.reason else (room,)))
    elif isinstance(intent, cmd.Msg):
        new = chat.conversations.get(intent.target) is None
        target = chat.open_conversation(
            intent.target,
            ConversationKind.ROOM
            if session.is_channel(intent.target)
            else ConversationKind.PRIVATE,
            local_history(app.store, intent.target),
            focus=True,
        )
        if new:
            load_history(app.session, app.connection, target)
        if intent.text:
            messages, echo = session.say(target.name, intent.text)
            out += messages
            for event in echo:
                app.handle(event)
    elif isinstance(intent, cmd.Nick):
        # Not the nick a reconnect asks for until the server accepts it (NICK back).
        out += session.change_nick(intent.nick)
    elif isinstance(intent, cmd.Topic):
        if here is None or not session.is_channel(here):
            chat.show_info("/topic works in a room.", LineKind.ERROR)
            return
        out.append(Message("TOPIC", (here,) if intent.text is None else (here, intent.text)))
    elif isinstance(intent, cmd.Names):
        if here is None or not session.is_channel(here):
            chat.show_info("/names works in a room.", LineKind.ERROR)
            return
        members = session.members(here)
        chat.show_info(
            f"{len(members)} in {here}: " + " ".join(m.prefixes[:1] + m.nick for m in members)
        )
    elif isinstance(intent, cmd.Whois):
        out.append(Message("WHOIS", (intent.nick,)))
    elif isinstance(intent, cmd.Away):
        out.append(Message("AWAY", (intent.message,) if intent.message else ()))
    connection.send(out)


def palette_commands(app: EasyChatApp, screen: ChatScreen) -> Iterator[SystemCommand]:
    """The command palette's entries on the chat screen, after Textual's own."""
    yield SystemCommand(
        "Next conversation",
        "Switch to the next conversation (Ctrl+N)",
        lambda: screen.action_step(1),
    )
    yield SystemCommand(
        "Previous conversation",
        "Switch to the previous conversation (Ctrl+P)",
        lambda: screen.action_step(-1),
    )
    yield SystemCommand(
        "Leave", "Disconnect and return to the login screen", lambda: app.leave(None)
    )
    yield SystemCommand(
        "Browse rooms",
        "List the server's rooms and join one (/list)",
        lambda: run_typed(app, screen, "/list"),
    )
    for conv in screen.conversations.ordered():
        yield SystemCommand(
            f"Go to {conv.name}",
            "Switch to this conversation",
            lambda c=conv: screen.switch_to(c),
        )
    for usage, description in cmd.COMMAND_HELP:
        yield SystemCommand(usage, description, lambda u=usage: screen.prefill(u.split()[0] + " "))
