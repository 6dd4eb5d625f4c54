"""Provides MARKREAD (IRCv3 draft/read-marker): setting, querying and syncing read markers."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from easychat.chat.readmarkers import MarkerStoreError, TooManyMarkersError
from easychat.proto.message import Message
from easychat.proto.names import casefold, valid_channel, valid_nick
from easychat.proto.servertime import format_time, parse_time

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Channel, Client

log = logging.getLogger("easychat.chat")

CAP = "draft/read-marker"

# Offered with history, as the spec is "intended for bouncers or servers
# providing chat history" (the times it marks are those of history). Markers
# are kept per account (in the --db file) and per connection for clients
# that are not logged in.
READ_MARKER_CAPS: dict[str, str] = {CAP: ""}

# The spec's only form: `timestamp=YYYY-MM-DDThh:mm:ss.sssZ`, as server-time.
_TIMESTAMP = re.compile(r"timestamp=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")


def handle_markread(core: ChatCore, client: Client, msg: Message) -> None:
    """MARKREAD <target> [timestamp=<time>]: sets (with a time) or asks for a read marker.

    read-marker: "The server MUST reply to a successful MARKREAD client set
    command using a MARKREAD server command, or using an error message. If
    the provided timestamp is older than the server's stored value, the
    server MUST reply to the client with a MARKREAD command carrying the
    server's stored value."
    """
    if not msg.params or not msg.params[0]:
        core.fail(client, "MARKREAD", "NEED_MORE_PARAMS", "Missing parameters")
        return
    target = msg.params[0]
    if not (
        valid_channel(target, core.config.channellen) or valid_nick(target, core.config.nicklen)
    ):
        core.fail(client, "MARKREAD", "INVALID_PARAMS", target, "Invalid target")
        return
    target = _display_name(core, target)
    if len(msg.params) < 2:
        _reply(core, client, target)
        return
    match = _TIMESTAMP.fullmatch(msg.params[1])
    try:
        wanted = parse_time(match.group(1)) if match is not None else None
    except ValueError:
        wanted = None
    if wanted is None:
        core.fail(client, "MARKREAD", "INVALID_PARAMS", msg.params[1], "Invalid timestamp")
        return
    # Implementation considerations: "clamp it between the last read
    # timestamp and the current time", so a marker in the future cannot
    # hide the messages still to come.
    wanted = min(wanted, max(int(core.clock() * 1000), core._last_ms))
    try:
        moved = core.read_markers.advance(client, target, wanted)
    except TooManyMarkersError:
        core.fail(client, "MARKREAD", "INTERNAL_ERROR", target, "Too many read markers")
        return
    except MarkerStoreError as exc:
        log.error("read marker of %s on %s not stored: %s", client.name, target, exc)
        text = "The read timestamp could not be set"
        core.fail(client, "MARKREAD", "INTERNAL_ERROR", target, text)
        return
    if not moved:
        # "the server SHOULD reply with a MARKREAD command with the newer,
        # previous value that was stored and ignore the client timestamp."
        _reply(core, client, target)
        return
    # "after the last read timestamp of a target changes, the server SHOULD
    # send a MARKREAD command for that target to all the clients of the user."
    update = marker_message(core, target, wanted)
    core.send_many(_devices(core, client), update)


def send_on_join(core: ChatCore, client: Client, channel: Channel) -> None:
    """The joiner's marker on `channel`, when it has the capability.

    read-marker: "after the server sends a server JOIN command to the client
    for a corresponding channel, the server MUST send a MARKREAD command for
    that channel. The command MUST be sent before the RPL_ENDOFNAMES reply
    for that channel following the JOIN."
    """
    if CAP in client.caps:
        _reply(core, client, channel.name)


def marker_message(core: ChatCore, target: str, time_ms: int | None) -> Message:
    """`MARKREAD <target> timestamp=<time>`, or `*` when there is no marker."""
    stamp = "*" if time_ms is None else f"timestamp={format_time(time_ms)}"
    return Message("MARKREAD", (target, stamp), core.config.server_name)


def _reply(core: ChatCore, client: Client, target: str) -> None:
    """Tells `client` its marker on `target` (`*` when none is known)."""
    try:
        current = core.read_markers.get(client, target)
    except MarkerStoreError as exc:
        log.error("read marker of %s on %s not read: %s", client.name, target, exc)
        core.fail(
            client, "MARKREAD", "INTERNAL_ERROR", target, "The read timestamp could not be read"
        )
        return
    core.send(client, marker_message(core, target, current))


def _display_name(core: ChatCore, target: str) -> str:
    """A room's own spelling when it exists, else the target as given."""
    channel = core.find_channel(target) if valid_channel(target, core.config.channellen) else None
    return channel.name if channel is not None else target


def _devices(core: ChatCore, client: Client) -> list[Client]:
    """Who is told of a change: `client`, and its account's other connections with the cap."""
    if client.account is None:
        return [client]
    account = casefold(client.account)
    others = [
        other
        for other in core.clients.values()
        if other is not client
        and other.registered
        and CAP in other.caps
        and other.account is not None
        and casefold(other.account) == account
    ]
    return [client, *others]
