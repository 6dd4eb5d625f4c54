"""Provides RENAME (IRCv3 draft/channel-rename): a room changes its name and keeps all else.

"A channel rename preserves all channel state, such as membership, mode and
topic." Here it keeps the history too: the records move to the new name's
key, and a replay names the room as it is called now (chathistory.py), so a
client files them in one conversation. Members with the capability get
`RENAME`; the others the spec's fallback, a PART of the old name and a JOIN
of the new one with its topic and names, sent with their own prefix, as if
they had moved themselves. For an hour, a JOIN of the old name is
redirected (`FAIL JOIN CHANNEL_RENAMED`, or `470` and the JOIN of the new
room for clients without the capability).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from easychat.chat import rooms
from easychat.chat.errors import IRCError
from easychat.chat.handlers import channels, oper
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.proto.names import casefold, valid_channel

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Channel, Client

log = logging.getLogger("easychat.chat")

CAP = "draft/channel-rename"

# How long a JOIN of a room's old name is redirected to the new one, and how
# many such redirects are kept (the oldest go first).
REDIRECT_SECONDS = 3600.0
MAX_REDIRECTS = 1000


def handle_rename(core: ChatCore, client: Client, msg: Message) -> None:
    """RENAME <old> <new> [<reason>]: for the room's operators (and server operators)."""
    old, new = msg.params[0], msg.params[1]
    reason = msg.params[2] if len(msg.params) > 2 else ""
    channel = core.find_channel(old)
    if channel is None or ("s" in channel.modes and client not in channel.members):
        raise IRCError(n.ERR_NOSUCHCHANNEL, old, "No such channel")
    if not (channel.is_op(client) or oper.override(core, client, channel, "RENAME")):
        raise IRCError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    if not valid_channel(new, core.config.channellen):
        core.fail(client, "RENAME", "CANNOT_RENAME", old, new, "Bad channel name")
        return
    folded = casefold(new)
    if folded != channel.folded and folded in core.channels:
        core.fail(client, "RENAME", "CHANNEL_NAME_IN_USE", old, new, "Channel already exists")
        return
    if new == channel.name:
        return
    rename(core, client, channel, new, reason)


def rename(core: ChatCore, client: Client, channel: Channel, new: str, reason: str) -> None:
    """Moves `channel` (its state, members and history) to the name `new`."""
    old, old_folded = channel.name, channel.folded
    case_only = casefold(new) == old_folded
    if channel.stored and core.room_store is not None and not case_only:
        core.room_store.remove_room(old_folded)
    del core.channels[old_folded]
    channel.name = new
    core.channels[channel.folded] = channel
    for member in channel.members:
        member.channels.pop(old_folded, None)
        member.channels[channel.folded] = channel
    channel.audience = None
    if channel.stored:
        rooms.changed(core, channel)
    moved = 0
    if core.history is not None and not case_only:
        moved = core.history.rename(old_folded, channel.folded)
    redirects = core.renames
    redirects.pop(channel.folded, None)  # the new name is a room again, not a redirect
    if not case_only:
        redirects.pop(old_folded, None)
        redirects[old_folded] = (new, core.timer() + REDIRECT_SECONDS)
        while len(redirects) > MAX_REDIRECTS:
            del redirects[next(iter(redirects))]
    log.info("%s renamed %s to %s (%d history records moved)", client.nick, old, new, moved)
    capable = [m for m in channel.members if CAP in m.caps]
    core.send_many(capable, Message("RENAME", (old, new, reason), client.prefix))
    if case_only:  # "This fallback SHOULD NOT be used if the rename only changes the case"
        return
    for member in channel.members:
        if CAP not in member.caps:
            part = (old, reason) if reason else (old,)
            core.send(member, Message("PART", part, member.prefix))
            core.send(member, Message("JOIN", (new,), member.prefix))
            if channel.topic:
                channels.send_topic(core, member, channel)
            channels.send_names(core, member, channel)


def redirect(core: ChatCore, client: Client, name: str, key: str | None) -> bool:
    """Answers a JOIN of `name`, a room that is no more, if it was renamed; else False.

    With the capability, the client is told (`FAIL JOIN CHANNEL_RENAMED`)
    and joins the new name itself; without it, it gets `470` and is joined
    to the new name, as the spec's example shows.
    """
    folded = casefold(name)
    entry = core.renames.get(folded)
    if entry is None:
        return False
    new, until = entry
    if until <= core.timer() or casefold(new) not in core.channels:
        del core.renames[folded]
        return False
    if CAP in client.caps:
        core.fail(client, "JOIN", "CHANNEL_RENAMED", name, new, "The channel has been renamed")
        return True
    core.reply(client, n.ERR_LINKCHANNEL, name, new, "The channel has been renamed")
    channels.join_channel(core, client, new, key)
    return True
