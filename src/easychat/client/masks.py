"""Provides the masks of /ban and /ignore: a nick or partial mask made whole, and matching."""

from __future__ import annotations

from collections.abc import Iterable

from easychat.proto.names import casefold, mask_matches, normalize_mask

# Entries an ignore list holds: each incoming message is checked against every
# one, and irssi users rarely keep more than a few dozen. A longer list is a
# runaway script, not a person's choice.
MAX_IGNORES = 500


def is_mask(word: str) -> bool:
    """Whether `word` is a mask (has `!`, `@` or a wildcard) rather than a plain nick."""
    return any(ch in word for ch in "!@*?")


def whole_mask(word: str) -> str:
    """`word` as a full `nick!user@host` mask: `bob` is `bob!*@*`, `u@h` is `*!u@h`."""
    return normalize_mask(word)


def ban_mask(word: str, userhost: str | None) -> str:
    """The mask `/ban word` sets.

    A mask is completed (`*!*@host.example`); a nick whose `user@host` is known
    becomes `*!user@host` (weechat's default ban mask), so the ban outlives a
    nick change; otherwise `nick!*@*`.

    Args:
        word: What the user typed: a nick or a mask.
        userhost: The nick's `user@host`, if the session has seen it.

    Returns:
        The mask, in `nick!user@host` form.
    """
    if is_mask(word):
        return whole_mask(word)
    if userhost:
        return whole_mask("*!" + userhost)
    return whole_mask(word)


def matches_everyone(mask: str) -> bool:
    """Whether `mask` matches every sender (`*`, `*!*@*`, `**!*@*`, ...).

    Only a mask whose every part is wildcards matches the empty `!@`, and
    such a mask matches anything.
    """
    return mask_matches(whole_mask(mask), "!@")


class IgnoreList:
    """The masks whose senders' messages are not shown.

    Masks are kept complete (`nick!user@host`) and compared case-insensitively;
    the order is the order they were added, which `/ignore` lists.
    """

    def __init__(self, masks: Iterable[str] = ()) -> None:
        self._masks: list[str] = []
        for mask in masks:
            self.add(mask)

    @property
    def masks(self) -> tuple[str, ...]:
        """The masks, oldest first."""
        return tuple(self._masks)

    def _find(self, mask: str) -> int | None:
        folded = casefold(whole_mask(mask))
        for index, known in enumerate(self._masks):
            if casefold(known) == folded:
                return index
        return None

    def add(self, mask: str) -> bool:
        """Adds `mask` (completed); False if it is already there or the list is full."""
        if self._find(mask) is not None or len(self._masks) >= MAX_IGNORES:
            return False
        self._masks.append(whole_mask(mask))
        return True

    def remove(self, mask: str) -> bool:
        """Removes `mask` (completed); False if it was not there."""
        index = self._find(mask)
        if index is None:
            return False
        del self._masks[index]
        return True

    def ignores(self, source: str | None) -> bool:
        """Whether a message from `source` (`nick!user@host`) is hidden.

        A source without user and host (a server, or a nick alone) is
        completed the same way as a mask, so `bob!*@*` matches `bob`.
        """
        if not source or not self._masks:
            return False
        whole = whole_mask(source)
        return any(mask_matches(mask, whole) for mask in self._masks)
