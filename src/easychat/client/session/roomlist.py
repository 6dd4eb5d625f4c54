"""Provides the session's room list: LIST replies (321, 322, 323) collected into one event."""

from __future__ import annotations

from easychat.client.events import Event, ListedRoom, RoomList
from easychat.proto import numerics as n
from easychat.proto.message import Message

# The numerics of a LIST answer.
LIST_NUMERICS = frozenset({n.RPL_LISTSTART, n.RPL_LIST, n.RPL_LISTEND})

# Rooms kept from one LIST answer: a large network lists tens of thousands;
# the rooms screen filters what it holds, and this bounds the memory a server
# can make us spend (the event says the list was cut).
MAX_LISTED_ROOMS = 10_000


class RoomListMixin:
    """The Session's collection of LIST replies.

    Mixed into `Session`, which owns the attributes declared here.
    """

    _listing: list[ListedRoom] | None
    _listing_cut: bool

    def _list_numeric(self, msg: Message) -> list[Event]:
        """One numeric of a LIST answer; the end (323) gives the `RoomList`."""
        args = msg.params[1:]
        if msg.command == n.RPL_LISTSTART or self._listing is None:
            self._listing, self._listing_cut = [], False
        if msg.command == n.RPL_LIST and len(args) >= 2:
            if len(self._listing) >= MAX_LISTED_ROOMS:
                self._listing_cut = True
            else:
                users = int(args[1]) if args[1].isascii() and args[1].isdigit() else 0
                topic = args[2] if len(args) > 2 else ""
                self._listing.append(ListedRoom(args[0], users, topic))
        if msg.command != n.RPL_LISTEND:
            return []
        rooms, cut = tuple(self._listing), self._listing_cut
        self._listing = None
        return [RoomList(rooms, cut)]
