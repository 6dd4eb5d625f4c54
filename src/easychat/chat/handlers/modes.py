"""Provides MODE for channels (b, k, l, o, v, i, m, n, s, t) and for users (i, w)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from easychat.chat import config as limits
from easychat.chat import rooms
from easychat.chat.errors import IRCError
from easychat.chat.handlers import oper
from easychat.chat.handlers.channels import visible
from easychat.chat.state import Ban
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.proto.names import casefold, is_channel, normalize_mask

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Channel, Client

log = logging.getLogger("easychat.chat")

FLAG_MODES = frozenset("Cimnst")  # C: no CTCP but ACTION
USER_FLAG_MODES = frozenset("iwB")  # B: a bot (IRCv3 bot mode, `BOT=B`)


def handle_mode(core: ChatCore, client: Client, msg: Message) -> None:
    """MODE <target> [<modestring> [<mode arguments>...]]."""
    if is_channel(msg.params[0]):
        channel_mode(core, client, msg)
    else:
        user_mode(core, client, msg)


def user_mode(core: ChatCore, client: Client, msg: Message) -> None:
    """MODE <nick> [<modestring>]: a client may only see and change its own."""
    target = core.find_client(msg.params[0])
    if target is None:
        raise IRCError(n.ERR_NOSUCHNICK, msg.params[0], "No such nick/channel")
    if target is not client:
        raise IRCError(n.ERR_USERSDONTMATCH, "Can't change mode for other users")
    if len(msg.params) == 1:
        core.reply(client, n.RPL_UMODEIS, "+" + "".join(sorted(client.modes)))
        return
    sign, changes, unknown = "+", "", False
    for ch in msg.params[1]:
        if ch in "+-":
            sign = ch
        elif ch in USER_FLAG_MODES:
            if (sign == "+") != (ch in client.modes):
                (client.modes.add if sign == "+" else client.modes.discard)(ch)
                changes += sign + ch
                if ch == "i":
                    core.invisible += 1 if sign == "+" else -1
        else:
            unknown = True
    if changes:
        core.send(client, Message("MODE", (client.name, changes), client.prefix))
    if unknown:
        core.reply(client, n.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")


def channel_mode(core: ChatCore, client: Client, msg: Message) -> None:
    """MODE <channel> [<modestring> [<args>...]].

    Type A (b) lists or edits bans, type B (k) always takes a parameter,
    type C (l) takes one when set, type D (Cimnst) never does, and the prefix
    modes (o, v) take a nick. Only channel operators change anything.
    """
    channel = core.find_channel(msg.params[0])
    if channel is None or not visible(channel, client):
        raise IRCError(n.ERR_NOSUCHCHANNEL, msg.params[0], "No such channel")
    if len(msg.params) == 1:
        shown = channel.mode_string(show_key=client in channel.members)
        core.reply(client, n.RPL_CHANNELMODEIS, channel.name, *shown)
        core.reply(client, n.RPL_CREATIONTIME, channel.name, str(channel.created))
        return
    args = list(msg.params[2:])
    sign = "+"
    applied: list[tuple[str, str, str | None]] = []
    with_param = 0
    is_op = channel.is_op(client)
    listed = ""
    for ch in msg.params[1]:
        if ch in "+-":
            sign = ch
            continue
        if ch in LIST_MODES and not args:
            # "servers SHOULD only send the list for that mode to the client
            # once, regardless of how many times that type A mode is
            # contained in the <modestring>."
            if ch not in listed:
                send_mask_list(core, client, channel, ch)
                listed += ch
            continue
        if ch not in "klov" and ch not in LIST_MODES and ch not in FLAG_MODES:
            core.reply(client, n.ERR_UNKNOWNMODE, ch, "is unknown mode char to me")
            continue
        if not is_op:
            if not oper.override(core, client, channel, f"MODE {msg.params[1]}"):
                raise IRCError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
            is_op = True  # logged once per MODE command
        takes_arg = ch in "beIkov" or (ch == "l" and sign == "+")
        if takes_arg:
            if with_param >= limits.MAX_MODES:
                break
            with_param += 1
        change = apply_mode(core, client, channel, sign=sign, ch=ch, args=args, takes_arg=takes_arg)
        if change is not None:
            applied.append(change)
    if applied:
        announce(core, client, channel, applied)
        rooms.changed(core, channel)


def apply_mode(
    core: ChatCore,
    client: Client,
    channel: Channel,
    *,
    sign: str,
    ch: str,
    args: list[str],
    takes_arg: bool,
) -> tuple[str, str, str | None] | None:
    """Applies one mode change; returns it if it changed anything."""
    adding = sign == "+"
    if takes_arg and not args and (ch != "k" or adding):
        core.reply(client, n.ERR_INVALIDMODEPARAM, channel.name, ch, "*", "Mode needs a parameter")
        return None
    arg = args.pop(0) if takes_arg and args else None
    if ch in FLAG_MODES:
        if adding == (ch in channel.modes):
            return None
        (channel.modes.add if adding else channel.modes.discard)(ch)
        return (sign, ch, None)
    if ch == "k":
        if adding:
            assert arg is not None
            if any(c in arg for c in " ,:") or not arg:
                core.reply(client, n.ERR_INVALIDKEY, channel.name, "Key is not well-formed")
                return None
            channel.key = arg
            return (sign, ch, arg)
        if channel.key is None:
            return None
        channel.key = None
        return (sign, ch, "*")
    if ch == "l":
        if not adding:
            if channel.limit is None:
                return None
            channel.limit = None
            return (sign, ch, None)
        assert arg is not None
        if not arg.isdigit() or int(arg) <= 0:
            core.reply(client, n.ERR_INVALIDMODEPARAM, channel.name, ch, arg, "Invalid limit")
            return None
        channel.limit = int(arg)
        return (sign, ch, str(channel.limit))
    assert arg is not None
    if ch in LIST_MODES:
        mask = normalize_mask(arg)
        entries = channel.mask_list(ch)
        exists = any(casefold(b.mask) == casefold(mask) for b in entries)
        if adding:
            if exists:
                return None
            if len(entries) >= limits.MAX_BANS:
                text = "Channel ban list is full" if ch == "b" else "Channel list is full"
                core.reply(client, n.ERR_BANLISTFULL, channel.name, mask, text)
                return None
            entries.append(Ban(mask, client.prefix, int(core.clock())))
        else:
            if not exists:
                return None
            entries[:] = [b for b in entries if casefold(b.mask) != casefold(mask)]
        return (sign, ch, mask)
    # Prefix modes: o, v.
    target = core.find_client(arg)
    if target is None:
        core.reply(client, n.ERR_NOSUCHNICK, arg, "No such nick/channel")
        return None
    if target not in channel.members:
        core.reply(
            client, n.ERR_USERNOTINCHANNEL, target.name, channel.name, "They aren't on that channel"
        )
        return None
    prefixes = channel.members[target]
    if adding == (ch in prefixes):
        return None
    (prefixes.add if adding else prefixes.discard)(ch)
    if ch == "o":
        rooms.opped(channel, target, adding)
    return (sign, ch, target.name)


def announce(
    core: ChatCore, client: Client, channel: Channel, applied: list[tuple[str, str, str | None]]
) -> None:
    """Tells every member of the channel which modes changed, in one MODE."""
    modestring = ""
    last_sign = ""
    params: list[str] = []
    for sign, ch, arg in applied:
        if sign != last_sign:
            modestring += sign
            last_sign = sign
        modestring += ch
        if arg is not None:
            params.append(arg)
    log.info("%s set mode %s %s on %s", client.nick, modestring, " ".join(params), channel.name)
    core.send_many(
        channel.members, Message("MODE", (channel.name, modestring, *params), client.prefix)
    )


# The type A modes, each with its list's entry and end numerics: bans,
# ban exceptions (+e: a match is not banned) and invite exceptions (+I: a
# match needs no invitation to a +i room).
_LIST_REPLIES = {
    "b": (n.RPL_BANLIST, n.RPL_ENDOFBANLIST, "End of channel ban list"),
    "e": (n.RPL_EXCEPTLIST, n.RPL_ENDOFEXCEPTLIST, "End of channel exception list"),
    "I": (n.RPL_INVITELIST, n.RPL_ENDOFINVITELIST, "End of channel invite list"),
}
LIST_MODES = "".join(_LIST_REPLIES)


def send_mask_list(core: ChatCore, client: Client, channel: Channel, ch: str) -> None:
    """The entries of one list mode (RPL_BANLIST, RPL_EXCEPTLIST, RPL_INVITELIST), then its end."""
    entry, end, text = _LIST_REPLIES[ch]
    for ban in channel.mask_list(ch):
        core.reply(client, entry, channel.name, ban.mask, ban.setter, str(ban.set_at))
    core.reply(client, end, channel.name, text)
