"""Provides connection registration: CAP, NICK, USER, PASS, PING, PONG, QUIT."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from easychat import __version__
from easychat.chat import config as limits
from easychat.chat import multiline
from easychat.chat.errors import IRCError
from easychat.chat.handlers import markread, messaging, monitor
from easychat.chat.handlers.channels import join_channel
from easychat.chat.handlers.messaging import fit_bytes
from easychat.chat.identity import accounts, unixusers
from easychat.chat.protection.sts import sts_value
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.proto.names import casefold, valid_nick

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

log = logging.getLogger("easychat.chat")

# Capabilities this server implements (name -> CAP LS 302 value); only these
# are advertised in `CAP LS` and acknowledged in `CAP REQ`.
SUPPORTED_CAPS: dict[str, str] = {
    "away-notify": "",
    "batch": "",
    # What is offered is fixed for the server's life, so CAP NEW and CAP DEL
    # are never due; a client may still ask for cap-notify by name.
    "cap-notify": "",
    "chghost": "",
    "draft/channel-rename": "",
    "echo-message": "",
    "extended-monitor": "",
    "invite-notify": "",
    "labeled-response": "",
    "message-tags": "",
    "multi-prefix": "",
    "no-implicit-names": "",
    "server-time": "",
    "setname": "",
    "userhost-in-names": "",
}

# Offered only when the server keeps history.
HISTORY_CAPS: dict[str, str] = {
    "draft/chathistory": "",
    "draft/event-playback": "",
    # REDACT needs the history: it is where the sender of a msgid is known.
    "draft/message-redaction": "",
}

# Offered with history when the server keeps a full-text index of it.
SEARCH_CAP = "soju.im/search"


def offered_caps(core: ChatCore) -> dict[str, str]:
    """The capabilities this server offers."""
    caps = dict(SUPPORTED_CAPS)
    caps[multiline.CAP] = multiline.cap_value()
    if core.history is not None:
        caps.update(HISTORY_CAPS)
        caps.update(markread.READ_MARKER_CAPS)
        if core.search is not None:
            caps[SEARCH_CAP] = ""
    if core.accounts is not None:
        caps.update(accounts.ACCOUNT_CAPS)
    elif core.unix_users is not None:
        caps.update(unixusers.IDENTITY_CAPS)
    return caps


# Bytes of a QUIT reason kept: like TOPICLEN, 390 leaves room for "Quit: " and
# the quitter's `nick!user@host` inside the 512-byte QUIT relayed to others.
QUITLEN = 390

# Bytes of a refused CAP REQ list echoed in NAK: the spec asks for at least 100
# characters, and 400 leaves room for the server name and nick in 512 bytes.
CAP_NAK_BYTES = 400

USER_MODES = "iow"
CHANNEL_MODES = "biklmnost"
CHANNEL_MODES_WITH_PARAM = "bklov"


def isupport_tokens(core: ChatCore) -> list[str]:
    """The RPL_ISUPPORT tokens this server advertises."""
    cfg = core.config
    return [
        "CASEMAPPING=ascii",
        "CHANTYPES=#",
        "PREFIX=(ov)@+",
        "CHANMODES=beI,k,l,Cimnst",
        "EXCEPTS=e",
        "EXTBAN=,m",
        "INVEX=I",
        f"NICKLEN={cfg.nicklen}",
        f"CHANNELLEN={cfg.channellen}",
        f"TOPICLEN={cfg.topiclen}",
        f"KICKLEN={limits.KICKLEN}",
        f"AWAYLEN={limits.AWAYLEN}",
        f"USERLEN={limits.USERLEN}",
        f"CHANLIMIT=#:{limits.MAX_CHANNELS_PER_CLIENT}",
        f"MAXLIST=b:{limits.MAX_BANS},e:{limits.MAX_BANS},I:{limits.MAX_BANS}",
        f"MODES={limits.MAX_MODES}",
        f"NETWORK={cfg.network}",
        f"TARGMAX=PRIVMSG:{limits.MAX_TARGETS},NOTICE:{limits.MAX_TARGETS},JOIN:,PART:,KICK:{limits.MAX_TARGETS}",
        "BOT=B",
        "ELIST=CMNTU",
        f"STATUSMSG={messaging.STATUSMSG}",
        "UTF8ONLY",
        "WHOX",
        f"MONITOR={monitor.MONITOR_LIMIT}",
        *history_tokens(core),
    ]


def history_tokens(core: ChatCore) -> list[str]:
    """ISUPPORT for draft/chathistory: the page limit and the selectors accepted."""
    if core.history is None:
        return []
    return [f"CHATHISTORY={core.config.history_page}", "MSGREFTYPES=msgid,timestamp"]


def handle_cap(core: ChatCore, client: Client, msg: Message) -> None:
    """CAP LS/LIST/REQ/END (IRCv3 capability negotiation, version 302).

    "If the client sends CAP LS or CAP REQ before registration, the server
    MUST NOT complete registration until the client sends CAP END."
    """
    sub = msg.params[0].upper()
    server = core.config.server_name
    if sub == "LS":
        if not client.registered:
            client.cap_negotiating = True
        version = msg.params[1] if len(msg.params) > 1 else ""
        v302 = version.isdigit() and int(version) >= 302
        offered = [
            f"{name}={value}" if value and v302 else name
            for name, value in offered_caps(core).items()
        ]
        sts = None if client.local else sts_value(core.config, client.secure)
        if sts and v302:  # a policy is its value: only 302 clients see values
            offered.append(f"sts={sts}")
        core.send(client, Message("CAP", (client.name, "LS", " ".join(offered)), server))
    elif sub == "LIST":
        active = " ".join(sorted(client.caps))
        core.send(client, Message("CAP", (client.name, "LIST", active), server))
    elif sub == "REQ":
        if not client.registered:
            client.cap_negotiating = True
        wanted = msg.params[1] if len(msg.params) > 1 else ""
        names = wanted.split()
        if names and all(name.lstrip("-") in offered_caps(core) for name in names):
            for name in names:
                if name.startswith("-"):
                    client.caps.discard(name[1:])
                else:
                    client.caps.add(name)
            for channel in client.channels.values():
                channel.audience = None  # its members' capability classes changed
            core.send(client, Message("CAP", (client.name, "ACK", wanted), server))
        else:
            # "at least the first 100 characters" of the request, cut to fit.
            refused = fit_bytes(wanted, CAP_NAK_BYTES)
            core.send(client, Message("CAP", (client.name, "NAK", refused), server))
    elif sub == "END":
        if not client.registered:
            client.cap_negotiating = False
            try_register(core, client)
    else:
        raise IRCError(n.ERR_INVALIDCAPCMD, sub, "Invalid CAP subcommand")


def handle_pass(core: ChatCore, client: Client, msg: Message) -> None:
    """PASS <password>: kept, and checked when registration completes.

    "If the client sends a PASS command after registration, the server
    MUST reject it with ERR_ALREADYREGISTERED." The last PASS sent counts.
    """
    if client.registered:
        raise IRCError(n.ERR_ALREADYREGISTERED, "You may not reregister")
    client.password = msg.params[0]


def handle_nick(core: ChatCore, client: Client, msg: Message) -> None:
    """NICK <nickname>.

    "If the server receives a NICK command from a client where the desired
    nickname is already in use on the network, it should issue an
    ERR_NICKNAMEINUSE numeric and ignore the NICK command."
    """
    if not msg.params or not msg.params[0]:
        raise IRCError(n.ERR_NONICKNAMEGIVEN, "No nickname given")
    new = msg.params[0]
    if not valid_nick(new, core.config.nicklen):
        raise IRCError(n.ERR_ERRONEUSNICKNAME, new, "Erroneous nickname")
    if not client.registered:
        client.asked_nick = new
    folded = casefold(new)
    holder = core.nicks.get(folded)
    if holder is not None and holder is not client:
        raise IRCError(n.ERR_NICKNAMEINUSE, new, "Nickname is already in use")
    unixusers.check_nick(core, client, new)
    accounts.check_nick(core, client, new)
    if new == client.nick:
        return
    old_prefix = client.prefix
    if client.nick is not None:
        core.nicks.pop(casefold(client.nick), None)
    core.nicks[folded] = client
    if not client.registered:
        client.nick = new
        try_register(core, client)
        return
    log.info("%s is now known as %s", client.nick, new)
    core.nick_history.left(client, core.clock())
    old_nick, client.nick = client.name, new
    change = Message("NICK", (new,), old_prefix)
    core.event(client.channels.values(), [client, *core.neighbours(client)], change)
    if casefold(old_nick) != folded:  # a change of case only keeps it online
        monitor.offline(core, old_nick)
        monitor.online(core, client)


def handle_user(core: ChatCore, client: Client, msg: Message) -> None:
    """USER <username> 0 * <realname>.

    An empty realname is refused like an empty username, with
    ERR_NEEDMOREPARAMS "(even an empty parameter is provided)": WHO and
    WHOIS would otherwise show a blank name.
    """
    if client.registered:
        raise IRCError(n.ERR_ALREADYREGISTERED, "You may not reregister")
    username = msg.params[0][: limits.USERLEN]
    if not username or any(ch in username for ch in "@!"):
        raise IRCError(n.ERR_NEEDMOREPARAMS, "USER", "Invalid username")
    if not msg.params[3]:
        raise IRCError(n.ERR_NEEDMOREPARAMS, "USER", "Not enough parameters")
    client.user = username
    client.realname = msg.params[3]
    try_register(core, client)


def handle_setname(core: ChatCore, client: Client, msg: Message) -> None:
    """SETNAME <realname> (IRCv3 setname): changes the client's realname.

    The spec: the server sends `:<prefix> SETNAME :<realname>` to the
    client and to the clients that share a channel with it, only to those
    that enabled setname, and "FAIL SETNAME INVALID_REALNAME" when the
    realname is refused (here: empty, or over REALNAMELEN bytes). The
    command is handled whether or not the sender enabled the capability.
    """
    realname = msg.params[0]
    if not realname or len(realname.encode()) > limits.REALNAMELEN:
        core.fail(client, "SETNAME", "INVALID_REALNAME", "Realname is not valid")
        return
    client.realname = realname
    peers = {client, *core.neighbours(client), *monitor.extended(core, client, "setname")}
    told = [peer for peer in peers if "setname" in peer.caps]
    core.send_many(told, Message("SETNAME", (realname,), client.prefix))


def handle_ping(core: ChatCore, client: Client, msg: Message) -> None:
    """PING <token>: answered with PONG carrying the same token."""
    server = core.config.server_name
    core.send(client, Message("PONG", (server, msg.params[0]), server))


def handle_pong(core: ChatCore, client: Client, msg: Message) -> None:
    """PONG: liveness is already recorded for every line received."""


def handle_quit(core: ChatCore, client: Client, msg: Message) -> None:
    """QUIT [<reason>]: others in shared channels see `Quit: <reason>`.

    "This applies even if <reason> is empty, in which case the reason sent to
    other clients SHOULD be just this "Quit: " string."
    """
    reason = f"Quit: {fit_bytes(msg.params[0], QUITLEN) if msg.params else ''}"
    core.quit(client, reason, tell_client=True)


def try_register(core: ChatCore, client: Client) -> None:
    """Completes registration once NICK and USER are in and CAP is done."""
    if client.registered or client.cap_negotiating or client.nick is None or client.user is None:
        return
    unixusers.verify_user(client)
    if not accounts.admit(core, client):
        return
    unixusers.logged_in(core, client)
    client.registered = True
    core.users += 1
    core.max_users = max(core.max_users, core.users)
    core.customers += 1
    client.number = core.customers
    log.info("%s registered from %s (customer number %d)", client.nick, client.host, client.number)
    welcome(core, client)
    monitor.online(core, client)
    for room in core.config.autojoin:
        try:
            join_channel(core, client, room, None)
        except IRCError as err:
            core.reply(client, err.numeric, *err.params)


def welcome(core: ChatCore, client: Client) -> None:
    """Sends 001-005, LUSERS and the MOTD."""
    cfg = core.config
    created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(core.started))
    version = f"easychat-{__version__}"
    core.reply(
        client, n.RPL_WELCOME, f"Welcome to Easy Chat! You are customer number {client.number}"
    )
    core.reply(client, n.RPL_YOURHOST, f"Your host is {cfg.server_name}, running version {version}")
    core.reply(client, n.RPL_CREATED, f"This server was created {created}")
    core.reply(
        client,
        n.RPL_MYINFO,
        cfg.server_name,
        version,
        USER_MODES,
        CHANNEL_MODES,
        CHANNEL_MODES_WITH_PARAM,
    )
    tokens = isupport_tokens(core)
    for start in range(0, len(tokens), 12):
        core.reply(
            client, n.RPL_ISUPPORT, *tokens[start : start + 12], "are supported by this server"
        )
    send_lusers(core, client)
    send_motd(core, client)


def send_lusers(core: ChatCore, client: Client) -> None:
    """RPL_LUSERCLIENT and friends: how many are here.

    RPL_LOCALUSERS and RPL_GLOBALUSERS carry the figures as parameters too:
    "The two optional parameters SHOULD be supplied to allow clients to
    better extract these numbers."
    """
    users, invisible = core.users, core.invisible
    unknown = len(core.clients) - users
    core.reply(
        client,
        n.RPL_LUSERCLIENT,
        f"There are {users - invisible} users and {invisible} invisible on 1 server",
    )
    if unknown:
        core.reply(client, n.RPL_LUSERUNKNOWN, str(unknown), "unknown connection(s)")
    core.reply(client, n.RPL_LUSERCHANNELS, str(len(core.channels)), "channels formed")
    core.reply(client, n.RPL_LUSERME, f"I have {users} clients and 0 servers")
    # One server: its local users are all the network's.
    most = str(core.max_users)
    core.reply(
        client, n.RPL_LOCALUSERS, str(users), most, f"Current local users {users}, max {most}"
    )
    core.reply(
        client, n.RPL_GLOBALUSERS, str(users), most, f"Current global users {users}, max {most}"
    )


def send_motd(core: ChatCore, client: Client) -> None:
    """RPL_MOTDSTART/RPL_MOTD/RPL_ENDOFMOTD, or ERR_NOMOTD when there is none."""
    motd = core.config.motd
    if motd is None:
        core.reply(client, n.ERR_NOMOTD, "MOTD File is missing")
        return
    core.reply(client, n.RPL_MOTDSTART, f"- {core.config.server_name} Message of the day - ")
    for line in motd:
        core.reply(client, n.RPL_MOTD, f"- {line}")
    core.reply(client, n.RPL_ENDOFMOTD, "End of /MOTD command.")
