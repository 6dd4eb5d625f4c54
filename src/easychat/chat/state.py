"""Provides the server's state records: clients and channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from easychat.proto.names import casefold, is_mute, mask_matches

if TYPE_CHECKING:
    from easychat.chat.identity.scram import ScramExchange
    from easychat.chat.multiline import OpenBatch
    from easychat.chat.protection.flood import FloodState


@dataclass(slots=True, eq=False)
class Client:
    """One connection, registered or not."""

    id: int
    host: str
    number: int
    connected_at: float
    nick: str | None = None
    # The last nick asked for before registration, taken or not: what
    # `REGISTER *` registers when the client holds no nick yet.
    asked_nick: str | None = None
    user: str | None = None
    realname: str = ""
    registered: bool = False
    cap_negotiating: bool = False
    caps: set[str] = field(default_factory=set)
    away: str | None = None
    modes: set[str] = field(default_factory=set)
    channels: dict[str, Channel] = field(default_factory=dict)
    # On the core's timer (never jumps): when it connected, last sent a
    # line, and was sent the keepalive PING still unanswered.
    connected_timer: float = 0.0
    last_seen: float = 0.0
    last_spoke: float = 0.0  # wall clock, for WHOIS idle
    ping_sent: float | None = None
    flood: FloodState | None = None  # flood control, None when it is off
    secure: bool = False  # arrived over TLS
    password: str | None = None  # what PASS gave, checked when registration completes
    account: str | None = None  # the account logged in to (SASL or REGISTER)
    sasl_mech: str | None = None  # the SASL mechanism under way
    sasl_buffer: str = ""  # base64 received so far in AUTHENTICATE chunks
    sasl_scram: ScramExchange | None = None  # a SCRAM exchange's state, past client-first
    oper_name: str | None = None  # the --oper name used with OPER, once it succeeded
    # Rooms that hold an invitation for this connection, so that it leaves
    # none behind in rooms that outlive it (chat/rooms.py).
    invited_to: set[Channel] = field(default_factory=set)
    # MONITOR: the nicks this client watches, folded -> as given.
    monitoring: dict[str, str] = field(default_factory=dict)
    # The msgid counter value of the first message stamped after it connected:
    # without its nick's account, its private history starts there.
    first_seq: int = 0
    local: bool = False  # arrived over the Unix socket: no IP, no per-IP limits
    # The host others see when a server operator set one (CHGHOST); `host`
    # stays the address, for the per-IP limits, throttles and bans.
    shown_host: str | None = None
    unix_user: str | None = None  # its login, from the kernel (SO_PEERCRED)
    # draft/multiline batches it has open, or closed and awaiting flood
    # control, by reference (chat/multiline.py).
    batches: dict[str, OpenBatch] = field(default_factory=dict)
    # Read markers while not logged in (chat/readmarkers.py): folded target -> ms.
    read_markers: dict[str, int] = field(default_factory=dict)
    # (id,), one tuple for the connection's life: the fast path addresses
    # private messages with it, so the shell coalesces a run of them.
    ids: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.ids = (self.id,)

    @property
    def prefix(self) -> str:
        """The client's source, `nick!user@host`, with the host others see."""
        return f"{self.nick}!{self.user}@{self.visible_host}"

    @property
    def visible_host(self) -> str:
        """The host others see: the one CHGHOST set, else the address."""
        return self.shown_host or self.host

    @property
    def address_prefix(self) -> str:
        """`nick!user@address`, with the connection's address whatever is shown."""
        return f"{self.nick}!{self.user}@{self.host}"

    @property
    def name(self) -> str:
        """The nick to address replies to (`*` before one is set)."""
        return self.nick or "*"


@dataclass(slots=True)
class Ban:
    """One entry of a channel's ban list."""

    mask: str
    setter: str
    set_at: int


