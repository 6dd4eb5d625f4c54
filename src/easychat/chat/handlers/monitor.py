"""Provides IRCv3 MONITOR: online and offline notices for a list of nicks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from easychat.chat.errors import IRCError
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.proto.names import casefold, valid_nick

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

# Nicks one client may monitor (ISUPPORT `MONITOR=100`, ergo's default).
MONITOR_LIMIT = 100

# Bytes of targets per reply line: `:server 730 nick :` with NICKLEN-sized
# names and a host leaves this much of a 512-byte line, with room to spare.
_TARGETS_BYTES = 400


def handle_monitor(core: ChatCore, client: Client, msg: Message) -> None:
    """MONITOR {+|-} <target>{,<target>} | C | L | S.

    "+" adds nicks and answers RPL_MONONLINE (730) for those online and
    RPL_MONOFFLINE (731) for the others; past the limit ERR_MONLISTFULL
    (734) names what was not added. "-" removes, silently; "C" clears; "L"
    lists with RPL_MONLIST (732) and RPL_ENDOFMONLIST (733); "S" sends the
    state of every nick on the list. Afterwards the client is sent 730 when
    a monitored nick comes online and 731 when it goes.
    """
    action = msg.params[0].upper()
    targets = [t for t in msg.params[1].split(",") if t] if len(msg.params) > 1 else []
    if action in ("+", "-") and not targets:
        raise IRCError(n.ERR_NEEDMOREPARAMS, "MONITOR", "Not enough parameters")
    watched = client.monitoring
    if action == "+":
        added: list[str] = []
        for target in targets:
            if not valid_nick(target, core.config.nicklen):
                continue
            folded = casefold(target)
            if folded in watched:
                continue
            if len(watched) >= MONITOR_LIMIT:
                rest = ",".join(targets[targets.index(target) :])
                core.reply(
                    client, n.ERR_MONLISTFULL, str(MONITOR_LIMIT), rest, "Monitor list is full"
                )
                break
            watched[folded] = target
            core.monitors.setdefault(folded, set()).add(client)
            added.append(target)
        _send_state(core, client, added)
    elif action == "-":
        for target in targets:
            _unwatch(core, client, casefold(target))
    elif action == "C":
        forget(core, client)
    elif action == "L":
        for line in _pack(list(watched.values())):
            core.reply(client, n.RPL_MONLIST, line)
        core.reply(client, n.RPL_ENDOFMONLIST, "End of MONITOR list")
    elif action == "S":
        _send_state(core, client, list(watched.values()))
    else:
        raise IRCError(n.ERR_UNKNOWNCOMMAND, "MONITOR", f"Unknown MONITOR action {action!r}")


def online(core: ChatCore, client: Client) -> None:
    """`client` now holds its nick (registered, or changed to it): 730 to its watchers."""
    for watcher in _watchers(core, client.nick):
        core.reply(watcher, n.RPL_MONONLINE, client.prefix)


def offline(core: ChatCore, nick: str) -> None:
    """`nick` is no longer held (quit, or changed away from): 731 to its watchers."""
    for watcher in _watchers(core, nick):
        core.reply(watcher, n.RPL_MONOFFLINE, nick)


def extended(core: ChatCore, client: Client, cap: str) -> list[Client]:
    """Who MONITORs `client` with extended-monitor and `cap`: they are also
    sent its AWAY, ACCOUNT and SETNAME changes, as if they shared a room."""
    return [
        watcher
        for watcher in _watchers(core, client.nick)
        if "extended-monitor" in watcher.caps and cap in watcher.caps
    ]


def forget(core: ChatCore, client: Client) -> None:
    """Empties `client`'s monitor list (MONITOR C, or it left)."""
    for folded in list(client.monitoring):
        _unwatch(core, client, folded)


def _watchers(core: ChatCore, nick: str | None) -> list[Client]:
    if nick is None or not core.monitors:
        return []
    return list(core.monitors.get(casefold(nick), ()))


def _unwatch(core: ChatCore, client: Client, folded: str) -> None:
    if client.monitoring.pop(folded, None) is None:
        return
    watchers = core.monitors.get(folded)
    if watchers is not None:
        watchers.discard(client)
        if not watchers:
            del core.monitors[folded]


def _send_state(core: ChatCore, client: Client, nicks: Iterable[str]) -> None:
    on: list[str] = []
    off: list[str] = []
    for nick in nicks:
        holder = core.nicks.get(casefold(nick))
        if holder is not None and holder.registered:
            on.append(holder.prefix)
        else:
            off.append(nick)
    for line in _pack(on):
        core.reply(client, n.RPL_MONONLINE, line)
    for line in _pack(off):
        core.reply(client, n.RPL_MONOFFLINE, line)


def _pack(items: list[str]) -> list[str]:
    """`items` joined with commas into lines of at most _TARGETS_BYTES."""
    lines: list[str] = []
    current: list[str] = []
    size = 0
    for item in items:
        if current and size + 1 + len(item.encode()) > _TARGETS_BYTES:
            lines.append(",".join(current))
            current, size = [], 0
        size += len(item.encode()) + (1 if current else 0)
        current.append(item)
    if current:
        lines.append(",".join(current))
    return lines
