"""Provides SASL: the AUTHENTICATE command, its chunks, and the PLAIN and SCRAM mechanisms."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from easychat.chat.errors import IRCError
from easychat.chat.identity import scram
from easychat.chat.identity.accounts import (
    SASL_CHUNK,
    SASL_MAX_BYTES,
    check_login,
    end_sasl,
    login,
)
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.proto.names import casefold
from easychat.proto.scram import MECHANISM as SCRAM

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

PLAIN = "PLAIN"
# The mechanisms offered, as 908 RPL_SASLMECHS and the `sasl` cap list them.
MECHANISMS = (PLAIN, SCRAM)


def handle_authenticate(core: ChatCore, client: Client, msg: Message) -> None:
    """AUTHENTICATE <mechanism> | <base64 chunk> | + | * (IRCv3 sasl-3.1; PLAIN, SCRAM-SHA-256).

    "If the client attempts to issue the AUTHENTICATE command after already
    authenticating successfully, the server MUST reject it with a 907 numeric."
    "The client can abort an authentication by sending an asterisk as the
    data. The server will send a 906 numeric."
    """
    data = msg.params[0]
    if client.account is not None:
        raise IRCError(n.ERR_SASLALREADY, "You have already authenticated using SASL")
    if data == "*":
        end_sasl(client)
        raise IRCError(n.ERR_SASLABORTED, "SASL authentication aborted")
    if core.accounts is None:
        raise IRCError(n.ERR_SASLFAIL, "SASL authentication failed")
    if client.sasl_mech is None:
        if data.upper() not in MECHANISMS:
            core.reply(
                client, n.RPL_SASLMECHS, ",".join(MECHANISMS), "are available SASL mechanisms"
            )
            raise IRCError(n.ERR_SASLFAIL, "SASL authentication failed")
        end_sasl(client)
        client.sasl_mech = data.upper()
        core.send(client, Message("AUTHENTICATE", ("+",)))
        return
    if len(data) > SASL_CHUNK or len(client.sasl_buffer) + len(data) > SASL_MAX_BYTES:
        end_sasl(client)
        raise IRCError(n.ERR_SASLTOOLONG, "SASL message too long")
    if data != "+":
        client.sasl_buffer += data
    if len(data) == SASL_CHUNK:
        return  # "If the last chunk was exactly 400 bytes long, it must also be followed by +"
    payload = client.sasl_buffer
    client.sasl_buffer = ""
    if client.sasl_mech == SCRAM:
        try:
            scram.step(core, client, payload)
        except IRCError:
            end_sasl(client)
            raise
        return
    end_sasl(client)
    _plain(core, client, payload)


def _plain(core: ChatCore, client: Client, payload: str) -> None:
    """RFC 4616 PLAIN: `authzid NUL authcid NUL passwd`, base64-encoded."""
    try:
        raw = base64.b64decode(payload, validate=True)
        authzid, authcid, password = (part.decode("utf-8") for part in raw.split(b"\0"))
    except (binascii.Error, ValueError):
        raise IRCError(n.ERR_SASLFAIL, "SASL authentication failed") from None
    if authzid and casefold(authzid) != casefold(authcid):
        # Logging in as someone else (authorization identity) is not offered.
        raise IRCError(n.ERR_SASLFAIL, "SASL authentication failed")
    account = check_login(core, client, authcid, password)
    if account is None:
        raise IRCError(n.ERR_SASLFAIL, "SASL authentication failed")
    login(core, client, account.name, PLAIN)
    core.reply(client, n.RPL_SASLSUCCESS, "SASL authentication successful")
