"""Provides the server's side of a SASL SCRAM-SHA-256 exchange (RFC 5802, RFC 7677).

The exchange, after `AUTHENTICATE SCRAM-SHA-256` and the server's `+`:

    C: client-first   n,,n=<account>,r=<client nonce>
    S: server-first   r=<client nonce><server nonce>,s=<salt>,i=<iterations>
    C: client-final   c=biws,r=<both nonces>,p=<proof>
    S: server-final   v=<server signature>
    C: (empty, `AUTHENTICATE +`)
    S: 900, 903

IRC SASL has no "success with additional data", so, as RFC 4422 section 5
says, the server-final message goes as a challenge and the client answers it
with an empty response before 903. The server checks the proof against the
StoredKey it keeps; it never derives a key here, so a SCRAM login costs a few
HMACs on the loop, not a PBKDF2.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from easychat.chat.errors import IRCError
from easychat.chat.identity.accounts import SASL_CHUNK, login, login_allowed
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.proto.names import casefold
from easychat.proto.scram import (
    MECHANISM,
    ScramError,
    ScramKeys,
    b64,
    b64decode,
    new_nonce,
    parse_attributes,
    proof_matches,
    server_signature,
    unescape_name,
    valid_nonce,
)

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

log = logging.getLogger("easychat.access")

NO_KEYS = f"This account has no {MECHANISM} keys yet: log in once with PLAIN, which makes them"


@dataclass(slots=True)
class ScramExchange:
    """One client's SCRAM exchange, between its client-first and its last response."""

    account: str
    keys: ScramKeys
    throttle: tuple[str, ...]  # the login throttle's keys (ip, account)
    gs2_header: str  # as the client sent it: `c=` must carry it back
    client_first_bare: str
    server_first: str
    nonce: str  # the client's nonce and ours, as client-final must echo it
    proven: bool = False  # the proof checked out; the client's empty response is due


def step(core: ChatCore, client: Client, payload: str) -> None:
    """Takes one reassembled client response (base64, empty for `+`).

    Raises:
        IRCError: 904 for a malformed message, an unknown account, an account
            without SCRAM keys, a wrong nonce or a wrong proof.
    """
    try:
        text = b64decode(payload).decode("utf-8")
        exchange = client.sasl_scram
        if exchange is None:
            _client_first(core, client, text)
        elif not exchange.proven:
            _client_final(core, client, exchange, text)
        elif text:
            raise ScramError("expected an empty response after server-final")
        else:
            client.sasl_mech = None
            client.sasl_scram = None
            login(core, client, exchange.account, MECHANISM)
            core.reply(client, n.RPL_SASLSUCCESS, "SASL authentication successful")
    except (ScramError, UnicodeDecodeError) as error:
        log.warning("malformed %s message from %s: %s", MECHANISM, client.host, error)
        raise IRCError(
            n.ERR_SASLFAIL, f"SASL authentication failed: malformed {MECHANISM}"
        ) from None


def _client_first(core: ChatCore, client: Client, text: str) -> None:
    """client-first-message = gs2-header client-first-message-bare (RFC 5802 section 7)."""
    assert core.accounts is not None
    parts = text.split(",", 2)
    if len(parts) != 3:
        raise ScramError("no GS2 header")
    flag, authzid, bare = parts
    if flag.startswith("p="):
        # Only SCRAM-SHA-256 is offered, not -PLUS: no channel binding.
        raise IRCError(n.ERR_SASLFAIL, "SASL authentication failed: channel binding unsupported")
    if flag not in ("n", "y"):  # "y": the client could bind but thinks we cannot; right
        raise ScramError("bad channel binding flag")
    attributes = parse_attributes(bare)
    if len(attributes) < 2 or attributes[0][0] != "n" or attributes[1][0] != "r":
        raise ScramError("client-first must start with n= and r=")
    if any(key == "m" for key, _ in attributes):
        raise ScramError("mandatory extension unsupported")  # RFC 5802: "MUST fail"
    name, client_nonce = unescape_name(attributes[0][1]), attributes[1][1]
    if not valid_nonce(client_nonce):
        raise ScramError("bad nonce")
    if authzid and (
        not authzid.startswith("a=") or casefold(unescape_name(authzid[2:])) != casefold(name)
    ):
        # Logging in as someone else (authorization identity) is not offered.
        raise IRCError(n.ERR_SASLFAIL, "SASL authentication failed")
    throttle = login_allowed(core, client, name)
    account = core.accounts.get(casefold(name))
    if account is None:
        log.warning("%s login as unknown account %s from %s", MECHANISM, name, client.host)
        raise IRCError(n.ERR_SASLFAIL, "SASL authentication failed")
    if account.scram is None:
        log.info("%s login as %s from %s: no keys yet", MECHANISM, name, client.host)
        raise IRCError(n.ERR_SASLFAIL, NO_KEYS)
    keys = account.scram
    nonce = client_nonce + new_nonce()
    server_first = f"r={nonce},s={b64(keys.salt)},i={keys.iterations}"
    client.sasl_scram = ScramExchange(
        account.name, keys, throttle, f"{flag},{authzid},", bare, server_first, nonce
    )
    send_response(core, client, server_first.encode())


def _client_final(core: ChatCore, client: Client, exchange: ScramExchange, text: str) -> None:
    """client-final-message = channel-binding "," nonce ["," extensions] "," proof."""
    attributes = parse_attributes(text)
    if len(attributes) < 3 or [attributes[0][0], attributes[1][0], attributes[-1][0]] != [
        "c",
        "r",
        "p",
    ]:
        raise ScramError("client-final must be c=, r=, ..., p=")
    if b64decode(attributes[0][1]) != exchange.gs2_header.encode():
        raise ScramError("channel binding does not repeat the GS2 header")
    if attributes[1][1] != exchange.nonce:
        log.warning("%s login as %s from %s: wrong nonce", MECHANISM, exchange.account, client.host)
        raise IRCError(n.ERR_SASLFAIL, "SASL authentication failed: nonce mismatch")
    proof = b64decode(attributes[-1][1])
    without_proof = text[: text.rindex(",p=")]
    auth_message = f"{exchange.client_first_bare},{exchange.server_first},{without_proof}"
    if not proof_matches(exchange.keys.stored_key, auth_message, proof):
        core.access.failed(exchange.throttle, core.clock())
        log.warning("failed %s login as %s from %s", MECHANISM, exchange.account, client.host)
        raise IRCError(n.ERR_SASLFAIL, "SASL authentication failed")
    core.access.succeeded(exchange.throttle)
    exchange.proven = True
    verifier = b64(server_signature(exchange.keys.server_key, auth_message))
    send_response(core, client, f"v={verifier}".encode())


def send_response(core: ChatCore, client: Client, data: bytes) -> None:
    """A server message as sasl-3.1 wants it: base64 in 400-byte chunks, `+` when needed."""
    text = base64.b64encode(data).decode()
    chunks = [text[i : i + SASL_CHUNK] for i in range(0, len(text), SASL_CHUNK)]
    if not chunks or len(chunks[-1]) == SASL_CHUNK:
        chunks.append("+")
    for chunk in chunks:
        core.send(client, Message("AUTHENTICATE", (chunk,)))
