"""Provides room persistence: which rooms are kept, the RoomStore interface, invitations, DROP.

The rule (SECURITY.md, "Room persistence"): a room is kept once it has
something a stranger could otherwise take over by being first to join it
after it emptied or the server restarted: a mode other than a new room's
+nt, a key, a limit, a topic or a ban. A kept room stays when its last
member leaves and is stored (RoomStore), so JOIN still checks its
+i/+k/+l/+b, and nobody is made operator by joining it first: operator
goes, on JOIN, to clients logged in to an account that was given operator
there (its creator's, when logged in). History (replay on join,
CHATHISTORY) is only for members, so nobody reads a kept room's history
without being let in. A room with nothing of that vanishes when empty, as
IRC rooms always have, so typos do not pile up. DROP forgets one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from easychat.chat.errors import IRCError
from easychat.chat.handlers import oper
from easychat.chat.state import Ban, Channel
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.proto.names import casefold

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

log = logging.getLogger("easychat.chat")

# A new room's modes: a room with these and nothing else is not kept.
DEFAULT_MODES = frozenset("nt")

# Accounts invited per room that are stored; past it an invitation still
# lets the invited connection in, but is not stored for its account. As
# many as bans (MAXLIST): a room that needs more wants -i.
MAX_INVITED_ACCOUNTS = 100


@dataclass(frozen=True, slots=True)
class StoredRoom:
    """What is kept of a room: everything but its members and their prefixes."""

    name: str
    created: int
    modes: frozenset[str]  # flag modes (Cimnst)
    key: str | None
    limit: int | None
    topic: str
    topic_setter: str
    topic_time: int
    bans: tuple[Ban, ...]
    invited_accounts: frozenset[str]  # casefolded
    op_accounts: frozenset[str]  # casefolded
    excepts: tuple[Ban, ...] = ()  # +e
    invexes: tuple[Ban, ...] = ()  # +I

    @property
    def folded(self) -> str:
        """The casefolded name, the room's identity."""
        return casefold(self.name)


class RoomStore(Protocol):
    """Where kept rooms outlive a restart (store/rooms.py keeps them in SQLite)."""

    def load_rooms(self) -> list[StoredRoom]:
        """Every stored room."""

    def save_room(self, room: StoredRoom) -> None:
        """Stores a room, replacing what was stored under its name."""

    def remove_room(self, folded: str) -> None:
        """Forgets the room with this casefolded name, if stored."""


def worth_keeping(channel: Channel) -> bool:
    """Whether `channel` has state that must outlive its emptying (the rule above)."""
    return bool(
        channel.modes != DEFAULT_MODES
        or channel.key is not None
        or channel.limit is not None
        or channel.topic
        or channel.bans
        or channel.excepts
        or channel.invexes
    )


def snapshot(channel: Channel) -> StoredRoom:
    """What `channel` stores."""
    return StoredRoom(
        name=channel.name,
        created=channel.created,
        modes=frozenset(channel.modes),
        key=channel.key,
        limit=channel.limit,
        topic=channel.topic,
        topic_setter=channel.topic_setter,
        topic_time=channel.topic_time,
        bans=tuple(Ban(b.mask, b.setter, b.set_at) for b in channel.bans),
        invited_accounts=frozenset(channel.invited_accounts),
        op_accounts=frozenset(channel.op_accounts),
        excepts=tuple(Ban(b.mask, b.setter, b.set_at) for b in channel.excepts),
        invexes=tuple(Ban(b.mask, b.setter, b.set_at) for b in channel.invexes),
    )


def restore(room: StoredRoom) -> Channel:
    """An empty channel with the stored state (after a restart)."""
    return Channel(
        room.name,
        room.created,
        topic=room.topic,
        topic_setter=room.topic_setter,
        topic_time=room.topic_time,
        modes=set(room.modes),
        key=room.key,
        limit=room.limit,
        bans=[Ban(b.mask, b.setter, b.set_at) for b in room.bans],
        invited_accounts=set(room.invited_accounts),
        op_accounts=set(room.op_accounts),
        excepts=[Ban(b.mask, b.setter, b.set_at) for b in room.excepts],
        invexes=[Ban(b.mask, b.setter, b.set_at) for b in room.invexes],
        stored=True,
    )


def restore_all(core: ChatCore, store: RoomStore) -> None:
    """Puts every stored room back, empty, into `core` (at start-up)."""
    for room in store.load_rooms():
        core.channels[room.folded] = restore(room)
    log.info("rooms: %d kept rooms restored", len(core.channels))


