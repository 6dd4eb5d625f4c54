"""Provides CHGHOST: a server operator changes the user and host a client is shown with.

IRCv3 chghost tells those who share a room with the client (and the client)
with `CHGHOST <user> <host>`; clients without the capability get the spec's
fallback, a QUIT and a JOIN of each shared room with the member's modes, so
their idea of the client's mask stays right. The connection's address
(`Client.host`) does not change: the per-IP limits, throttles, K-lines and
bans on the address still hold it.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from easychat.chat import config as limits
from easychat.chat.errors import IRCError
from easychat.chat.handlers.oper import is_oper
from easychat.proto import numerics as n
from easychat.proto.message import Message

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

log = logging.getLogger("easychat.chat")

CAP = "chghost"

# A host shown in place of the address: DNS-like labels (letters, digits,
# `-`, `.`, `:` and `/` as cloaks use), at most 63 bytes, as ergo allows.
HOSTLEN = 63
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:/-]*\Z")
_USER = re.compile(r"~?[A-Za-z0-9_.-]+\Z")


def handle_chghost(core: ChatCore, client: Client, msg: Message) -> None:
    """CHGHOST <nick> <user> <host> (server operators): the mask `nick` is shown with."""
    if not is_oper(client):
        raise IRCError(n.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator")
    nick, user, host = msg.params[0], msg.params[1], msg.params[2]
    target = core.find_client(nick)
    if target is None:
        raise IRCError(n.ERR_NOSUCHNICK, nick, "No such nick")
    if len(user) > limits.USERLEN or not _USER.match(user):
        core.fail(client, "CHGHOST", "INVALID_USERNAME", user, "Invalid username")
        return
    if len(host) > HOSTLEN or not _HOST.match(host):
        core.fail(client, "CHGHOST", "INVALID_HOSTNAME", host, "Invalid hostname")
        return
    change_host(core, target, user, host)
    log.warning("oper %s (%s): %s is now shown as %s", client.oper_name, client.nick, nick, host)
    text = f"{target.name} is now {target.prefix}"
    core.send(client, Message("NOTICE", (client.name, text), core.config.server_name))


def change_host(core: ChatCore, client: Client, user: str, host: str) -> None:
    """Shows `client` as `user@host` from now on, and tells who shares a room with it."""
    old = client.prefix
    client.user = user
    client.shown_host = None if host == client.host else host
    if client.prefix == old:
        return
    peers = core.neighbours(client)
    capable = [peer for peer in (client, *peers) if CAP in peer.caps]
    core.send_many(capable, Message("CHGHOST", (user, client.visible_host), old))
    others = [peer for peer in peers if CAP not in peer.caps]
    if not others:
        return
    # "the simulated events SHOULD include appropriate QUIT, JOIN and MODE
    # commands, to restore membership and user channel modes."
    core.send_many(others, Message("QUIT", ("Changing hostname",), old))
    for channel in client.channels.values():
        there = [peer for peer in others if peer in channel.members]
        if not there:
            continue
        core.deliver(there, Message("JOIN", (channel.name,), client.prefix), {})
        modes = "".join(sorted(channel.members[client], key="ov".index))
        if modes:
            params = (channel.name, "+" + modes, *([client.name] * len(modes)))
            core.send_many(there, Message("MODE", params, core.config.server_name))
