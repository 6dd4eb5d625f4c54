"""Provides the handler error that carries its IRC numeric."""

from __future__ import annotations


class IRCError(Exception):
    """A command failed; becomes one numeric reply to the client who sent it.

    Args:
        numeric: the numeric code, from `easychat.proto.numerics`.
        params: the parameters after the client's nick; the last one is
            the human-readable text.
    """

    def __init__(self, numeric: str, *params: str) -> None:
        super().__init__(numeric, *params)
        self.numeric = numeric
        self.params = params
