"""Provides casefolding (CASEMAPPING=ascii), name validation and mask matching."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

# Characters the first position of a nick may hold (RFC 2812 "special" plus
# letters); later positions may also hold digits and '-'.
_NICK_RE = re.compile(r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]*\Z")

# Modern IRC: channel names MUST NOT contain space, control-G or comma;
# RFC 2812 also excludes ':' and NUL, and we exclude every control character.
_CHANNEL_BAD = re.compile(r"[\x00-\x20,:\x7f]")

CHANTYPES = "#"


def casefold(name: str) -> str:
    """Folds a nick or channel name per CASEMAPPING=ascii."""
    return name.translate(_ASCII_LOWER)


def is_channel(target: str) -> bool:
    """Tells whether a message target names a channel."""
    return bool(target) and target[0] in CHANTYPES


def valid_nick(nick: str, max_len: int) -> bool:
    """Tells whether `nick` is an acceptable nickname of at most `max_len` chars."""
    return 0 < len(nick) <= max_len and _NICK_RE.match(nick) is not None


def valid_channel(name: str, max_len: int) -> bool:
    """Tells whether `name` is an acceptable channel name of at most `max_len` chars."""
    return (
        1 < len(name) <= max_len
        and name[0] in CHANTYPES
        and _CHANNEL_BAD.search(name) is None
        and name.isprintable()
    )


@lru_cache(maxsize=1024)
def _mask_regex(mask: str) -> re.Pattern[str]:
    pattern = "".join(
        ".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in casefold(mask)
    )
    return re.compile(pattern + r"\Z", re.DOTALL)


def mask_matches(mask: str, name: str) -> bool:
    """Tells whether a wildcard mask (`*`, `?`) matches `name`, casefolded."""
    return _mask_regex(mask).match(casefold(name)) is not None


# The extended-ban prefix of a mute (`+b m:<mask>`, ISUPPORT `EXTBAN=,m`):
# a matching client may join and read but not speak.
MUTE_PREFIX = "m:"


def is_mute(mask: str) -> bool:
    """Tells whether a ban-list entry is a mute extban (`m:<mask>`)."""
    return mask[:2].lower() == MUTE_PREFIX


def normalize_mask(mask: str) -> str:
    """Completes a partial ban mask to `nick!user@host` form, as servers do.

    `nick` becomes `nick!*@*`, `user@host` becomes `*!user@host`; a mute
    extban keeps its prefix (`m:bob` becomes `m:bob!*@*`).
    """
    if is_mute(mask):
        return MUTE_PREFIX + normalize_mask(mask[2:])
    if "!" in mask:
        nick, _, rest = mask.partition("!")
        user, _, host = rest.partition("@")
        return f"{nick or '*'}!{user or '*'}@{host or '*'}"
    if "@" in mask:
        user, _, host = mask.partition("@")
        return f"*!{user or '*'}@{host or '*'}"
    return f"{mask or '*'}!*@*"


_RFC1459_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\~", "abcdefghijklmnopqrstuvwxyz{}|^")


def casefold_for(casemapping: str) -> Callable[[str], str]:
    """The casefolding function a server's `CASEMAPPING` token names.

    `ascii` folds A-Z only; `rfc1459` (the default of older servers) also
    folds `[]\\~` to `{}|^`; anything unknown is treated as `rfc1459`.
    """
    if casemapping == "ascii":
        return casefold
    return lambda name: name.translate(_RFC1459_LOWER)
