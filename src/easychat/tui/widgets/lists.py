"""Provides the chat screen's side lists: the open conversations and the room's members."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from easychat.client.conversations import Conversation, ConversationKind
from easychat.client.session.session import Member
from easychat.proto.names import casefold


class ConversationList(OptionList):
    """The side list of open conversations with unread counts and mentions."""

    def show(self, conversations: list[Conversation], current: Conversation) -> None:
        """Redraws the list for these conversations."""
        options = []
        for conv in conversations:
            label = Text(conv.name, style="bold" if conv is current else "")
            if conv.kind is ConversationKind.SERVER:
                label.stylize("italic")
            if not conv.active:
                label.stylize("dim")
            if conv.left:
                label.append(" (left)", style="dim")
            if conv.unread:
                label.append(f" {conv.unread}", style="bold yellow")
            if conv.mentioned:
                label.append(" @", style="bold red")
            options.append(Option(label, id=casefold(conv.name)))
        highlighted = conversations.index(current) if current in conversations else None
        self.clear_options()
        self.add_options(options)
        self.highlighted = highlighted


class MemberList(OptionList):
    """The members of the current room, operators first and marked."""

    def show(self, members: list[Member]) -> None:
        """Redraws the list."""
        self.clear_options()
        options = []
        for m in members:
            label = Text(m.prefixes[:1] + m.nick, style="bold" if m.prefixes else "")
            if m.away:
                label.stylize("dim")
                label.append(" (away)", style="dim italic")
            options.append(Option(label))
        self.add_options(options)