def changed(core: ChatCore, channel: Channel) -> None:
    """Stores `channel` after a change to what it keeps, or forgets it when it keeps nothing.

    Called on the loop thread after a MODE, TOPIC or INVITE (rare): one row
    written, in the current turn's transaction when there is one. A room
    that nobody is in and that no longer keeps anything (a server operator
    unset its last mode from outside) is closed.
    """
    store = core.room_store
    if worth_keeping(channel):
        if store is not None:
            store.save_room(snapshot(channel))
            channel.stored = True
    elif not channel.members:
        close(core, channel)
    elif channel.stored:
        if store is not None:
            store.remove_room(channel.folded)
        channel.stored = False


def close(core: ChatCore, channel: Channel) -> None:
    """Removes `channel` from the server (and from the store)."""
    core.channels.pop(channel.folded, None)
    for client in channel.invited:
        client.invited_to.discard(channel)
    channel.invited.clear()
    if channel.stored and core.room_store is not None:
        core.room_store.remove_room(channel.folded)
    channel.stored = False


# -- operators by account ---------------------------------------------------------


def _account(client: Client) -> str | None:
    return casefold(client.account) if client.account is not None else None


def created(channel: Channel, client: Client) -> None:
    """`client` created `channel` (and is its operator): its account is an operator account."""
    account = _account(client)
    if account is not None:
        channel.op_accounts.add(account)


def opped(channel: Channel, target: Client, adding: bool) -> None:
    """MODE +o/-o on `target`: its account (if logged in) gains or loses operator."""
    account = _account(target)
    if account is not None:
        (channel.op_accounts.add if adding else channel.op_accounts.discard)(account)


def prefixes_on_join(channel: Channel, client: Client) -> set[str]:
    """The prefixes `client` gets joining an existing room: operator for an operator account."""
    account = _account(client)
    return {"o"} if account is not None and account in channel.op_accounts else set()


# -- invitations -----------------------------------------------------------------


def invite(core: ChatCore, channel: Channel, target: Client) -> None:
    """Records an invitation: for the connection, and for its account when logged in."""
    channel.invited.add(target)
    target.invited_to.add(channel)
    account = _account(target)
    if (
        account is not None
        and account not in channel.invited_accounts
        and len(channel.invited_accounts) < MAX_INVITED_ACCOUNTS
    ):
        channel.invited_accounts.add(account)
        changed(core, channel)


def is_invited(channel: Channel, client: Client) -> bool:
    """Whether `client` (or the account it is logged in to) holds an invitation."""
    account = _account(client)
    return client in channel.invited or (
        account is not None and account in channel.invited_accounts
    )


def use_invitation(core: ChatCore, channel: Channel, client: Client) -> None:
    """`client` joined: its invitation (and its account's) is used up."""
    channel.invited.discard(client)
    client.invited_to.discard(channel)
    account = _account(client)
    if account is not None and account in channel.invited_accounts:
        channel.invited_accounts.discard(account)
        changed(core, channel)


def forget_invitations(client: Client) -> None:
    """`client` is leaving the server: its connection's invitations go with it."""
    for channel in client.invited_to:
        channel.invited.discard(client)
    client.invited_to.clear()


# -- DROP ------------------------------------------------------------------------


def may_drop(core: ChatCore, client: Client, channel: Channel) -> bool:
    """A room operator, a client logged in to an operator account, or a server operator."""
    account = _account(client)
    return (
        channel.is_op(client)
        or (account is not None and account in channel.op_accounts)
        or oper.override(core, client, channel, "DROP")
    )


def handle_drop(core: ChatCore, client: Client, msg: Message) -> None:
    """DROP <channel>: forgets a room: its modes, topic, bans, invitations,
    operator accounts and history; its members are removed with a KICK.

    The next JOIN creates the room anew, so its history goes too: whoever
    takes the name next must not read what was said behind its key.
    """
    name = msg.params[0]
    channel = core.find_channel(name)
    if channel is None or not (
        "s" not in channel.modes or client in channel.members or oper.is_oper(client)
    ):
        raise IRCError(n.ERR_NOSUCHCHANNEL, name, "No such channel")
    if not may_drop(core, client, channel):
        raise IRCError(n.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
    reason = f"Room dropped by {client.name}"
    members: Iterable[Client] = list(channel.members)
    for member in members:
        kick = Message("KICK", (channel.name, member.name, reason), client.prefix)
        core.event([channel], channel.members, kick)
        channel.members.pop(member, None)
        member.channels.pop(channel.folded, None)
    channel.audience = None
    close(core, channel)
    forgotten = core.history.forget(channel.folded) if core.history is not None else 0
    log.warning(
        "%s dropped room %s (%d history records forgotten)", client.prefix, channel.name, forgotten
    )
    text = f"Room {channel.name} dropped: its modes, topic, bans, operators and history are gone"
    core.send(client, Message("NOTICE", (client.name, text), core.config.server_name))
