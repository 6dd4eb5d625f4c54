"""Provides room membership commands: JOIN, PART, TOPIC, NAMES, LIST, KICK, INVITE."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from easychat.chat import config as limits
from easychat.chat import rooms
from easychat.chat.errors import IRCError
from easychat.chat.handlers import markread, messaging, oper, rename
from easychat.chat.handlers.chathistory import replay_on_join
from easychat.chat.state import Channel
from easychat.proto import numerics as n
from easychat.proto.limits import MAX_LINE_BYTES
from easychat.proto.message import Message
from easychat.proto.names import casefold, mask_matches, valid_channel

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

log = logging.getLogger("easychat.chat")


def handle_join(core: ChatCore, client: Client, msg: Message) -> None:
    """JOIN <channel>{,<channel>} [<key>{,<key>}], or JOIN 0 to leave all.

    Each channel is tried on its own: an error for one does not stop the rest.
    """
    if msg.params[0] == "0":
        for channel in list(client.channels.values()):
            part_channel(core, client, channel, client.nick or "")
        return
    names = msg.params[0].split(",")
    keys = msg.params[1].split(",") if len(msg.params) > 1 else []
    for i, name in enumerate(names):
        key = keys[i] if i < len(keys) else None
        try:
            join_channel(core, client, name, key)
        except IRCError as err:
            core.reply(client, err.numeric, *err.params)


def join_channel(core: ChatCore, client: Client, name: str, key: str | None) -> None:
    """Puts `client` in channel `name`, creating it (with `client` as operator).

    A kept room (chat/rooms.py) exists even when empty, so joining it checks
    its key, bans, +i and limit, and makes only its operator accounts operator.
    """
    if not valid_channel(name, core.config.channellen):
        raise IRCError(n.ERR_BADCHANMASK, name or "*", "Bad channel name")
    folded = casefold(name)
    channel = core.channels.get(folded)
    if channel is not None and client in channel.members:
        return
    if len(client.channels) >= limits.MAX_CHANNELS_PER_CLIENT:
        raise IRCError(n.ERR_TOOMANYCHANNELS, name, "You have joined too many channels")
    created = channel is None
    if channel is None and core.renames and rename.redirect(core, client, name, key):
        return
    if channel is None:
        if len(core.channels) >= limits.MAX_ROOMS:
            raise IRCError(n.ERR_TOOMANYCHANNELS, name, "Too many rooms on this server")
        channel = Channel(name, int(core.clock()))
        core.channels[folded] = channel
        channel.members[client] = {"o"}
        rooms.created(channel, client)
        log.info("room %s created by %s", name, client.nick)
    else:
        invited = rooms.is_invited(channel, client)
        if channel.key is not None and key != channel.key:
            raise IRCError(n.ERR_BADCHANNELKEY, channel.name, "Cannot join channel (+k)")
        if channel.is_banned(client) and not invited:
            raise IRCError(n.ERR_BANNEDFROMCHAN, channel.name, "Cannot join channel (+b)")
        if "i" in channel.modes and not invited and not channel.is_invite_excepted(client):
            raise IRCError(n.ERR_INVITEONLYCHAN, channel.name, "Cannot join channel (+i)")
        if channel.limit is not None and len(channel.members) >= channel.limit:
            raise IRCError(n.ERR_CHANNELISFULL, channel.name, "Cannot join channel (+l)")
        if invited:
            rooms.use_invitation(core, channel, client)
        channel.members[client] = rooms.prefixes_on_join(channel, client)
    client.channels[folded] = channel
    channel.audience = None
    log.info("%s joined %s", client.nick, channel.name)
    core.event([channel], channel.members, Message("JOIN", (channel.name,), client.prefix))
    if client.away is not None:  # away-notify: the room learns it with the JOIN
        messaging.tell_away(core, client, channel.members)
    if not created and channel.is_op(client):
        # An operator account back in its room: everyone sees the +o, as
        # with a services auto-op (the joiner's NAMES shows it too).
        opped = Message("MODE", (channel.name, "+o", client.name), core.config.server_name)
        core.send_many(channel.members, opped)
    if channel.topic:
        send_topic(core, client, channel)
    if "no-implicit-names" not in client.caps:  # that client asks with NAMES when it wants
        send_names(core, client, channel, before_end=markread.send_on_join)
    else:
        markread.send_on_join(core, client, channel)
    replay_on_join(core, client, channel)


def handle_part(core: ChatCore, client: Client, msg: Message) -> None:
    """PART <channel>{,<channel>} [<reason>]."""
    reason = msg.params[1] if len(msg.params) > 1 else ""
    for name in msg.params[0].split(","):
        try:
            channel = member_channel(core, client, name)
            part_channel(core, client, channel, reason)
        except IRCError as err:
            core.reply(client, err.numeric, *err.params)


def part_channel(core: ChatCore, client: Client, channel: Channel, reason: str) -> None:
    """Takes `client` out of `channel`, telling every member."""
    params = (channel.name, reason) if reason else (channel.name,)
    core.event([channel], channel.members, Message("PART", params, client.prefix))
    core.remove_member(channel, client)
    log.info("%s left %s", client.nick, channel.name)


def member_channel(core: ChatCore, client: Client, name: str) -> Channel:
    """The channel `name`, which `client` must be in (else 403 or 442).

    A secret (+s) channel the client is not in answers 403, as if it did not
    exist, so that its name cannot be probed.
    """
    channel = core.find_channel(name)
    if channel is None or not visible(channel, client):
        raise IRCError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
    if client not in channel.members:
        raise IRCError(n.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
    return channel


def visible(channel: Channel, client: Client) -> bool:
    """Whether `client` may see that `channel` exists and who is in it (+s)."""
    return "s" not in channel.modes or client in channel.members


def handle_topic(core: ChatCore, client: Client, msg: Message) -> None:
    """TOPIC <channel> [<topic>].

    "If the protected topic mode is set on a channel, then clients MUST have
    appropriate channel permissions to modify the topic of that channel."
    """
    name = msg.params[0]
    if len(msg.params) == 1:
        channel = core.find_channel(name)
        if channel is None or not visible(channel, client):
            raise IRCError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
        if channel.topic:
            send_topic(core, client, channel)
        else:
            core.reply(client, n.RPL_NOTOPIC, channel.name, "No topic is set")
        return
    channel = member_channel(core, client, name)
    if (
        "t" in channel.modes
        and not channel.is_op(client)
        and not oper.override(core, client, channel, "TOPIC")
    ):
        raise IRCError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    channel.topic = msg.params[1][: core.config.topiclen]
    channel.topic_setter = client.prefix
    channel.topic_time = int(core.clock())
    log.info("%s set the topic of %s to %r", client.nick, channel.name, channel.topic)
    rooms.changed(core, channel)
    topic = Message("TOPIC", (channel.name, channel.topic), client.prefix)
    core.event([channel], channel.members, topic)


def send_topic(core: ChatCore, client: Client, channel: Channel) -> None:
    """RPL_TOPIC and RPL_TOPICWHOTIME."""
    core.reply(client, n.RPL_TOPIC, channel.name, channel.topic)
    core.reply(
        client, n.RPL_TOPICWHOTIME, channel.name, channel.topic_setter, str(channel.topic_time)
    )


def handle_names(core: ChatCore, client: Client, msg: Message) -> None:
    """NAMES [<channel>{,<channel>}]."""
    if not msg.params:
        core.reply(client, n.RPL_ENDOFNAMES, "*", "End of /NAMES list")
        return
    for name in msg.params[0].split(","):
        channel = core.find_channel(name)
        if channel is not None and visible(channel, client):
            send_names(core, client, channel)
        else:
            core.reply(client, n.RPL_ENDOFNAMES, name, "End of /NAMES list")


def send_names(
    core: ChatCore,
    client: Client,
    channel: Channel,
    before_end: Callable[[ChatCore, Client, Channel], None] | None = None,
) -> None:
    """RPL_NAMREPLY lines (split to fit 512 bytes) and RPL_ENDOFNAMES.

    `before_end` adds what must come before RPL_ENDOFNAMES (a JOIN's MARKREAD).

    With userhost-in-names each name is `nick!user@host`, and with
    multi-prefix it carries every prefix (see `Channel.shown_prefix`).
    "Users with the invisible user mode set are not shown in channel
    responses unless the requesting client is also joined to that channel."
    """
    symbol = "@" if "s" in channel.modes else "="
    head = f":{core.config.server_name} 353 {client.name} {symbol} {channel.name} :"
    room = MAX_LINE_BYTES - 2 - len(head.encode())
    joined = client in channel.members
    full = "userhost-in-names" in client.caps
    names = [
        channel.shown_prefix(member, client) + (member.prefix if full else member.name)
        for member in channel.members
        if joined or "i" not in member.modes
    ]
    line: list[str] = []
    size = 0
    for name in names:
        width = len(name.encode())
        if line and size + width + 1 > room:
            core.reply(client, n.RPL_NAMREPLY, symbol, channel.name, " ".join(line))
            line, size = [], 0
        line.append(name)
        size += width + 1
    if line:
        core.reply(client, n.RPL_NAMREPLY, symbol, channel.name, " ".join(line))
    if before_end is not None:
        before_end(core, client, channel)
    core.reply(client, n.RPL_ENDOFNAMES, channel.name, "End of /NAMES list")


def handle_list(core: ChatCore, client: Client, msg: Message) -> None:
    """LIST [<channel>{,<channel>} | <filter>{,<filter>}]: rooms with their member
    counts and topics.

    With ELIST=CMNTU (Modern IRC's ELIST): a mask (`*dev*`, M) or a negated
    one (`!*dev*`, N) matches names, `>n` and `<n` the member count (U),
    `C>n` and `C<n` the minutes since the room was created (C), `T>n` and
    `T<n` the minutes since its topic was set (T). A room is listed when it
    passes every filter given; names given alone list just those rooms.
    """
    channels: list[Channel]
    items = [item for item in msg.params[0].split(",") if item] if msg.params else []
    filters = [item for item in items if _is_list_filter(item)]
    names = [item for item in items if not _is_list_filter(item)]
    if names:
        found = (core.find_channel(name) for name in names)
        channels = [c for c in found if c is not None]
    else:
        channels = list(core.channels.values())
    now = core.clock()
    channels = [c for c in channels if all(_passes(c, f, now) for f in filters)]
    core.reply(client, n.RPL_LISTSTART, "Channel", "Users  Name")
    for channel in channels:
        if visible(channel, client):
            count = str(len(channel.members))
            core.reply(client, n.RPL_LIST, channel.name, count, channel.topic)
    core.reply(client, n.RPL_LISTEND, "End of /LIST")


def _is_list_filter(item: str) -> bool:
    return (
        item[0] in "<>!" or item[:2] in ("C<", "C>", "T<", "T>") or any(ch in item for ch in "*?")
    )


def _passes(channel: Channel, item: str, now: float) -> bool:
    """Whether `channel` passes one ELIST filter (an unreadable number passes)."""
    if item[0] == "!":
        return not mask_matches(item[1:], channel.name)
    if item[0] in "<>" or item[:2] in ("C<", "C>", "T<", "T>"):
        kind = item[0] if item[0] in "CT" else "U"
        op, number = (item[1], item[2:]) if kind != "U" else (item[0], item[1:])
        if not number.isdigit():
            return True
        if kind == "U":
            value = float(len(channel.members))
        else:
            since = channel.created if kind == "C" else channel.topic_time
            if kind == "T" and not channel.topic:
                return False
            value = (now - since) / 60
        return value > int(number) if op == ">" else value < int(number)
    return mask_matches(item, channel.name)


def handle_kick(core: ChatCore, client: Client, msg: Message) -> None:
    """KICK <channel>{,<channel>} <user>{,<user>} [<comment>]: operators only.

    RFC 2812: "there MUST be either one channel parameter and multiple user
    parameter, or as many channel parameters as there are user parameters."
    Each user is kicked on their own, and "The server MUST NOT send KICK
    messages with multiple channels or users to clients": one KICK per
    user, and an error for one (not there, a room not joined or not
    operated) does not stop the others.
    """
    names = msg.params[0].split(",")
    nicks = [nick for nick in msg.params[1].split(",") if nick]
    if not nicks:
        raise IRCError(n.ERR_NEEDMOREPARAMS, "KICK", "Not enough parameters")
    if len(nicks) > limits.MAX_TARGETS:
        raise IRCError(n.ERR_TOOMANYTARGETS, msg.params[1], "Too many targets")
    if len(names) == 1:
        names = names * len(nicks)
    elif len(names) != len(nicks):
        raise IRCError(n.ERR_NEEDMOREPARAMS, "KICK", "Give one room, or one room per user")
    comment = msg.params[2][: limits.KICKLEN] if len(msg.params) > 2 else client.name
    # The users to kick from each room, the rooms in the order first named.
    by_room: dict[str, tuple[str, list[str]]] = {}
    for name, nick in zip(names, nicks, strict=True):
        by_room.setdefault(casefold(name), (name, []))[1].append(nick)
    for name, room_nicks in by_room.values():
        try:
            channel = kick_channel(core, client, name)
        except IRCError as err:
            core.reply(client, err.numeric, *err.params)
            continue
        for nick in room_nicks:
            kick_user(core, client, channel, nick, comment)


def kick_channel(core: ChatCore, client: Client, name: str) -> Channel:
    """The room `name` if `client` may kick there (else 403, 442 or 482)."""
    channel = member_channel(core, client, name)
    if not channel.is_op(client) and not oper.override(core, client, channel, "KICK"):
        raise IRCError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    return channel


def kick_user(core: ChatCore, client: Client, channel: Channel, nick: str, comment: str) -> None:
    """Kicks `nick` from `channel` with its own KICK, or answers 441."""
    target = core.find_client(nick)
    if target is None or target not in channel.members:
        core.reply(
            client, n.ERR_USERNOTINCHANNEL, nick, channel.name, "They aren't on that channel"
        )
        return
    kick = Message("KICK", (channel.name, target.name, comment), client.prefix)
    core.event([channel], channel.members, kick)
    core.remove_member(channel, target)
    log.info("%s kicked %s from %s (%s)", client.nick, target.nick, channel.name, comment)


def handle_invite(core: ChatCore, client: Client, msg: Message) -> None:
    """INVITE <nickname> <channel>.

    "Only members of the channel are allowed to invite other users. ...
    If the channel has the invite-only mode set, only channel operators may
    issue INVITE command." With invite-notify, members who enabled it are
    sent the INVITE too (operators only in a +i room, as ergo does).
    """
    nick, name = msg.params[0], msg.params[1]
    target = core.find_client(nick)
    if target is None:
        raise IRCError(n.ERR_NOSUCHNICK, nick, "No such nick/channel")
    channel = member_channel(core, client, name)
    if "i" in channel.modes and not channel.is_op(client):
        raise IRCError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    if target in channel.members:
        raise IRCError(n.ERR_USERONCHANNEL, target.name, channel.name, "is already on channel")
    rooms.invite(core, channel, target)
    core.reply(client, n.RPL_INVITING, target.name, channel.name)
    invite = Message("INVITE", (target.name, channel.name), client.prefix)
    core.send(target, invite)
    # invite-notify: the room's members who ask for it learn of the
    # invitation; in an invite-only room only its operators, who may invite.
    told = [
        member
        for member in channel.members
        if "invite-notify" in member.caps
        and member is not client
        and ("i" not in channel.modes or channel.is_op(member))
    ]
    core.send_many(told, invite)
    log.info("%s invited %s to %s", client.nick, target.nick, channel.name)
