"""Provides read markers (IRCv3 draft/read-marker): the store interface and who reads what.

A read marker is the time of the newest message a user has read in one
conversation (a room or a nick). For a client logged in to an account it
belongs to the account: every connection of that account shares it, and it
is stored (ReadMarkerStore) so that it outlives the connection and the
server. The spec is written for accounts ("several clients of the same
user"); a client that is not logged in has markers of its own connection,
kept in memory for the connection's life only, as nobody else can be that
user. A marker only ever moves forward, and never past the server's clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from easychat.proto.names import casefold

if TYPE_CHECKING:
    from easychat.chat.state import Client

# Markers one account (or one connection) may hold: one per conversation,
# and a user with a thousand conversations is rare, while a client that
# marks a new made-up target in every line would otherwise grow the file
# without end. Past it, a new target is refused (INTERNAL_ERROR); the
# conversations already marked still move.
MAX_MARKERS = 1000


class MarkerStoreError(Exception):
    """The store could not read or write a marker (the disk, the database)."""


class TooManyMarkersError(Exception):
    """The owner already has MAX_MARKERS markers and this target is new."""


class ReadMarkerStore(Protocol):
    """Where accounts' read markers outlive a restart (store/readmarkers.py: SQLite).

    Accounts and targets are given casefolded; times are milliseconds since
    the epoch. Errors of the store's own are raised as MarkerStoreError.
    """

    def get_marker(self, account: str, target: str) -> int | None:
        """The stored marker of `account` on `target`, if any."""

    def count_markers(self, account: str) -> int:
        """How many targets `account` has a marker on."""

    def set_marker(self, account: str, target: str, time_ms: int) -> None:
        """Stores the marker of `account` on `target`, replacing the old one."""


class ReadMarkers:
    """The markers of every account and connection, in front of the store.

    Accounts' markers are read through once and then cached, so JOINs and
    queries do not hit the database again; every change is written through.
    Without a store (a server with no --db), they last until the server stops.
    """

    def __init__(self, store: ReadMarkerStore | None = None) -> None:
        self.store = store
        self._cache: dict[tuple[str, str], int | None] = {}
        self._counts: dict[str, int] = {}

    def get(self, client: Client, target: str) -> int | None:
        """The marker of `client`'s user on `target`: its account's, else its own."""
        folded = casefold(target)
        if client.account is None:
            return client.read_markers.get(folded)
        key = (casefold(client.account), folded)
        if key not in self._cache:
            self._cache[key] = None if self.store is None else self.store.get_marker(*key)
        return self._cache[key]

    def advance(self, client: Client, target: str, time_ms: int) -> bool:
        """Moves the marker on `target` to `time_ms` if that is later; returns whether it moved.

        Raises:
            TooManyMarkersError: a new target past MAX_MARKERS.
            MarkerStoreError: the store failed; the marker did not move.
        """
        current = self.get(client, target)
        if current is not None and time_ms <= current:
            return False
        folded = casefold(target)
        if client.account is None:
            if current is None and len(client.read_markers) >= MAX_MARKERS:
                raise TooManyMarkersError(target)
            client.read_markers[folded] = time_ms
            return True
        account = casefold(client.account)
        if current is None and self._count(account) >= MAX_MARKERS:
            raise TooManyMarkersError(target)
        if self.store is not None:
            self.store.set_marker(account, folded, time_ms)
        if current is None:
            self._counts[account] += 1
        self._cache[(account, folded)] = time_ms
        return True

    def _count(self, account: str) -> int:
        if account not in self._counts:
            stored = 0 if self.store is None else self.store.count_markers(account)
            self._counts[account] = stored
        return self._counts[account]
