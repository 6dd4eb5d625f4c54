"""Provides message relay: PRIVMSG and NOTICE to rooms and people, and AWAY."""

from __future__ import annotations

from typing import TYPE_CHECKING

from easychat.chat import config as limits
from easychat.chat.errors import IRCError
from easychat.chat.handlers import monitor
from easychat.chat.history import private_key
from easychat.proto import numerics as n
from easychat.proto.limits import MAX_LINE_BYTES
from easychat.proto.message import Message, trailing_colon
from easychat.proto.names import casefold, is_channel

# ISUPPORT STATUSMSG: the prefixes a room target may carry to reach only
# the members with that status.
STATUSMSG = "@+"

if TYPE_CHECKING:
    from collections.abc import Iterable

    from easychat.chat.core import ChatCore
    from easychat.chat.state import Channel, Client


# A TAGMSG is kept in history only when it carries one of these client tags
# (a reaction belongs with the message it points to, as ergo's default
# `tagmsg-storage` allow-list does); `+typing` and other transient signals
# are relayed live and never stored.
STORED_TAGMSG_TAGS = frozenset({"+draft/react", "+react"})


def handle_privmsg(core: ChatCore, client: Client, msg: Message) -> None:
    """PRIVMSG <target>{,<target>} <text>."""
    relay(core, client, msg)


def handle_tagmsg(core: ChatCore, client: Client, msg: Message) -> None:
    """TAGMSG <target>{,<target>}: only tags, for clients with message-tags."""
    relay(core, client, msg)


def handle_notice(core: ChatCore, client: Client, msg: Message) -> None:
    """NOTICE <target>{,<target>} <text>; errors are never replied to."""
    relay(core, client, msg)


def relay(core: ChatCore, client: Client, msg: Message) -> None:
    """Delivers a PRIVMSG or NOTICE to each of its targets.

    Empty items in the target list are skipped. Each target is handled on its
    own: an error for one (sent for PRIVMSG only) does not stop the others.
    A text that would not fit in 512 bytes once the server adds the sender's
    prefix is refused with 417 rather than cut, so nothing is lost silently.
    """
    command = msg.command
    named = [t for t in msg.params[0].split(",") if t] if msg.params else []
    if not named:
        raise IRCError(n.ERR_NORECIPIENT, f"No recipient given ({command})")
    if command != "TAGMSG" and (len(msg.params) < 2 or not msg.params[1]):
        raise IRCError(n.ERR_NOTEXTTOSEND, "No text to send")
    text = msg.params[1] if command != "TAGMSG" else ""
    # IRCv3 message-tags: client-only tags (`+name`) are relayed as sent.
    client_tags = {k: v for k, v in msg.tags.items() if k.startswith("+")}
    if "message-tags" not in client.caps:
        client_tags = {}
    if "B" in client.modes:  # bot mode: what a bot sends carries the `bot` tag
        client_tags = {**client_tags, "bot": ""}
    if len(named) > limits.MAX_TARGETS:
        raise IRCError(n.ERR_TOOMANYTARGETS, msg.params[0], "Too many targets")
    # Each target once: `PRIVMSG bob,Bob :hi` delivers one copy.
    targets = list({casefold(t): t for t in named}.values())
    for target in targets:
        try:
            deliver(core, client, command, target, text, client_tags=client_tags)
        except IRCError as err:
            if command == "PRIVMSG":
                core.reply(client, err.numeric, *err.params)
    client.last_spoke = core.clock()


def deliver(
    core: ChatCore,
    client: Client,
    command: str,
    target: str,
    text: str,
    *,
    client_tags: dict[str, str],
) -> None:
    """Sends `text` to one target (a channel or a nick), or raises its error.

    The message gets a msgid and a time, is stored in the history, reaches
    each recipient with the tags its capabilities allow, and comes back to
    the sender too when it asked for `echo-message`.
    """
    params: tuple[str, ...] = (target,) if command == "TAGMSG" else (target, text)
    if relayed_bytes(client.prefix, command, params) > MAX_LINE_BYTES - 2:
        raise IRCError(n.ERR_INPUTTOOLONG, "Message too long to relay, split it")
    if target[:1] in STATUSMSG and is_channel(target[1:]):
        return deliver_to_status(core, client, command, target, text, client_tags=client_tags)
    room: Channel | None = None
    if is_channel(target):
        channel = core.find_channel(target)
        if channel is None:
            raise IRCError(n.ERR_NOSUCHCHANNEL, target, "No such channel")
        check_can_send(channel, client)
        if "C" in channel.modes and text.startswith("\x01") and not text.startswith("\x01ACTION "):
            raise IRCError(n.ERR_CANNOTSENDTOCHAN, channel.name, "Cannot send CTCP to channel (+C)")
        room = channel
        recipients: list[Client] = []
        params = (channel.name, *params[1:])
        key = channel.folded
        if core.relayed is not None:
            core.relayed.append((client.name, channel.name, text.encode()))
    else:
        peer = core.find_client(target)
        if peer is None:
            raise IRCError(n.ERR_NOSUCHNICK, target, "No such nick/channel")
        recipients = [peer]
        params = (peer.name, *params[1:])
        key = private_key(casefold(client.name), casefold(peer.name))
        if command == "PRIVMSG" and peer.away is not None:
            core.reply(client, n.RPL_AWAY, peer.name, peer.away)
        if core.relayed is not None:  # that it passed, never its text
            core.relayed.append((client.name, peer.name, None))
    out = Message(command, params, client.prefix)
    msgid, time_ms = core.stamp()
    tags = core.tags_for(msgid, time_ms, client_tags)
    echo = "echo-message" in client.caps
    stored = command != "TAGMSG" or not STORED_TAGMSG_TAGS.isdisjoint(client_tags)
    if room is not None and command != "TAGMSG" and client in room.members:
        core.broadcast(room, client, out, tags, echo=echo)
        core.record(key, out, msgid, time_ms, client_tags)
        return
    if room is not None:
        recipients = [m for m in room.members if m is not client]
    if command == "TAGMSG":  # only for clients that understand tags
        recipients = [m for m in recipients if "message-tags" in m.caps]
    if echo and client not in recipients:  # a message to oneself comes once
        recipients.append(client)
    core.deliver(recipients, out, tags)
    if stored:
        core.record(key, out, msgid, time_ms, client_tags)


