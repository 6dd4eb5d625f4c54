"""Provides ChatCore: the server's state machine, fed lines and returning actions."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterable, Sequence

from easychat.chat import multiline, rooms
from easychat.chat.actions import Action, Close, Command, Relayed, Send
from easychat.chat.commands import COMMANDS
from easychat.chat.config import CoreConfig
from easychat.chat.delivery import Delivery
from easychat.chat.errors import IRCError
from easychat.chat.fastpath import relay_line, relay_run
from easychat.chat.handlers import monitor
from easychat.chat.history import HistoryStore
from easychat.chat.identity import unixusers
from easychat.chat.identity.accounts import AccountStore
from easychat.chat.labels import Labelling
from easychat.chat.nickhistory import NickHistory
from easychat.chat.protection import flood
from easychat.chat.protection.access import Access, KlineStore
from easychat.chat.protection.iplimits import IPLimits
from easychat.chat.readmarkers import ReadMarkers, ReadMarkerStore
from easychat.chat.rooms import RoomStore, restore_all
from easychat.chat.search import SearchIndex
from easychat.chat.state import Channel, Client
from easychat.proto import numerics as n
from easychat.proto.message import LineTooLongError, Message, ProtocolError, parse
from easychat.proto.names import casefold

log = logging.getLogger("easychat.chat")

# Seconds between two runs of history retention (--history-days).
PRUNE_INTERVAL = 3600.0

# Commands whose failure before registration counts against the client's
# address (--registration-failures-per-ip): a refused nick, user or password.
REGISTRATION_STEPS = frozenset({"NICK", "USER", "PASS"})


def _sendable_middle(param: str) -> bool:
    """Tells whether `param` can be sent as a parameter other than the last."""
    return bool(param) and " " not in param and not param.startswith(":")


class ChatCore(Delivery, Labelling):
    """All server state. Feed it connection events; it returns what to send.

    Every public method returns the list of actions (`Send`, `Close`) that the
    I/O shell must carry out, in order. Nothing here touches a socket or the
    clock directly: wall time (message times, WHOIS, bans) comes from
    `clock`, and the timeouts and flood control run on `timer`, a clock
    that never jumps (time.monotonic; by default the injected `clock` when
    one is given, so a test's fake clock drives both). A wall clock stepped
    by NTP or a resumed VM must not time everyone out at once.

    `unix_users` tells whether a name is a local login; the shell gives it
    when it listens on a Unix socket, and those names are then reserved
    nicks (see chat/identity/unixusers.py).
    """

    def __init__(
        self,
        config: CoreConfig,
        clock: Callable[[], float] = time.time,
        history: HistoryStore | None = None,
        accounts: AccountStore | None = None,
        *,
        klines: KlineStore | None = None,
        rooms: RoomStore | None = None,
        read_markers: ReadMarkerStore | None = None,
        search: SearchIndex | None = None,
        timer: Callable[[], float] | None = None,
        unix_users: Callable[[str], bool] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.timer = timer or (time.monotonic if clock is time.time else clock)
        self.commands: dict[str, Command] = COMMANDS
        self.clients: dict[int, Client] = {}
        self.nicks: dict[str, Client] = {}
        self.channels: dict[str, Channel] = {}
        self.connections_total = 0
        # Customer numbers go to clients welcomed, not connections: a port
        # probe or health check must not take the first customer's number.
        self.customers = 0
        # LUSERS figures, kept as clients register, change +i and leave, so
        # that welcoming a client does not count every other one.
        self.users = 0  # registered clients
        self.invisible = 0  # registered clients with user mode +i
        self.max_users = 0  # the most registered clients at once since the start
        self.nick_history = NickHistory()  # nicks left, for WHOWAS
        self.monitors: dict[str, set[Client]] = {}  # folded nick -> who MONITORs it
        # Renamed rooms: old folded name -> (new name, until when on `timer`).
        self.renames: dict[str, tuple[str, float]] = {}
        self.started = clock()
        self._out: list[Action] = []
        self.history = history
        self.search = search  # the full-text index of the history (SEARCH)
        self.accounts = accounts
        self.unix_users = unix_users
        self.access = Access()  # failed-login throttles, K-lines
        self.kline_store = klines
        if klines is not None:
            for kline in klines.load_klines():
                self.access.klines[kline.mask] = kline
        self.room_store = rooms  # kept rooms (chat/rooms.py), restored empty
        if rooms is not None:
            restore_all(self, rooms)
        self.read_markers = ReadMarkers(read_markers)  # draft/read-marker
        # Times never go backwards, so history ids and times agree.
        self._last_ms = history.last_time_ms() if history is not None else 0
        self._batches = 0
        # msgids: a random prefix per server start (48 bits, so restarts do
        # not collide) and a counter; one urandom call per start, not per
        # message.
        self._msgid_prefix = secrets.token_hex(6)
        self._msgid_seq = 0
        self._uncommitted = False
        self._history_read = False
        self._next_prune = 0.0
        self.ip_limits = IPLimits(config)
        # Plain PRIVMSG and NOTICE lines take chat/fastpath.py; tests turn
        # it off to compare it with the general path.
        self.fast_relay = True
        # Relayed messages noted for the console (net/messagelog.py), which
        # empties the list every turn; None (the default) notes nothing.
        self.relayed: list[Relayed] | None = None

    @property
    def has_accounts(self) -> bool:
        """Whether any client can have an account (SASL or the Unix socket).

        Only then are account tags looked up.
        """
        return self.accounts is not None or self.unix_users is not None

    # -- events from the shell -------------------------------------------

    def connect(
        self,
        conn: int,
        host: str,
        *,
        secure: bool = False,
        local: bool = False,
        peer_user: str | None = None,
    ) -> list[Action]:
        """A connection was accepted from `host` (an IP address); `secure`: over TLS.

        `local`: over the Unix socket, from the login `peer_user` (None when
        the kernel's uid has no name); the per-IP limits do not apply to it.
        """
        now = self.clock()
        if local:
            host = unixusers.UNIX_HOST
        if host.startswith(":"):
            host = "0" + host  # "::1" would read as a trailing parameter
        if len(self.clients) >= self.config.max_clients:
            log.warning("refused %s: server is full (%d clients)", host, len(self.clients))
            self._out.append(Send((conn,), Message("ERROR", ("Server is full, try again later",))))
            self._out.append(Close(conn, "server full"))
            return self._take()
        refusal = None if local else self.ip_limits.admit(host, now)
        if refusal is not None:
            log.warning("refused %s: %s", host, refusal)
            self._out.append(Send((conn,), Message("ERROR", (refusal,))))
            self._out.append(Close(conn, refusal))
            return self._take()
        self.connections_total += 1
        client = Client(conn, host, 0, now, secure=secure)  # numbered once welcomed
        client.connected_timer = client.last_seen = self.timer()
        client.flood = flood.new_state(self.config, client.connected_timer)
        client.first_seq = self._msgid_seq + 1
        if local:
            unixusers.identify(client, peer_user)
        self.clients[conn] = client
        log.info("connection %d from %s (connection number %d)", conn, host, self.connections_total)
        return self._take()

    def receive(self, conn: int, line: bytes) -> list[Action]:
        """A complete line (without its terminator) arrived on `conn`."""
        client = self.clients.get(conn)
        if client is None:
            return []
        client.last_seen = self.timer()
        client.ping_sent = None
        if self.fast_relay and relay_line(self, client, line):
            return self._take()
        return self._receive_general(client, line)

    def _receive_general(self, client: Client, line: bytes) -> list[Action]:
        """A line the fast path left: decoded, parsed, admitted, dispatched."""
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            word = line.split(b" ", 1)[0]
            command = word.decode().upper() if word.isascii() and word.isalpha() else "*"
            self.fail(client, command, "INVALID_UTF8", "Message rejected, it was not UTF-8")
            return self._take()
        try:
            msg = parse(text)
        except LineTooLongError:
            self.reply(client, n.ERR_INPUTTOOLONG, "Input line was too long")
            return self._take()
        except ProtocolError as exc:
            self.reply(client, n.ERR_UNKNOWNERROR, "*", f"Malformed message: {exc}")
            return self._take()
        if multiline.concerns(msg) and multiline.take(self, client, msg):
            return self._take()
        if flood.admit(self, client, msg):
            self.dispatch(client, msg)
        return self._take()

    def receive_run(
        self, conn: int, lines: Sequence[object], start: int
    ) -> tuple[list[Action], int]:
        """`lines[start]` and maybe the lines after it arrived on `conn`.

        Relays at once the run of plain lines from `start` that the fast
        path takes (see `relay_run`), or else handles the one line at
        `start`. Returns the actions and the index of the next line: the
        shell carries out the actions before it hands on more, so a line
        that closes the connection or starts TLS is followed by nothing.
        """
        client = self.clients.get(conn)
        if client is None:
            return [], len(lines)
        client.last_seen = self.timer()
        client.ping_sent = None
        if self.fast_relay:
            end = relay_run(self, client, lines, start)
            if end > start:
                return self._take(), end
        line = lines[start]
        assert isinstance(line, bytes)
        return self._receive_general(client, line), start + 1

    def line_too_long(self, conn: int) -> list[Action]:
        """The framing dropped a line from `conn` that exceeded every limit."""
        client = self.clients.get(conn)
        if client is not None:
            self.reply(client, n.ERR_INPUTTOOLONG, "Input line was too long")
        return self._take()

    def disconnect(self, conn: int, reason: str) -> list[Action]:
        """The connection went away (EOF, error, send queue full, ...)."""
        client = self.clients.get(conn)
        if client is not None:
            self.quit(client, reason, tell_client=False)
        return self._take()

    def tick(self) -> list[Action]:
        """Runs timers: registration timeout, keepalive PING, ping timeout, retention."""
        now = self.clock()
        cfg = self.config
        if self.history is not None and cfg.history_days > 0 and now >= self._next_prune:
            removed = self.history.prune(int((now - cfg.history_days * 86400) * 1000))
            self._next_prune = now + PRUNE_INTERVAL
            if removed:
                log.info(
                    "history: removed %d records older than %g days", removed, cfg.history_days
                )
        self.ip_limits.prune(now)
        timer = self.timer()
        for client in list(self.clients.values()):
            if client.flood is not None and client.flood.queue:
                flood.drain(self, client)  # lines held by flood control, as tokens come in
                if client.id not in self.clients:
                    continue
            if client.batches:
                multiline.expire(self, client)
            if not client.registered:
                if timer - client.connected_timer >= cfg.registration_timeout:
                    if not client.local:
                        self.ip_limits.registration_failed(client.host, now)
                    self.quit(client, "Registration timed out", tell_client=True)
            elif client.ping_sent is not None:
                if timer - client.ping_sent >= cfg.ping_timeout:
                    idle = int(timer - client.last_seen)
                    self.quit(client, f"Ping timeout: {idle} seconds", tell_client=True)
            elif timer - client.last_seen >= cfg.ping_interval:
                client.ping_sent = timer
                self.send(client, Message("PING", (cfg.server_name,)))
        return self._take()

    def end_turn(self, *, sync: bool = True) -> bool:
        """Makes this turn's history durable; the shell calls it before sending.

        With `sync=False` the turn is committed and the fsync left to the
        shell (`history.sync`); returns whether one is owed before this
        turn's output may be sent: when the turn stored records, and when
        it read history (`read_history`), which may hold records of a turn
        whose fsync is still running.
        """
        read, self._history_read = self._history_read, False
        history = self.history
        if history is None:
            return False
        if self._uncommitted:
            self._uncommitted = False
            history.commit(sync=sync)
            return not sync and history.syncs
        # A turn that only read history waits for the fsync of what it read.
        return read and not sync and history.syncs

    def shutdown(self, reason: str = "Server shutting down") -> list[Action]:
        """Tells every client the server is going away and closes them all."""
        for client in list(self.clients.values()):
            self.send(client, Message("ERROR", (reason,)))
            self._out.append(Close(client.id, reason))
        self.clients.clear()
        self.nicks.clear()
        self.channels.clear()
        self.users = self.invisible = 0
        return self._take()

    # -- helpers for handlers ---------------------------------------------

    def _take(self) -> list[Action]:
        out, self._out = self._out, []
        return out

    def run_command(self, client: Client, msg: Message) -> None:
        """Runs one line's command and its policy; `dispatch` (chat/labels.py) labels it."""
        command = self.commands.get(msg.command)
        try:
            if command is None:
                if client.registered:
                    raise IRCError(n.ERR_UNKNOWNCOMMAND, msg.command, "Unknown command")
                raise IRCError(n.ERR_NOTREGISTERED, "You have not registered")
            if not client.registered and not command.before_registration:
                raise IRCError(n.ERR_NOTREGISTERED, "You have not registered")
            if len(msg.params) < command.min_params:
                raise IRCError(n.ERR_NEEDMOREPARAMS, msg.command, "Not enough parameters")
            command.handler(self, client, msg)
        except IRCError as err:
            if msg.command != "NOTICE":  # RFC 2812: never reply to a NOTICE
                self.reply(client, err.numeric, *err.params)
            if not client.registered and msg.command in REGISTRATION_STEPS:
                self.registration_failed(client)

    def registration_failed(self, client: Client) -> None:
        """Counts a failed registration step against the client's address.

        Past --registration-failures-per-ip the connection is closed, and the
        address is refused until the oldest failure leaves the window.
        """
        if client.local:
            return
        over = self.ip_limits.registration_failed(client.host, self.clock())
        if over and self.clients.get(client.id) is client:
            log.warning("%s: too many failed registrations", client.host)
            reason = "Too many failed registration attempts from your address"
            self.quit(client, reason, tell_client=True)

    def send(self, client: Client, msg: Message) -> None:
        """Queues `msg` for one client."""
        self._out.append(Send((client.id,), msg))

    def send_many(self, clients: Iterable[Client], msg: Message) -> None:
        """Queues one `msg` for many clients (encoded once by the shell)."""
        targets = tuple(c.id for c in clients)
        if targets:
            self._out.append(Send(targets, msg))

    def reply(self, client: Client, numeric: str, *params: str) -> None:
        """Queues a numeric reply from the server to `client`.

        Replies often echo what the client sent (a nick, a target, a CAP
        subcommand). A middle parameter that could not go on the wire (empty,
        holding a space, starting with ':') is sent as `*` instead, so peer
        input never makes the core build a line that cannot be sent.
        """
        *middle, last = (client.name, *params)
        safe = tuple(p if _sendable_middle(p) else "*" for p in middle)
        self.send(client, Message(numeric, (*safe, last), self.config.server_name))

    def close(self, client: Client, reason: str) -> None:
        """Queues the closing of `client`'s connection."""
        self._out.append(Close(client.id, reason))

    def fail(self, client: Client, command: str, code: str, *context_and_text: str) -> None:
        """Queues the standard reply `FAIL <command> <code> [<context>...] :<text>`.

        Like `reply`, context that came from the client and could not go on
        the wire as a middle parameter is sent as `*`.
        """
        parts = [command, code, *context_and_text]
        safe = [p if _sendable_middle(p) else "*" for p in parts[:-1]]
        self.send(client, Message("FAIL", (*safe, parts[-1]), self.config.server_name))

    def find_client(self, nick: str) -> Client | None:
        """The registered client with this nick, if any."""
        client = self.nicks.get(casefold(nick))
        return client if client is not None and client.registered else None

    def find_channel(self, name: str) -> Channel | None:
        """The channel with this name, if it exists."""
        return self.channels.get(casefold(name))

    def neighbours(self, client: Client) -> set[Client]:
        """Everyone who shares at least one channel with `client`, not `client`."""
        peers: set[Client] = set()
        for channel in client.channels.values():
            peers.update(channel.members)
        peers.discard(client)
        return peers

    def remove_member(self, channel: Channel, client: Client) -> None:
        """Takes `client` out of `channel`, closing the channel when empty
        unless it is kept (chat/rooms.py)."""
        channel.members.pop(client, None)
        channel.audience = None
        client.channels.pop(channel.folded, None)
        if not channel.members:
            if rooms.worth_keeping(channel):
                log.info("room %s is empty and kept", channel.name)
            else:
                rooms.close(self, channel)
                log.info("room %s closed (empty)", channel.name)

    def quit(self, client: Client, reason: str, *, tell_client: bool) -> None:
        """Removes `client` everywhere, tells its neighbours, closes it."""
        if client.registered:
            self.event(
                client.channels.values(),
                self.neighbours(client),
                Message("QUIT", (reason,), client.prefix),
            )
            self.nick_history.left(client, self.clock())
            monitor.offline(self, client.name)
        monitor.forget(self, client)
        for channel in list(client.channels.values()):
            self.remove_member(channel, client)
        rooms.forget_invitations(client)
        if client.nick is not None and self.nicks.get(casefold(client.nick)) is client:
            del self.nicks[casefold(client.nick)]
        if self.clients.pop(client.id, None) is not None:
            if not client.local:
                self.ip_limits.closed(client.host)
            if client.registered:
                self.users -= 1
                self.invisible -= "i" in client.modes
        if tell_client:
            self.send(client, Message("ERROR", (f"Closing link: {client.host} ({reason})",)))
            self.close(client, reason)
        log.info("%s disconnected (%s)", client.nick or f"connection {client.id}", reason)
