"""Provides CHATHISTORY (IRCv3 draft/chathistory) and the history replay on JOIN."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from easychat.chat.handlers import multiline
from easychat.chat.history import Record, Selector, private_key
from easychat.proto.message import Message
from easychat.proto.names import casefold, is_channel
from easychat.proto.servertime import format_time, parse_time

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Channel, Client

SUBCOMMANDS = ("LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", "TARGETS")


class HistoryError(Exception):
    """A refused CHATHISTORY request: becomes `FAIL CHATHISTORY <code> ...`."""

    def __init__(self, code: str, *context: str) -> None:
        super().__init__(code, *context)
        self.code = code
        self.context = context


def handle_chathistory(core: ChatCore, client: Client, msg: Message) -> None:
    """CHATHISTORY <subcommand> <target> <selector> [<selector>] <limit>.

    "If the client does not have access to the target, the server MUST
    respond with FAIL CHATHISTORY INVALID_TARGET": a room's history is for its
    current members, a private conversation's for its two people.
    """
    sub = msg.params[0].upper() if msg.params else ""
    try:
        if core.history is None:
            raise HistoryError("UNKNOWN_COMMAND", sub or "*", "History is not kept on this server")
        if sub not in SUBCOMMANDS:
            raise HistoryError("INVALID_PARAMS", sub or "*", "Unknown subcommand")
        if sub == "TARGETS":
            send_targets(core, client, msg.params[1:])
            return
        target, key = access(core, client, msg.params, sub)
        records = query(core, client, sub, key, msg.params[2:])
    except HistoryError as err:
        core.fail(client, "CHATHISTORY", err.code, *err.context)
        return
    # What a client may not read is, for it, not there: the pages it gets
    # end where its access starts, and paging stops there.
    if not is_channel(target) and not owns_nick(core, client):
        records = [r for r in records if core.stamped_since(r.msgid, client.first_seq)]
    send_batch(core, client, target, records)


def owns_nick(core: ChatCore, client: Client) -> bool:
    """Whether `client` is logged in to the account that owns its nick.

    Private history is kept under the two nicks. Such a client reads all of
    its private conversations; any other client only what was said since it
    connected, so whoever takes a nick after someone else freed it does not
    get their conversations ("the server MUST verify the current user's
    identity matches that of the desired content"). A Unix socket peer owns
    the nick that is its login (reserved to it alone, see chat/identity/unixusers.py).
    """
    if client.unix_user is not None and client.nick is not None:
        return casefold(client.nick) == casefold(client.unix_user)
    if core.accounts is None or client.account is None or client.nick is None:
        return False
    owner = core.accounts.get(casefold(client.nick))
    return owner is not None and casefold(owner.name) == casefold(client.account)


def access(core: ChatCore, client: Client, params: Sequence[str], sub: str) -> tuple[str, str]:
    """The target as shown and its history key, if `client` may read it."""
    if len(params) < 2:
        raise HistoryError("INVALID_PARAMS", sub, "Missing target")
    target = params[1]
    if is_channel(target):
        channel = core.find_channel(target)
        if channel is None or client not in channel.members:
            raise HistoryError("INVALID_TARGET", sub, target, "You are not in that room")
        return channel.name, channel.folded
    if target == "*" or not target:
        raise HistoryError("INVALID_TARGET", sub, target or "*", "Invalid target")
    return target, private_key(casefold(client.name), casefold(target))


def selector(text: str, sub: str) -> Selector:
    """`msgid=...` or `timestamp=...`."""
    kind, _, value = text.partition("=")
    if kind == "msgid" and value:
        return Selector(msgid=value)
    if kind == "timestamp" and value:
        try:
            return Selector(time_ms=parse_time(value))
        except ValueError:
            pass
    raise HistoryError("INVALID_PARAMS", sub, text, "Invalid message reference")


def page_limit(core: ChatCore, text: str, sub: str) -> int:
    """The requested limit, at most the advertised CHATHISTORY value."""
    if not text.isdigit() or int(text) < 1:
        raise HistoryError("INVALID_PARAMS", sub, text, "Invalid limit")
    return min(int(text), core.config.history_page)


def query(core: ChatCore, client: Client, sub: str, key: str, args: Sequence[str]) -> list[Record]:
    """Runs one subcommand against the store."""
    history = core.read_history()
    assert history is not None
    only = "draft/event-playback" not in client.caps
    wanted = 3 if sub == "BETWEEN" else 2
    if len(args) < wanted:
        raise HistoryError("INVALID_PARAMS", sub, "Missing parameters")
    limit = page_limit(core, args[-1], sub)
    if sub == "LATEST":
        after = None if args[0] == "*" else selector(args[0], sub)
        return history.latest(key, limit, after, messages_only=only)
    point = selector(args[0], sub)
    if sub == "BEFORE":
        return history.before(key, point, limit, messages_only=only)
    if sub == "AFTER":
        return history.after(key, point, limit, messages_only=only)
    if sub == "AROUND":
        return history.around(key, point, limit, messages_only=only)
    return history.between(key, point, selector(args[1], sub), limit, messages_only=only)


def send_batch(core: ChatCore, client: Client, target: str, records: list[Record]) -> None:
    """The records as a `chathistory` batch (plain lines without `batch`)."""
    batched = "batch" in client.caps
    ref = core.new_batch()
    server = core.config.server_name
    if batched:
        core.send(client, Message("BATCH", (f"+{ref}", "chathistory", target), server))
    tagged = "message-tags" in client.caps
    for stored in records:
        if stored.message.command == "TAGMSG" and not tagged:
            continue  # TAGMSG is only ever sent to clients with message-tags
        named = as_named(stored.message, target)
        record = stored if named is stored.message else replace(stored, message=named)
        if multiline.replay(core, client, record, ref if batched else None):
            continue  # a multiline message: nested in this batch, or its lines
        tags = core.tags_for(record.msgid, record.time_ms, record.tags)
        if batched:
            tags["batch"] = ref
        core.deliver([client], record.message, tags)
    if batched:
        core.send(client, Message("BATCH", (f"-{ref}",), server))


def as_named(msg: Message, target: str) -> Message:
    """`msg` naming its room `target`: a room's records keep the name they were
    said under, and a renamed room (RENAME) replays them under its current one."""
    if msg.params and msg.params[0] != target and is_channel(msg.params[0]) and is_channel(target):
        return Message(msg.command, (target, *msg.params[1:]), msg.source, msg.tags)
    return msg


def send_targets(core: ChatCore, client: Client, args: Sequence[str]) -> None:
    """CHATHISTORY TARGETS <timestamp> <timestamp> <limit>.

    Lists the rooms the client is in and the people it talked with that have
    messages in the range, each with the time of its latest message.
    """
    history = core.read_history()
    assert history is not None
    if len(args) < 3:
        raise HistoryError("INVALID_PARAMS", "TARGETS", "Missing parameters")
    start, end = selector(args[0], "TARGETS"), selector(args[1], "TARGETS")
    if start.time_ms is None or end.time_ms is None:
        raise HistoryError("INVALID_PARAMS", "TARGETS", "TARGETS takes timestamps")
    limit = page_limit(core, args[2], "TARGETS")
    me = casefold(client.name)
    names = {channel.folded: channel.name for channel in client.channels.values()}
    rooms = list(names)
    private = history.private_keys(me)
    for key in private:
        first, _, second = key.partition("\0")
        names[key] = second if first == me else first
    # Private conversations count only from where the client may read them
    # (see owns_nick): from the millisecond it connected; the range is
    # exclusive, hence the - 1.
    low, high = sorted((start.time_ms, end.time_ms))
    low_private = low if owns_nick(core, client) else max(low, int(client.connected_at * 1000) - 1)
    found = sorted(
        history.targets(rooms, low, high, limit)
        + history.targets(private, low_private, high, limit),
        key=lambda pair: pair[1],
    )[:limit]
    server = core.config.server_name
    batched = "batch" in client.caps
    ref = core.new_batch()
    if batched:
        core.send(client, Message("BATCH", (f"+{ref}", "draft/chathistory-targets"), server))
    for key, latest in found:
        params = ("TARGETS", names[key], format_time(latest))
        tags = {"batch": ref} if batched else {}
        core.send(client, Message("CHATHISTORY", params, server, tags))
    if batched:
        core.send(client, Message("BATCH", (f"-{ref}",), server))


def replay_on_join(core: ChatCore, client: Client, channel: Channel) -> None:
    """Recent lines of a room for a client that cannot ask for them.

    With `batch` and `server-time` they come as a `chathistory` batch with
    their original times; otherwise as server NOTICEs that say when each
    line was written, so nobody mistakes them for live messages.
    """
    history = core.read_history()
    lines = core.config.replay_lines
    if history is None or lines <= 0 or "draft/chathistory" in client.caps:
        return
    records = history.latest(channel.folded, lines, messages_only=True)
    if not records:
        return
    if "batch" in client.caps and "server-time" in client.caps:
        send_batch(core, client, channel.name, records)
        return
    server = core.config.server_name
    for record in records:
        msg = record.message
        if msg.command == "TAGMSG" or len(msg.params) < 2:
            continue
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(record.time_ms / 1000))
        for line in multiline.fallback_texts(record):
            text = f"[{when} UTC] {_as_read(msg.nick, line)}"
            core.send(client, Message("NOTICE", (channel.name, text), server))


def _as_read(nick: str | None, text: str) -> str:
    """A replayed line as people read it: `<nick> text`, or `* nick does` for a /me."""
    if text.startswith("\x01ACTION") and text[7:8] in (" ", "\x01", ""):
        action = text[8:].removesuffix("\x01")
        return f"* {nick} {action}" if action else f"* {nick}"
    return f"<{nick}> {text}"
