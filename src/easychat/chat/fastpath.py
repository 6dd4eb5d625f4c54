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
    from easychat.chat.state import Client

_COLON = ord(":")
_SPACE = ord(" ")
_COMMA = ord(",")


def relay_line(core: ChatCore, client: Client, line: bytes) -> bool:
    """Relays `line` if it is a plain PRIVMSG or NOTICE to one target.

    Returns False, having changed nothing, when the general path must
    handle the line instead.
    """
    if line.startswith(b"PRIVMSG "):
        command, rest = "PRIVMSG", line[8:]
    elif line.startswith(b"NOTICE "):
        command, rest = "NOTICE", line[7:]
    else:
        return False
    if not client.registered:
        return False
    name, sep, text = rest.partition(b" :")
    # One target (no list, no spaces, not itself a trailing parameter) and
    # some text; NUL is refused by the general path.
    if not sep or not name or not text or name[0] == _COLON:
        return False
    # Byte values, not one-byte strings: `int in bytes` is a memchr, about
    # eight times faster than a substring search here.
    if _SPACE in name or _COMMA in name or 0 in text:
        return False
    try:
        target = name.decode()
        text.decode()
    except UnicodeDecodeError:
        return False
    if target[0] in CHANTYPES:
        channel = core.channels.get(casefold(target))
        if channel is None or client not in channel.members:
            return False
        try:
            check_can_send(channel, client)
        except IRCError:
            return False
        canonical = channel.name
        key = channel.folded
        peer = None
    else:
        folded = casefold(target)
        peer = core.nicks.get(folded)
        if peer is None or not peer.registered:
            return False
        if command == "PRIVMSG" and peer.away is not None:
            return False  # the general path adds RPL_AWAY
        canonical = peer.name
        key = private_key(casefold(client.name), folded)
        channel = None
    if canonical != target:
        name = canonical.encode()
    body = relay_bytes(client.prefix.encode(), line[: len(command)], name, text)
    if len(body) > MAX_LINE_BYTES - 2:
        return False  # the general path refuses it with 417
    if not flood.admit_chat_now(core, client):
        return False
    msgid, time_ms = core.stamp()
    account = client.account if core.has_accounts else None
    echo = "echo-message" in client.caps
    out = core._out
    if channel is not None:
        if core.relayed is not None:
            core.relayed.append((client.name, canonical, text))
        ids, common = core.audience(channel)
        if common is not None:
            data = _tagged(common, body, msgid, time_ms, account)
            out.append(SendBytes(ids, data, None if echo else client.id))
        else:
            recipients = [m for m in channel.members if echo or m is not client]
            _deliver(core, recipients, body, msgid=msgid, time_ms=time_ms, account=account)
    else:
        assert peer is not None
        if core.relayed is not None:  # that it passed, never its text
            core.relayed.append((client.name, peer.name, None))
        if echo and peer is not client:
            _deliver(core, [peer, client], body, msgid=msgid, time_ms=time_ms, account=account)
        else:
            data = _tagged(caps_class(peer), body, msgid, time_ms, account)
            out.append(SendBytes(peer.ids, data))
    core.record_line(key, command, body.decode(), msgid, time_ms)
    client.last_spoke = core.clock()
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
