"""Provides server operators: OPER, KILL, KLINE/UNKLINE, WALLOPS and room-mode overrides."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from easychat.chat.errors import IRCError
from easychat.chat.handlers.messaging import fit_bytes
from easychat.chat.identity.passwords import verify_password
from easychat.chat.protection.access import Kline
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.proto.names import casefold, mask_matches, normalize_mask

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Channel, Client

# Every operator action goes to this logger, at WARNING so it shows at the
# default log level and stands out from the chat traffic.
log = logging.getLogger("easychat.oper")

# Bytes of a KILL/KLINE reason or WALLOPS text kept: like TOPICLEN, room for
# the prefix inside 512 bytes.
REASONLEN = 300

# K-lines kept at once; past it KLINE is refused, so memory stays bounded.
MAX_KLINES = 1000

_DURATION = re.compile(r"\A(\d{1,9})([smhdw]?)\Z")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def is_oper(client: Client) -> bool:
    """Tells whether `client` is a server operator."""
    return "o" in client.modes


def _require_oper(client: Client) -> None:
    if not is_oper(client):
        raise IRCError(n.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator")


def override(core: ChatCore, client: Client, channel: Channel, what: str) -> bool:
    """Tells whether `client` may act as `channel`'s operator by being a server operator.

    Used only where the channel-operator check failed; every use is logged.
    """
    if not is_oper(client):
        return False
    log.warning(
        "oper %s (%s): override %s on %s", client.oper_name, client.nick, what, channel.name
    )
    return True


def handle_oper(core: ChatCore, client: Client, msg: Message) -> None:
    """OPER <name> <password>.

    Modern IRC: "If the client is not connecting from a valid host for the given
    name, the server replies with an ERR_NOOPERHOST message ... If the supplied
    password is incorrect, the server replies with an ERR_PASSWDMISMATCH
    message." On success: RPL_YOUREOPER and the user mode +o.
    """
    name, password = msg.params[0], msg.params[1]
    keys = (f"ip:{client.host}", f"oper:{name}")
    now = core.clock()
    wait = core.access.wait(keys, now)
    if wait > 0:
        log.warning("OPER %s from %s (%s) throttled", name, client.nick, client.host)
        raise IRCError(
            n.ERR_PASSWDMISMATCH, f"Too many failed attempts, try again in {int(wait) + 1} s"
        )
    hashes = dict(core.config.oper)
    stored = hashes.get(name)
    if stored is None:
        core.access.failed(keys, now)
        log.warning(
            "OPER %s from %s (%s) refused: no such operator", name, client.nick, client.host
        )
        raise IRCError(n.ERR_NOOPERHOST, "No O-lines for your host")
    if not verify_password(password, stored):
        core.access.failed(keys, now)
        log.warning("OPER %s from %s (%s) refused: wrong password", name, client.nick, client.host)
        raise IRCError(n.ERR_PASSWDMISMATCH, "Password incorrect")
    core.access.succeeded(keys)
    client.oper_name = name
    log.warning("OPER %s: %s (%s) is now a server operator", name, client.prefix, client.host)
    if "o" not in client.modes:
        client.modes.add("o")
        core.send(client, Message("MODE", (client.name, "+o"), client.prefix))
    core.reply(client, n.RPL_YOUREOPER, "You are now an IRC operator")


def handle_kill(core: ChatCore, client: Client, msg: Message) -> None:
    """KILL <nickname> [<comment>]: disconnects a user (operators only).

    Modern IRC: the target is disconnected with a reason naming the operator;
    "ERR_NOPRIVILEGES" for non-operators, ERR_NOSUCHNICK for a missing nick.
    """
    _require_oper(client)
    target = core.find_client(msg.params[0])
    if target is None:
        raise IRCError(n.ERR_NOSUCHNICK, msg.params[0], "No such nick/channel")
    comment = fit_bytes(msg.params[1], REASONLEN) if len(msg.params) > 1 else "No reason"
    log.warning("oper %s (%s): KILL %s (%s)", client.oper_name, client.nick, target.prefix, comment)
    core.quit(target, f"Killed ({client.nick} ({comment}))", tell_client=True)


def parse_duration(text: str) -> float | None:
    """Seconds from `300`, `30m`, `2h`, `7d`, `1w`; 0 means permanent (None)."""
    match = _DURATION.match(text.lower())
    if match is None:
        raise ValueError(text)
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return float(seconds) if seconds else None


def kline_mask(text: str) -> str:
    """A K-line mask: an IP or host becomes `*!*@host`; `user@host` and `nick!user@host` stay."""
    if "!" in text or "@" in text:
        return normalize_mask(text)
    return f"*!*@{text}"


def handle_kline(core: ChatCore, client: Client, msg: Message) -> None:
    """KLINE <mask|ip> <duration> [<reason>]: bans matching connections (operators only).

    `duration` is seconds or `30m`, `2h`, `7d`, `1w`; `0` bans until UNKLINE.
    Matching users already connected are disconnected; new connections that
    match are refused when they register, with ERROR and the reason.
    """
    _require_oper(client)
    mask = casefold(kline_mask(msg.params[0]))
    try:
        seconds = parse_duration(msg.params[1])
    except ValueError:
        raise IRCError(
            n.ERR_NEEDMOREPARAMS, "KLINE", "Duration: seconds, or 30m, 2h, 7d, 1w"
        ) from None
    reason = fit_bytes(msg.params[2], REASONLEN) if len(msg.params) > 2 else "No reason"
    if mask not in core.access.klines and len(core.access.klines) >= MAX_KLINES:
        _notice(core, client, f"Too many K-lines ({MAX_KLINES}); remove some with UNKLINE")
        return
    expires = None if seconds is None else core.clock() + seconds
    kline = Kline(mask, reason, client.oper_name or client.name, expires)
    core.access.klines[mask] = kline
    if core.kline_store is not None:
        core.kline_store.save_kline(kline)
    span = "permanent" if seconds is None else f"{int(seconds)} s"
    log.warning(
        "oper %s (%s): KLINE %s (%s): %s", client.oper_name, client.nick, mask, span, reason
    )
    _notice(core, client, f"K-line added on {mask} ({span}): {reason}")
    for other in list(core.clients.values()):
        if other.registered and not is_oper(other) and mask_matches(mask, other.prefix):
            log.warning("oper %s: K-line %s disconnects %s", client.oper_name, mask, other.prefix)
            core.quit(other, f"K-lined: {reason}", tell_client=True)


def handle_unkline(core: ChatCore, client: Client, msg: Message) -> None:
    """UNKLINE <mask|ip>: lifts a K-line (operators only)."""
    _require_oper(client)
    mask = casefold(kline_mask(msg.params[0]))
    if core.access.klines.pop(mask, None) is None:
        _notice(core, client, f"No K-line on {mask}")
        return
    if core.kline_store is not None:
        core.kline_store.remove_kline(mask)
    log.warning("oper %s (%s): UNKLINE %s", client.oper_name, client.nick, mask)
    _notice(core, client, f"K-line on {mask} removed")


def kline_for(core: ChatCore, client: Client) -> Kline | None:
    """The K-line matching `client` (dropping expired ones), if any."""
    now = core.clock()
    for mask, kline in list(core.access.klines.items()):
        if kline.expires is not None and kline.expires <= now:
            del core.access.klines[mask]
            if core.kline_store is not None:
                core.kline_store.remove_kline(mask)
        elif mask_matches(mask, client.prefix):
            return kline
    return None


def handle_wallops(core: ChatCore, client: Client, msg: Message) -> None:
    """WALLOPS <text>: to every user with user mode +w (operators only).

    Modern IRC: "The WALLOPS command is used to send a message to all currently
    connected users who have set the 'w' user mode for themselves."
    """
    _require_oper(client)
    text = fit_bytes(msg.params[0], REASONLEN)
    log.warning("oper %s (%s): WALLOPS %s", client.oper_name, client.nick, text)
    readers = [c for c in core.clients.values() if c.registered and "w" in c.modes]
    core.send_many(readers, Message("WALLOPS", (text,), client.prefix))


def _notice(core: ChatCore, client: Client, text: str) -> None:
    core.send(client, Message("NOTICE", (client.name, text), core.config.server_name))
