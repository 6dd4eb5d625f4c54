"""Provides the fast path for the commonest line: PRIVMSG or NOTICE to one target.

`PRIVMSG <target> :<text>` from a registered client, without tags, to a room
it is in or to a nick, is most of what a chat server ever handles. Here it is
relayed from its bytes: no Message is parsed or built, each capability class
gets its wire line built once from the received bytes (by the byte-level
builders of proto/message.py, beside the formatter), and the history row
is that same line. Anything else (tags, several targets, a refused or
throttled line, an away peer, a line that is not UTF-8...) is left to the
general path, before anything was changed or queued, so the general path
answers it exactly as it would have anyway.

The output is the general path's byte for byte: tests/test_fastpath.py runs
the same lines through both and compares every byte sent and stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from easychat.chat.actions import SendBytes
from easychat.chat.delivery import CapsClass, caps_class
from easychat.chat.errors import IRCError
from easychat.chat.handlers.messaging import check_can_send
from easychat.chat.history import private_key
from easychat.chat.protection import flood
from easychat.proto.limits import MAX_LINE_BYTES
from easychat.proto.message import escape_tag_value, relay_bytes, tagged_bytes
from easychat.proto.names import CHANTYPES, casefold
from easychat.proto.servertime import format_time

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Channel, Client

_COLON = ord(":")
_SPACE = ord(" ")
_COMMA = ord(",")


def relay_line(core: ChatCore, client: Client, line: bytes) -> bool:
    """Relays `line` if it is a plain PRIVMSG or NOTICE to one target.

    Returns False, having changed nothing, when the general path must
    handle the line instead.
    """
    return relay_run(core, client, (line,), 0) == 1


def relay_run(core: ChatCore, client: Client, lines: Sequence[object], start: int) -> int:
    """Relays `lines[start]` and the plain lines after it with the same head.

    Returns the index of the first line not relayed: `start` when that one
    is the general path's, having changed nothing. A client flooding a room
    sends many lines with the same `PRIVMSG #room :` head in one read; the
    target, the permission to speak there and the audience are looked up
    once for the run, and a run to one audience leaves as one chunk. Every
    check that depends on the line itself (its text, its length, flood
    control) is made for each, and nothing a relayed line does changes the
    next one's outcome, so the result is that of relaying line by line.
    """
    first = lines[start]
    if not isinstance(first, bytes):
        return start
    route = _route(core, client, first)
    if route is None:
        return start
    head = route.head
    size = len(head)
    end, count = start, len(lines)
    while end < count:
        line = lines[end]
        if not isinstance(line, bytes) or not line.startswith(head):
            break
        if not _relay(core, client, route, line[size:]):
            break
        end += 1
    if end > start:
        if route.chunk:
            core._out.append(SendBytes(route.ids, b"".join(route.chunk), route.exclude))
        client.last_spoke = core.clock()
    return end


class _Route:
    """Where the lines with one head go: what `relay_run` looks up once per run."""

    __slots__ = (
        "account",
        "body_head",
        "channel",
        "chunk",
        "command",
        "common",
        "echo",
        "exclude",
        "head",
        "ids",
        "key",
        "peer",
        "shown",
    )

    def __init__(self, client: Client, head: bytes, command: str, body_head: bytes) -> None:
        self.head = head  # `PRIVMSG #room :` as received
        self.command = command
        self.body_head = body_head  # `:nick!user@host PRIVMSG #Room :` as relayed
        self.key = ""  # the history key
        self.shown = ""  # the target as the console shows it
        self.channel: Channel | None = None
        self.peer: Client | None = None
        self.echo = "echo-message" in client.caps
        self.account: str | None = None
        # When every line goes to the same connections with the same tags:
        # those ids, the exclusion and the class; the wire lines are then
        # gathered in `chunk` and leave as one SendBytes.
        self.ids: tuple[int, ...] = ()
        self.exclude: int | None = None
        self.common: CapsClass | None = None
        self.chunk: list[bytes] = []


def _route(core: ChatCore, client: Client, line: bytes) -> _Route | None:
    """The route of a plain line to one target, or None for the general path."""
    if line.startswith(b"PRIVMSG "):
        command, rest = "PRIVMSG", line[8:]
    elif line.startswith(b"NOTICE "):
        command, rest = "NOTICE", line[7:]
    else:
        return None
    if not client.registered or "B" in client.modes:  # a bot's lines carry a tag
        return None
    name, sep, text = rest.partition(b" :")
    # One target (no list, no spaces, not itself a trailing parameter) and
    # some text (checked with each line, in `_relay`).
    if not sep or not name or not text or name[0] == _COLON:
        return None
    # Byte values, not one-byte strings: `int in bytes` is a memchr, about
    # eight times faster than a substring search here.
    if _SPACE in name or _COMMA in name:
        return None
    try:
        target = name.decode()
    except UnicodeDecodeError:
        return None
    folded = casefold(target)
    channel = peer = None
    if target[0] in CHANTYPES:
        channel = core.channels.get(folded)
        if channel is None or client not in channel.members or "C" in channel.modes:
            return None  # +C: the general path looks at each line for CTCP
        try:
            check_can_send(channel, client)
        except IRCError:
            return None
        canonical = channel.name
    else:
        peer = core.nicks.get(folded)
        if peer is None or not peer.registered:
            return None
        if command == "PRIVMSG" and peer.away is not None:
            return None  # the general path adds RPL_AWAY
        canonical = peer.name
    if canonical != target:
        name = canonical.encode()
    head = line[: len(line) - len(text)]
    body_head = relay_bytes(client.prefix.encode(), head[: len(command)], name, b"")
    route = _Route(client, head, command, body_head)
    route.shown = canonical
    route.account = client.account if core.has_accounts else None
    if channel is not None:
        route.channel = channel
        route.key = folded
        route.ids, route.common = core.audience(channel)
        route.exclude = None if route.echo else client.id
    else:
        assert peer is not None
        route.peer = peer
        route.key = private_key(casefold(client.name), folded)
        if not route.echo or peer is client:
            route.ids, route.common = peer.ids, caps_class(peer)
    return route


def _relay(core: ChatCore, client: Client, route: _Route, text: bytes) -> bool:
    """Relays one line's text on its route; False, having changed nothing, if it may not go."""
    # NUL and empty text are refused by the general path.
    if not text or 0 in text:
        return False
    try:
        text.decode()
    except UnicodeDecodeError:
        return False
    body = route.body_head + text
    if len(body) > MAX_LINE_BYTES - 2:
        return False  # the general path refuses it with 417
    if not flood.admit_chat_now(core, client):
        return False
    msgid, time_ms = core.stamp()
    common = route.common
    if common is not None:
        route.chunk.append(_tagged(common, body, msgid, time_ms, route.account))
    elif route.channel is not None:
        echo = route.echo
        recipients = [m for m in route.channel.members if echo or m is not client]
        _deliver(core, recipients, body, msgid=msgid, time_ms=time_ms, account=route.account)
    else:
        assert route.peer is not None
        _deliver(
            core, [route.peer, client], body, msgid=msgid, time_ms=time_ms, account=route.account
        )
    if core.relayed is not None:
        # That a private message passed, never its text.
        core.relayed.append((client.name, route.shown, text if route.peer is None else None))
    core.record_line(route.key, route.command, body.decode(), msgid, time_ms)
    return True


def _deliver(
    core: ChatCore,
    recipients: list[Client],
    body: bytes,
    *,
    msgid: str,
    time_ms: int,
    account: str | None,
) -> None:
    """One SendBytes per capability class among `recipients`."""
    groups: dict[CapsClass, list[int]] = {}
    for client in recipients:
        groups.setdefault(caps_class(client), []).append(client.id)
    for key, ids in groups.items():
        core._out.append(SendBytes(tuple(ids), _tagged(key, body, msgid, time_ms, account)))


def _tagged(key: CapsClass, body: bytes, msgid: str, time_ms: int, account: str | None) -> bytes:
    """The wire line one capability class gets: tags as `Delivery._variant` picks them."""
    with_time, with_tags, with_account, _ = key
    tags: list[str] = []
    if with_time:
        tags.append(f"time={format_time(time_ms)}")
    if with_tags:
        tags.append(f"msgid={msgid}")
    if with_account and account is not None:
        tags.append(f"account={escape_tag_value(account)}")
    return tagged_bytes(tags, body)
