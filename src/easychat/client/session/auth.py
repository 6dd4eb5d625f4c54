"""Provides the client Session's login: SASL SCRAM-SHA-256 or PLAIN, server password, REGISTER."""

from __future__ import annotations

import base64
from collections.abc import Callable

from easychat.client.events import Event, Line, LineKind, RegistrationFailed
from easychat.client.session.scram import ScramClient
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.proto.scram import MECHANISM as SCRAM
from easychat.proto.scram import ScramError, b64decode

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


def sasl_chunks(data: bytes) -> list[str]:
    """The AUTHENTICATE payloads of a response, `+`-terminated when needed."""
    text = base64.b64encode(data).decode()
    chunks = [text[i : i + SASL_CHUNK] for i in range(0, len(text), SASL_CHUNK)]
    if not chunks or len(chunks[-1]) == SASL_CHUNK:
        chunks.append("+")
    return chunks


def plain_chunks(account: str, password: str) -> list[str]:
    """The AUTHENTICATE payloads of a PLAIN response, `+`-terminated when needed."""
    return sasl_chunks(f"{account}\0{account}\0{password}".encode())


class AuthMixin:
    """The Session's side of logging in.

    With a password, the session logs in with SASL when the server offers
    `sasl`: SCRAM-SHA-256 when the server lists it (sasl-3.2's value), so the
    password never crosses the wire, else PLAIN; without `sasl` it sends the
    password as the server password (PASS). When SCRAM is refused before
    the server's challenge (sasl-3.1: "the client MAY try another
    mechanism"), as for an account made before the server had SCRAM keys,
    it tries PLAIN once, which lets the server make them.
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
    sasl_mechanisms: set[str]  # the `sasl` cap's value in CAP LS (sasl-3.2)
    _out: list[Message]
    _auth_pending: bool
    _scram: ScramClient | None  # the SCRAM exchange under way; None for PLAIN
    _sasl_in: str  # base64 of a server message, received in 400-byte chunks
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
        """After CAP ACK: starts SASL (SCRAM-SHA-256 when offered) if `sasl` was acknowledged."""
        if "sasl" in acked and self.password and not self.create_account:
            self._sasl_in = ""
            if SCRAM in self.sasl_mechanisms:
                self._scram = ScramClient(self.nick, self.password)
                self._out.append(Message("AUTHENTICATE", (SCRAM,)))
            else:
                self._scram = None
                self._out.append(Message("AUTHENTICATE", ("PLAIN",)))
            self._auth_pending = True

    def _finish_auth(self) -> None:
        self._auth_pending = False
        if not self.registered:
            self._out.append(Message("CAP", ("END",)))

    def _on_authenticate(self, msg: Message) -> list[Event]:
        if not msg.params or not self.password or not self._auth_pending:
            return []
        data = msg.params[0]
        if data != "+":
            self._sasl_in += data
        if len(data) == SASL_CHUNK:
            return []  # more of this message follows
        payload, self._sasl_in = self._sasl_in, ""
        if self._scram is None:
            chunks = plain_chunks(self.nick, self.password)
        else:
            try:
                chunks = sasl_chunks(self._scram.step(b64decode(payload).decode()).encode())
            except (ScramError, UnicodeDecodeError) as error:
                # Abort (906 follows) rather than log in to a server that
                # could not prove it holds our keys.
                self._out.append(Message("AUTHENTICATE", ("*",)))
                self._auth_pending = False
                return [RegistrationFailed(f"Login failed: {SCRAM} went wrong ({error})")]
        self._out.extend(Message("AUTHENTICATE", (chunk,)) for chunk in chunks)
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
        elif code == n.ERR_SASLFAIL and self._auth_pending and self._scram_refused_early():
            # SCRAM refused before its challenge (no keys there yet): PLAIN, once.
            self._scram = None
            self._sasl_in = ""
            self._out.append(Message("AUTHENTICATE", ("PLAIN",)))
        elif code in (n.ERR_SASLFAIL, n.ERR_SASLTOOLONG, n.ERR_NICKLOCKED) and not self.registered:
            self._auth_pending = False
            detail = args[-1] if args else "SASL authentication failed"
            return [RegistrationFailed(f"Login refused: wrong nickname or password ({detail})")]
        return []

    def _scram_refused_early(self) -> bool:
        return not self.registered and self._scram is not None and not self._scram.challenged

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
