"""Provides the queries: WHOIS, WHOWAS, MOTD, LUSERS, VERSION, LINKS, INFO, TIME, ISON, USERHOST."""

from __future__ import annotations

import fnmatch
import time
from itertools import islice
from typing import TYPE_CHECKING

from easychat import __version__
from easychat.chat.errors import IRCError
from easychat.chat.handlers.channels import visible
from easychat.chat.handlers.registration import isupport_tokens, send_lusers, send_motd
from easychat.chat.nickhistory import NICK_HISTORY_SIZE
from easychat.proto import numerics as n
from easychat.proto.message import Message

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client


def handle_whois(core: ChatCore, client: Client, msg: Message) -> None:
    """WHOIS [<server>] <nick>.

    "The server SHOULD answer this command with numeric messages with
    information about the nick, ending with RPL_ENDOFWHOIS".
    """
    nick = msg.params[-1]
    other = core.find_client(nick)
    if other is None:
        core.reply(client, n.ERR_NOSUCHNICK, nick, "No such nick/channel")
        core.reply(client, n.RPL_ENDOFWHOIS, nick, "End of /WHOIS list")
        return
    core.reply(
        client,
        n.RPL_WHOISUSER,
        other.name,
        other.user or "*",
        other.visible_host,
        "*",
        other.realname,
    )
    # "the only channels that will show up in a WHOIS of an invisible user
    # will be those they share with the user that submitted the command."
    hidden = "i" in other.modes and other is not client
    rooms = [
        channel.shown_prefix(other, client) + channel.name
        for channel in other.channels.values()
        if visible(channel, client) and not (hidden and client not in channel.members)
    ]
    if rooms:
        core.reply(client, n.RPL_WHOISCHANNELS, other.name, " ".join(rooms))
    core.reply(client, n.RPL_WHOISSERVER, other.name, core.config.server_name, core.config.network)
    if "o" in other.modes:
        core.reply(client, n.RPL_WHOISOPERATOR, other.name, "is an IRC operator")
    if "B" in other.modes:
        core.reply(client, n.RPL_WHOISBOT, other.name, "is a bot")
    if other.account is not None:
        core.reply(client, n.RPL_WHOISACCOUNT, other.name, other.account, "is logged in as")
    if other.away is not None:
        core.reply(client, n.RPL_AWAY, other.name, other.away)
    now = core.clock()
    idle = int(now - (other.last_spoke or other.connected_at))
    core.reply(
        client,
        n.RPL_WHOISIDLE,
        other.name,
        str(idle),
        str(int(other.connected_at)),
        "seconds idle, signon time",
    )
    core.reply(client, n.RPL_ENDOFWHOIS, other.name, "End of /WHOIS list")


def handle_motd(core: ChatCore, client: Client, msg: Message) -> None:
    """MOTD: the message of the day."""
    send_motd(core, client)


def handle_lusers(core: ChatCore, client: Client, msg: Message) -> None:
    """LUSERS: counts of users and channels."""
    send_lusers(core, client)


def handle_version(core: ChatCore, client: Client, msg: Message) -> None:
    """VERSION: RPL_VERSION and the ISUPPORT tokens."""
    core.reply(
        client, n.RPL_VERSION, f"easychat-{__version__}", core.config.server_name, "EasyChat"
    )
    tokens = isupport_tokens(core)
    for start in range(0, len(tokens), 12):
        core.reply(
            client, n.RPL_ISUPPORT, *tokens[start : start + 12], "are supported by this server"
        )


def handle_links(core: ChatCore, client: Client, msg: Message) -> None:
    """LINKS [[<remote server>] <server mask>]: the servers of the network.

    RFC 2812: "the server will answer with a list of servers names, which
    match the mask" in RPL_LINKS (`<mask> <server> :<hopcount> <server
    info>`), then RPL_ENDOFLINKS. This network is this one server.
    """
    mask = msg.params[-1] if msg.params else "*"
    server = core.config.server_name
    if fnmatch.fnmatchcase(server.lower(), mask.lower()):
        core.reply(client, n.RPL_LINKS, server, server, f"0 {core.config.network} (EasyChat)")
    core.reply(client, n.RPL_ENDOFLINKS, mask, "End of LINKS list")


