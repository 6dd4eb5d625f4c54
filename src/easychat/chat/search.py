"""Provides the chat core's view of history search: the query and the index interface."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from easychat.chat.history import Record


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What one SEARCH asks for, already narrowed to what the asker may read.

    `keys` are the history keys searched (rooms the asker is in, its own
    private conversations); nothing outside them is ever returned.
    `accept`, when given, is asked about every match before it counts
    towards `limit` (private lines from before the asker connected).
    """

    keys: tuple[str, ...]
    words: tuple[str, ...] = ()  # every word must occur in the text
    sender: str | None = None  # casefolded nick
    after_ms: int | None = None  # at or after
    before_ms: int | None = None  # at or before
    limit: int = 100
    accept: Callable[[Record], bool] | None = None


class SearchIndex(Protocol):
    """What the chat core needs from a full-text index of the history.

    The index follows the history's committed records; the server feeds it
    in bounded steps (`index_some`) outside the turns that relay messages.
    """

    def index_some(self, budget: int) -> bool:
        """Indexes up to about `budget` stored records; returns whether more wait."""

    def search(self, query: SearchQuery) -> list[Record]:
        """PRIVMSG and NOTICE records that match, at most `query.limit`, oldest first.

        Without `after_ms` the newest matches are returned, else the
        oldest from `after_ms` on.
        """


def words_of(text: str) -> tuple[str, ...]:
    """The words of a search text, lowercased, in order, without repeats."""
    return tuple(dict.fromkeys(word.lower() for word in text.split()))