def deliver_to_status(
    core: ChatCore,
    client: Client,
    command: str,
    target: str,
    text: str,
    *,
    client_tags: dict[str, str],
) -> None:
    """Sends `text` to `@#room` (its operators) or `+#room` (voiced and operators).

    Modern IRC's STATUSMSG: a PRIVMSG or NOTICE to a room with a membership
    prefix reaches those people on the room with that status (or higher).
    It is not stored: a room's history is read by every member, and this
    was for some of them only.
    """
    status, channel = target[0], core.find_channel(target[1:])
    if channel is None:
        raise IRCError(n.ERR_NOSUCHCHANNEL, target, "No such channel")
    check_can_send(channel, client)
    has_status = channel.is_op if status == "@" else channel.is_voiced
    recipients = [m for m in channel.members if m is not client and has_status(m)]
    if command == "TAGMSG":
        recipients = [m for m in recipients if "message-tags" in m.caps]
    if "echo-message" in client.caps:
        recipients.append(client)
    params = (status + channel.name,) if command == "TAGMSG" else (status + channel.name, text)
    msgid, time_ms = core.stamp()
    core.deliver(
        recipients,
        Message(command, params, client.prefix),
        core.tags_for(msgid, time_ms, client_tags),
    )


def relayed_bytes(source: str, command: str, params: tuple[str, ...]) -> int:
    """The length of `:source COMMAND params...` as the formatter writes it (no tags).

    Counted, not formatted: the message is encoded once, by the shell. The
    last parameter gets a ':' where the formatter puts one (`trailing_colon`).
    """
    *middle, last = params
    colon = trailing_colon(command, len(middle), last)
    head = f":{source} {command} {' '.join(middle)} " if middle else f":{source} {command} "
    return len(head.encode()) + colon + len(last.encode())


def check_can_send(channel: Channel, client: Client) -> None:
    """Raises 404 unless `client` may speak in `channel` (+n, +m, +b, `m:` mutes)."""
    member = client in channel.members
    if "n" in channel.modes and not member:
        raise IRCError(n.ERR_CANNOTSENDTOCHAN, channel.name, "Cannot send to channel (+n)")
    if "m" in channel.modes and not channel.is_voiced(client):
        raise IRCError(n.ERR_CANNOTSENDTOCHAN, channel.name, "Cannot send to channel (+m)")
    if channel.is_banned(client) and not channel.is_voiced(client):
        raise IRCError(n.ERR_CANNOTSENDTOCHAN, channel.name, "Cannot send to channel (+b)")
    if channel.is_muted(client) and not channel.is_voiced(client):
        raise IRCError(n.ERR_CANNOTSENDTOCHAN, channel.name, "Cannot send to channel (muted)")


def fit_bytes(text: str, max_bytes: int) -> str:
    """`text` cut to at most `max_bytes` of UTF-8, never inside a character."""
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode(errors="ignore")


def handle_away(core: ChatCore, client: Client, msg: Message) -> None:
    """AWAY [<text>]: with text marks the client away, without clears it.

    The text is kept to AWAYLEN bytes, so that RPL_AWAY always fits a line.
    IRCv3 away-notify: everyone who shares a room with the client and has
    the capability is sent `AWAY :<text>` when it goes away and a bare
    `AWAY` when it is back; a repeat of the same state tells nobody.
    """
    before = client.away
    if msg.params and msg.params[0]:
        client.away = fit_bytes(msg.params[0], limits.AWAYLEN)
        core.reply(client, n.RPL_NOWAWAY, "You have been marked as being away")
    else:
        client.away = None
        core.reply(client, n.RPL_UNAWAY, "You are no longer marked as being away")
    if client.away != before:
        tell_away(
            core,
            client,
            core.neighbours(client) | set(monitor.extended(core, client, "away-notify")),
        )


def tell_away(core: ChatCore, client: Client, peers: Iterable[Client]) -> None:
    """Sends `client`'s away state to the away-notify clients among `peers`."""
    watchers = [peer for peer in peers if "away-notify" in peer.caps and peer is not client]
    if watchers:
        params = (client.away,) if client.away is not None else ()
        core.send_many(watchers, Message("AWAY", params, client.prefix))