@dataclass(slots=True, eq=False)
class Channel:
    """One room: its members with their prefixes, topic and modes."""

    name: str
    created: int
    members: dict[Client, set[str]] = field(default_factory=dict)
    topic: str = ""
    topic_setter: str = ""
    topic_time: int = 0
    modes: set[str] = field(default_factory=lambda: {"n", "t"})
    key: str | None = None
    limit: int | None = None
    bans: list[Ban] = field(default_factory=list)
    excepts: list[Ban] = field(default_factory=list)  # +e: ban exceptions
    invexes: list[Ban] = field(default_factory=list)  # +I: invite exceptions
    # Clients invited since they last joined; kept as clients, not nicks, so
    # an invitation does not pass to whoever takes the nick next.
    invited: set[Client] = field(default_factory=set)
    # Casefolded accounts invited (the invitee was logged in): these are
    # stored with the room and let in a client logged in to one, once.
    invited_accounts: set[str] = field(default_factory=set)
    # Casefolded accounts given operator here while logged in (the creator
    # too): a client logged in to one is made operator when it joins.
    op_accounts: set[str] = field(default_factory=set)
    # Whether the room is in the RoomStore (chat/rooms.py decides when).
    stored: bool = False
    # (member ids, common capability class): rebuilt after any change of
    # membership or of a member's capabilities (see ChatCore.audience).
    audience: tuple[tuple[int, ...], tuple[bool, bool, bool, bool] | None] | None = None

    @property
    def folded(self) -> str:
        """The casefolded name, the channel's identity."""
        return casefold(self.name)

    def is_op(self, client: Client) -> bool:
        """Tells whether `client` is a channel operator here."""
        return "o" in self.members.get(client, ())

    def is_voiced(self, client: Client) -> bool:
        """Tells whether `client` is voiced or an operator here."""
        return bool(self.members.get(client, set()) & {"o", "v"})

    def is_banned(self, client: Client) -> bool:
        """Tells whether a ban mask (not a mute) matches `client`, with no exception."""
        return self._listed(client, mute=False)

    def is_muted(self, client: Client) -> bool:
        """Tells whether a mute (`m:<mask>`) matches `client`, with no `m:` exception."""
        return self._listed(client, mute=True)

    def _listed(self, client: Client, *, mute: bool) -> bool:
        """Whether a ban of one kind (mute or not) matches, excepted by none of it."""
        bans = [b.mask for b in self.bans if is_mute(b.mask) == mute]
        if not bans:
            return False
        # A ban on the address holds whatever host is shown (CHGHOST).
        names, cut = {client.prefix, client.address_prefix}, 2 if mute else 0
        if not any(mask_matches(mask[cut:], name) for mask in bans for name in names):
            return False
        excepts = [e.mask[cut:] for e in self.excepts if is_mute(e.mask) == mute]
        return not any(mask_matches(mask, name) for mask in excepts for name in names)

    def is_invite_excepted(self, client: Client) -> bool:
        """Tells whether an invite exception (+I) lets `client` into this +i room."""
        return any(mask_matches(entry.mask, client.prefix) for entry in self.invexes)

    def mask_list(self, ch: str) -> list[Ban]:
        """The list of the type A mode `ch`: b, e or I."""
        return self.bans if ch == "b" else self.excepts if ch == "e" else self.invexes

    def prefix_of(self, client: Client) -> str:
        """The highest membership prefix of `client` (`@`, `+` or nothing)."""
        modes = self.members.get(client, set())
        if "o" in modes:
            return "@"
        if "v" in modes:
            return "+"
        return ""

    def prefixes_of(self, client: Client) -> str:
        """Every membership prefix of `client`, highest first (`@+`, `@`, ...)."""
        modes = self.members.get(client, set())
        return ("@" if "o" in modes else "") + ("+" if "v" in modes else "")

    def shown_prefix(self, member: Client, asker: Client) -> str:
        """The prefix of `member` as `asker` sees it: all of them with multi-prefix.

        IRCv3 multi-prefix: "When requested, the multi-prefix client
        capability will cause the IRC server to send all possible prefixes
        which apply to a user in NAMES, WHO and WHOIS output."
        """
        if "multi-prefix" in asker.caps:
            return self.prefixes_of(member)
        return self.prefix_of(member)

    def mode_string(self, show_key: bool) -> tuple[str, ...]:
        """The channel's modes as MODE parameters (`+ntk`, `key`, ...)."""
        flags = "".join(sorted(self.modes))
        args: list[str] = []
        if self.key is not None:
            flags += "k"
            args.append(self.key if show_key else "*")
        if self.limit is not None:
            flags += "l"
            args.append(str(self.limit))
        return ("+" + flags, *args)
