"""Provides what every parser of typed commands shares: word splitting and `Invalid`."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A command line is "/name", then optional whitespace-separated arguments.
_WORD = re.compile(r"\s*(\S+)(.*)\Z", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Invalid:
    """Input that cannot be sent; `message` tells the user what to type instead."""

    message: str


def split_word(rest: str) -> tuple[str, str]:
    """Splits off the first word; returns ("", "") when there is none."""
    match = _WORD.match(rest)
    if match is None:
        return "", ""
    return match.group(1), match.group(2)


def free_text(rest: str) -> str:
    """The free text of a command: what follows the separating whitespace, as typed."""
    return rest.lstrip()
