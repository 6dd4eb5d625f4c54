"""Provides the wording of server replies that read as raw text: WHOIS, away, ..."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from easychat.proto import numerics as n

# Units of an idle time, largest first; at most two are shown ("1 h 2 min").
_UNITS = (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))


def duration(seconds: int) -> str:
    """A duration in words: `6 s`, `5 min 3 s`, `1 h 2 min`, `3 d 4 h`."""
    left = max(0, seconds)
    parts: list[str] = []
    for unit, size in _UNITS:
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count} {unit}")
    return " ".join(parts[:2]) or "0 s"


def local_time(stamp: str) -> str:
    """A Unix time (as the server sends it) as a local date and minute."""
    try:
        return datetime.fromtimestamp(int(stamp)).strftime("%Y-%m-%d %H:%M") + " (local time)"
    except (ValueError, OverflowError, OSError):
        return stamp  # not a time we can show: say what the server said


def _idle(args: tuple[str, ...]) -> str | None:
    if len(args) < 3 or not (args[1].isascii() and args[1].isdigit()):
        return None
    return f"{args[0]}: idle {duration(int(args[1]))}, signed on {local_time(args[2])}"


def _server(args: tuple[str, ...]) -> str | None:
    if len(args) < 2:
        return None
    info = f" ({args[2]})" if len(args) > 2 and args[2] else ""
    return f"{args[0]} is on {args[1]}{info}"


def _account(args: tuple[str, ...]) -> str | None:
    return f"{args[0]} is logged in as {args[1]}" if len(args) >= 3 else None


# numeric -> wording from its parameters (after our nick); None: the reply
# did not have the expected shape, and shows as the server sent it.
_WORDING: dict[str, Callable[[tuple[str, ...]], str | None]] = {
    n.RPL_AWAY: lambda a: f"{a[0]} is away: {a[1]}" if len(a) >= 2 else None,
    n.RPL_WHOISIDLE: _idle,
    n.RPL_WHOISSERVER: _server,
    n.RPL_WHOISCHANNELS: lambda a: f"{a[0]} is in {a[1]}" if len(a) >= 2 else None,
    n.RPL_WHOISOPERATOR: lambda a: f"{a[0]} is a server operator" if a else None,
    n.RPL_WHOISACCOUNT: _account,
    n.RPL_ENDOFWHOIS: lambda a: f"End of WHOIS for {a[0]}" if a else None,
}


def describe(code: str, args: tuple[str, ...]) -> str | None:
    """The reply `code` with parameters `args` (our nick left out) in words, if worded here."""
    wording = _WORDING.get(code)
    return wording(args) if wording is not None else None
