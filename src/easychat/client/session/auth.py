"""Provides the client Session's login: SASL PLAIN, server password (PASS), REGISTER."""

from __future__ import annotations

import base64
from collections.abc import Callable

from easychat.client.events import Event, Line, LineKind, RegistrationFailed
from easychat.proto import numerics as n
from easychat.proto.message import Message

# sasl-3.1: "The response is encoded in Base64 (RFC 4648), then split to
# 400-byte chunks ... If the last chunk was exactly 400 bytes long, it must
# also be followed by AUTHENTICATE + to signal end of response."
SASL_CHUNK = 400

# The IRCv3 account-registration capability (still a draft).
REGISTRATION_CAP = "draft/account-registration"

# Numerics of the SASL exchange (sasl-3.1), answered here.
AUTH_NUMERICS = {
    n.RPL_LOGGEDIN,
    n.RPL_LOGGEDOUT,
    n.ERR_NICKLOCKED,
    n.RPL_SASLSUCCESS,
    n.ERR_SASLFAIL,
    n.ERR_SASLTOOLONG,
    n.ERR_SASLABORTED,
    n.ERR_SASLALREADY,
    n.RPL_SASLMECHS,
}


def plain_chunks(account: str, password: str) -> list[str]:
    """The AUTHENTICATE payloads of a PLAIN response, `+`-terminated when needed."""
    data = base64.b64encode(f"{account}\0{account}\0{password}".encode()).decode()
    chunks = [data[i : i + SASL_CHUNK] for i in range(0, len(data), SASL_CHUNK)]
    if not chunks or len(chunks[-1]) == SASL_CHUNK:
        chunks.append("+")
    return chunks


class AuthMixin:
    """The Session's side of logging in.

    With a password, the session logs in with SASL PLAIN when the server
    offers `sasl`, and otherwise sends it as the server password (PASS).
    With `create_account` it sends `REGISTER * * <password>` instead, when
    the server offers account registration. CAP END waits for the outcome.
    Mixed into `Session`, which owns the attributes declared here.
    """

    nick: str
    registered: bool
    password: str | None
    create_account: bool
    account: str | None
    _offered: set[str]
    _out: list[Message]
    _auth_pending: bool
    clock: Callable[[], float]

    def auth_caps(self) -> set[str]:
        """Capabilities to request for logging in."""
        return {"sasl"} if self.password and not self.create_account else set()

    def auth_after_ls(self) -> list[Event]:
        """Once CAP LS is complete: REGISTER, or PASS when there is no SASL."""
        if not self.password:
            return []
        if self.create_account:
            if REGISTRATION_CAP not in self._offered:
                return [RegistrationFailed("This server does not offer accounts")]
            self._out.append(Message("REGISTER", ("*", "*", self.password)))
            self._auth_pending = True
        elif "sasl" not in self._offered:
            self._out.append(Message("PASS", (self.password,)))
        return []

    def auth_after_ack(self, acked: list[str]) -> None:
        """After CAP ACK: starts SASL PLAIN if `sasl` was acknowledged."""
        if "sasl" in acked and self.password and not self.create_account:
            self._out.append(Message("AUTHENTICATE", ("PLAIN",)))
            self._auth_pending = True

    def _finish_auth(self) -> None:
        self._auth_pending = False
        if not self.registered:
            self._out.append(Message("CAP", ("END",)))

    def _on_authenticate(self, msg: Message) -> list[Event]:
        if msg.params[:1] == ("+",) and self.password and self._auth_pending:
            for chunk in plain_chunks(self.nick, self.password):
                self._out.append(Message("AUTHENTICATE", (chunk,)))
        return []

    def _auth_numeric(self, msg: Message) -> list[Event]:
        code, args = msg.command, msg.params[1:]
        if code == n.RPL_LOGGEDIN and len(args) >= 2:
            self.account = args[1]
            return [self._said(msg, f"You are logged in as {args[1]}")]
        elif code == n.RPL_LOGGEDOUT:
            self.account = None
        elif code == n.RPL_SASLSUCCESS:
            self._finish_auth()
        elif code in (n.ERR_SASLFAIL, n.ERR_SASLTOOLONG, n.ERR_NICKLOCKED) and not self.registered:
            self._auth_pending = False
            detail = args[-1] if args else "SASL authentication failed"
            return [RegistrationFailed(f"Login refused: wrong nickname or password ({detail})")]
        return []

    def _on_register(self, msg: Message) -> list[Event]:
        # REGISTER SUCCESS <account> <message>; the 900 that follows logs us in.
        if msg.params[:1] == ("SUCCESS",) and self._auth_pending:
            self._finish_auth()
            account = msg.params[1] if len(msg.params) > 2 else self.nick
            return [self._said(msg, f"Account {account} created")]
        return []

    def _said(self, msg: Message, text: str) -> Line:
        """A confirmation for the user, shown with the welcome."""
        return Line(None, LineKind.INFO, msg.source or "", text, self.clock())

    def _auth_fail(self, msg: Message) -> list[Event] | None:
        """FAIL REGISTER <code> <account> <description>; None for other FAILs."""
        if not msg.params or msg.params[0].upper() != "REGISTER":
            return None
        self._auth_pending = False
        return [RegistrationFailed(f"Cannot create the account: {msg.params[-1]}")]
