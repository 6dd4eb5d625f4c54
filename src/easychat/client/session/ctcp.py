"""Provides the session's CTCP: VERSION, PING and CLIENTINFO answered, replies shown in words."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from easychat import __version__
from easychat.client.events import SERVER_CONVERSATION, Event, Line, LineKind
from easychat.proto.message import Message

# What a VERSION request to us is answered with.
CLIENT_VERSION = f"EasyChat {__version__}"

# The requests we answer (CLIENTINFO lists them, ACTION included).
ANSWERED = ("ACTION", "CLIENTINFO", "PING", "VERSION")

# Answers sent at most this many per window: a CTCP flood (one line each from
# many senders) would otherwise make us flood the server and be disconnected
# for it. irssi queues at most 5 (`max_ctcp_queue`); beyond that we stay quiet.
CTCP_REPLY_BURST = 5
CTCP_REPLY_WINDOW = 10.0  # seconds

# The longest PING argument echoed back: the request fitted one line, and a
# reply must too, whatever the sender's prefix length was.
MAX_PING_ARG = 300

# A PING reply older than this is not one of ours (or a clock jumped): it is
# shown as received instead of as a round-trip time.
MAX_ROUND_TRIP = 3600.0


def _split(text: str) -> tuple[str, str]:
    """`\\x01COMMAND args\\x01` as (COMMAND upper case, args); the closing \\x01 is optional."""
    body = text[1:].removesuffix("\x01")
    command, _, args = body.partition(" ")
    return command.upper(), args


class CtcpMixin:
    """The Session's CTCP: requests to us answered by NOTICE, replies to us shown.

    Mixed into `Session`, which owns the attributes declared here.
    """

    nick: str
    clock: Callable[[], float]
    _out: list[Message]
    _ctcp_replies: deque[float]

    if TYPE_CHECKING:

        def _line(self, msg: Message, conv: str | None, kind: LineKind, text: str) -> Line: ...

    def ctcp_request(self, target: str, command: str, args: str = "") -> Message:
        """The PRIVMSG for `/ctcp target command args`.

        A PING without an argument carries the time (`seconds microseconds`,
        as irssi and weechat send it), so its reply shows the round trip.
        """
        if command == "PING" and not args:
            now = self.clock()
            args = f"{int(now)} {int(now % 1 * 1_000_000)}"
        body = f"{command} {args}" if args else command
        return Message("PRIVMSG", (target, f"\x01{body}\x01"))

    def _ctcp(self, msg: Message, text: str, *, reply: bool, own: bool) -> list[Event]:
        """A CTCP message (not ACTION): a request (PRIVMSG) or a reply (NOTICE)."""
        sender = msg.nick
        if own or sender is None or "!" not in (msg.source or "") or "batch" in msg.tags:
            return []  # our own echo, a server, or history: nothing to answer or show
        command, args = _split(text)
        if reply:
            described = self._describe_reply(sender, command, args)
            return [self._line(msg, None, LineKind.INFO, described)]
        answer = self._answer(command, args)
        if answer is None or not self._may_reply():
            return []
        self._out.append(Message("NOTICE", (sender, f"\x01{answer}\x01")))
        text = f"{sender} sent a CTCP {command} request; answered"
        return [self._line(msg, SERVER_CONVERSATION, LineKind.INFO, text)]

    def _answer(self, command: str, args: str) -> str | None:
        if command == "VERSION":
            return f"VERSION {CLIENT_VERSION}"
        if command == "PING":
            return f"PING {args[:MAX_PING_ARG]}".rstrip()
        if command == "CLIENTINFO":
            return "CLIENTINFO " + " ".join(ANSWERED)
        return None

    def _may_reply(self) -> bool:
        now = self.clock()
        while self._ctcp_replies and now - self._ctcp_replies[0] >= CTCP_REPLY_WINDOW:
            self._ctcp_replies.popleft()
        if len(self._ctcp_replies) >= CTCP_REPLY_BURST:
            return False
        self._ctcp_replies.append(now)
        return True

    def _describe_reply(self, sender: str, command: str, args: str) -> str:
        if command == "PING":
            rtt = self._round_trip(args)
            if rtt is not None:
                return f"PING reply from {sender}: {rtt:.2f} s"
        said = f": {args}" if args else ""
        return f"{command} reply from {sender}{said}"

    def _round_trip(self, args: str) -> float | None:
        """Seconds since the time a PING reply carries (`sec usec` or `sec.frac`)."""
        parts = args.split()
        try:
            if len(parts) == 2 and all(p.isascii() and p.isdigit() for p in parts):
                sent = int(parts[0]) + int(parts[1]) / 1_000_000
            elif len(parts) == 1:
                sent = float(parts[0])
            else:
                return None
        except ValueError:
            return None
        rtt = self.clock() - sent
        return rtt if 0 <= rtt <= MAX_ROUND_TRIP else None
