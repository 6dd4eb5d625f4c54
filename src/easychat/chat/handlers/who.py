"""Provides WHO and its IRCv3 WHOX extension (`WHO <mask> %<fields>[,<token>]`)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from easychat.chat.handlers.channels import visible
from easychat.proto import numerics as n
from easychat.proto.names import is_channel, mask_matches

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Channel, Client
    from easychat.proto.message import Message

# The WHOX fields, in the order the spec says RPL_WHOSPCRPL sends them,
# whatever order the client asked for them in.
WHOX_FIELDS = "tcuihsnfdlaor"

# "The token MUST contain only digit characters and MUST contain at most 3
# characters": a longer or non-numeric one is not echoed.
WHOX_TOKEN_MAX = 3

# The spec's placeholders: "255.255.255.255 is used for [ip] when the server
# refuses to disclose the IP address" (here: a Unix socket peer has none) and
# "0 is used for [account] when the user is logged out".
NO_IP = "255.255.255.255"
NO_ACCOUNT = "0"

# WHOX `o`, the channel op level: this server has no op levels (ircu's `n/a`).
NO_OPLEVEL = "n/a"


@dataclass(frozen=True, slots=True)
class Whox:
    """A WHOX request: the fields asked for (in the spec's order) and the token."""

    fields: str
    token: str


def handle_who(core: ChatCore, client: Client, msg: Message) -> None:
    """WHO <mask> [%<fields>[,<token>]]: a channel's members, or the users whose nick matches.

    "Visible users are users who either aren't invisible (user mode +i) or
    have a common channel with the requesting client." A channel's +i
    members are listed only to the channel's own members. With a second
    parameter starting with `%`, the replies are WHOX RPL_WHOSPCRPL (354):
    "Servers MUST NOT send RPL_WHOREPLY replies."
    """
    mask = msg.params[0]
    whox = parse_whox(msg.params[1]) if len(msg.params) > 1 else None
    for other, channel in who_matches(core, client, mask):
        if whox is None:
            who_reply(core, client, other, channel)
        else:
            whox_reply(core, client, other, channel, whox)
    core.reply(client, n.RPL_ENDOFWHO, mask, "End of WHO list")


def who_matches(core: ChatCore, client: Client, mask: str) -> list[tuple[Client, Channel | None]]:
    """Who `client` may see answering `mask`, with the channel to show them in."""
    if is_channel(mask):
        channel = core.find_channel(mask)
        if channel is None or not visible(channel, client):
            return []
        joined = client in channel.members
        return [(m, channel) for m in channel.members if joined or "i" not in m.modes]
    pattern = "*" if mask == "0" else mask  # RFC 1459: "0" matches everyone
    peers = core.neighbours(client) | {client}
    return [
        (other, None)
        for other in core.clients.values()
        if other.registered
        and mask_matches(pattern, other.name)
        and ("i" not in other.modes or other in peers)
    ]


def who_flags(client: Client, other: Client, channel: Channel | None) -> str:
    """`H` (here) or `G` (gone), `*` for an IRC operator, then the channel prefix.

    Modern IRC RPL_WHOREPLY: "<flags> contains the following characters, in
    this order: Away status ... Optionally, a literal asterisk character
    ('*', 0x2A) to indicate that the user is a server operator. Optionally,
    the highest channel membership prefix"; with multi-prefix, every prefix
    (see `Channel.shown_prefix`).
    """
    flags = "G" if other.away is not None else "H"
    if "o" in other.modes:
        flags += "*"
    if channel is not None:
        flags += channel.shown_prefix(other, client)
    if "B" in other.modes:  # bot mode: its mode char among the user modes shown
        flags += "B"
    return flags


def who_reply(core: ChatCore, client: Client, other: Client, channel: Channel | None) -> None:
    """One RPL_WHOREPLY line."""
    core.reply(
        client,
        n.RPL_WHOREPLY,
        channel.name if channel is not None else "*",
        other.user or "*",
        other.visible_host,
        core.config.server_name,
        other.name,
        who_flags(client, other, channel),
        f"0 {other.realname}",
    )


def parse_whox(arg: str) -> Whox | None:
    """`%<fields>[,<token>]` as a request; None when `arg` is not WHOX.

    Unknown fields are dropped: "Servers MUST ignore any non-standard field
    they don't support."
    """
    if not arg.startswith("%"):
        return None
    letters, _, token = arg[1:].partition(",")
    fields = "".join(field for field in WHOX_FIELDS if field in letters)
    if not (token.isdigit() and len(token) <= WHOX_TOKEN_MAX):
        token = "0"
    return Whox(fields, token)


def whox_reply(
    core: ChatCore, client: Client, other: Client, channel: Channel | None, whox: Whox
) -> None:
    """One RPL_WHOSPCRPL line with exactly the requested `fields`, in spec order.

    "Servers MUST send the fields in the order specified above. Servers MUST
    include in their reply all of the standard fields requested by the
    client, and MUST NOT add any additional field not requested by the client."
    """
    idle = max(0, int(core.clock() - (other.last_spoke or other.connected_at)))
    values = {
        "t": whox.token,
        "c": channel.name if channel is not None else "*",
        "u": other.user or "*",
        "i": other.host if _is_ip(other.host) and not other.shown_host else NO_IP,
        "h": other.visible_host,
        "s": core.config.server_name,
        "n": other.name,
        "f": who_flags(client, other, channel),
        "d": "0",  # hops: one server
        "l": str(idle),
        "a": other.account or NO_ACCOUNT,
        "o": NO_OPLEVEL,
        "r": other.realname,
    }
    core.reply(client, n.RPL_WHOSPCRPL, *(values[field] for field in whox.fields))


def _is_ip(host: str) -> bool:
    """Whether `host` is an IP address (`0::1` too: the core's form of `::1`)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
