"""Provides access checks at registration: the server password (PASS), for now."""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING

from easychat.proto import numerics as n

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

log = logging.getLogger("easychat.access")


def password_matches(expected: str, given: str | None) -> bool:
    """Compares a server password in constant time (no early exit on a mismatch)."""
    if given is None:
        # Still compare, so a missing password costs what a wrong one does.
        hmac.compare_digest(expected.encode(), b"")
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def admit(core: ChatCore, client: Client) -> bool:
    """Checks a client about to complete registration; refuses it if it may not in.

    Modern IRC, PASS: "If the password supplied does not match the password
    expected by the server, then the server SHOULD send ERR_PASSWDMISMATCH
    (464) and MAY then close the connection with ERROR."

    Returns:
        True when registration may go on; False when the client was refused
        (and is being closed).
    """
    expected = core.config.password
    if expected is not None and not password_matches(expected, client.password):
        log.warning(
            "refused %s from %s: wrong or missing server password", client.name, client.host
        )
        core.reply(client, n.ERR_PASSWDMISMATCH, "Password incorrect")
        core.quit(client, "Bad password", tell_client=True)
        return False
    return True