def handle_info(core: ChatCore, client: Client, msg: Message) -> None:
    """INFO: what this server is, in RPL_INFO lines, then RPL_ENDOFINFO.

    "Upon receiving an INFO command, the given server will respond with zero
    or more RPL_INFO replies, followed by one RPL_ENDOFINFO numeric."
    """
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(core.started))
    for line in (
        f"easychat-{__version__} on {core.config.server_name} ({core.config.network})",
        "EasyChat: a chat server for people who live in terminals.",
        "It speaks Modern IRC (modern.ircdocs.horse) and IRCv3 (ircv3.net).",
        f"Running since {started}.",
    ):
        core.reply(client, n.RPL_INFO, line)
    core.reply(client, n.RPL_ENDOFINFO, "End of INFO list")


def handle_time(core: ChatCore, client: Client, msg: Message) -> None:
    """TIME: the server's clock."""
    now = core.clock()
    text = time.strftime("%A %B %d %Y -- %H:%M:%S UTC", time.gmtime(now))
    core.reply(client, n.RPL_TIME, core.config.server_name, text)


def handle_ison(core: ChatCore, client: Client, msg: Message) -> None:
    """ISON <nick>{ <nick>}: which of these nicks are online."""
    nicks = " ".join(msg.params).split()
    online = [c.name for c in (core.find_client(nick) for nick in nicks) if c is not None]
    core.reply(client, n.RPL_ISON, " ".join(online))


def handle_userhost(core: ChatCore, client: Client, msg: Message) -> None:
    """USERHOST <nick>{ <nick>}: up to five `nick=+user@host` entries."""
    entries = []
    for nick in msg.params[:5]:
        other = core.find_client(nick)
        if other is not None:
            mark = "-" if other.away is not None else "+"
            entries.append(f"{other.name}={mark}{other.user}@{other.visible_host}")
    core.reply(client, n.RPL_USERHOST, " ".join(entries))


def handle_whowas(core: ChatCore, client: Client, msg: Message) -> None:
    """WHOWAS <nick> [<count>]: who held a nick, from the nick history.

    "The history is searched backward, returning the most recent entry
    first. If there are multiple entries, up to <count> replies will be
    returned (or all of them if no <count> parameter is given)." and "If
    given, <count> SHOULD be a positive number. Otherwise, a full search is
    done." Each entry is RPL_WHOWASUSER and RPL_WHOISSERVER (its server
    info saying when the nick was left); "Servers MUST reply with either
    ERR_WASNOSUCHNICK or a non-empty list of WHOWAS entries, both followed
    with RPL_ENDOFWHOWAS".
    """
    nick = msg.params[0] if msg.params else ""
    if not nick:
        raise IRCError(n.ERR_NONICKNAMEGIVEN, "No nickname given")
    count = _whowas_count(msg.params[1] if len(msg.params) > 1 else "")
    entries = list(islice(core.nick_history.lookup(nick), count))
    if not entries:
        core.reply(client, n.ERR_WASNOSUCHNICK, nick, "There was no such nickname")
    server = core.config.server_name
    for entry in entries:
        core.reply(
            client, n.RPL_WHOWASUSER, entry.nick, entry.user, entry.host, "*", entry.realname
        )
        left = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(entry.left_at))
        core.reply(client, n.RPL_WHOISSERVER, entry.nick, server, left)
    core.reply(client, n.RPL_ENDOFWHOWAS, nick, "End of WHOWAS")


def _whowas_count(arg: str) -> int | None:
    """The WHOWAS count: a positive number (at most what is kept), else None (every entry)."""
    try:
        count = int(arg)
    except ValueError:
        return None
    return min(count, NICK_HISTORY_SIZE) if count > 0 else None
