"""Provides the client's side of a SASL SCRAM-SHA-256 exchange (RFC 5802, RFC 7677)."""

from __future__ import annotations

import hmac

from easychat.proto.scram import (
    CHANNEL_BINDING,
    GS2_HEADER,
    ITERATIONS,
    MAX_ITERATIONS,
    ScramError,
    b64,
    b64decode,
    client_proof,
    escape_name,
    new_nonce,
    parse_attributes,
    salted_password,
    server_key_of,
    server_signature,
    valid_nonce,
)


class ScramClient:
    """One login's SCRAM exchange: each server message in, the answer out, no I/O.

    `step("")` (the server's `+`) gives client-first; `step(server-first)`
    gives client-final with the proof; `step(server-final)` checks the
    server's signature and gives the empty response. Anything else raises
    ScramError, and the caller aborts the exchange.
    """

    def __init__(self, name: str, password: str, nonce: str | None = None) -> None:
        self.password = password
        self.nonce = new_nonce() if nonce is None else nonce
        self.client_first_bare = f"n={escape_name(name)},r={self.nonce}"
        self.stage = 0  # messages answered: 0 none, 1 `+`, 2 server-first, 3 server-final
        self._expected_signature = b""

    @property
    def challenged(self) -> bool:
        """Whether the server answered client-first (so the account has keys there)."""
        return self.stage >= 2

    def step(self, server_message: str) -> str:
        """The answer to the server's next message.

        Raises:
            ScramError: the message is malformed, out of turn, or proves nothing.
        """
        self.stage += 1
        if self.stage == 1:
            if server_message:
                raise ScramError("SCRAM starts with the client's message")
            return GS2_HEADER + self.client_first_bare
        if self.stage == 2:
            return self._client_final(server_message)
        if self.stage == 3:
            self._check_server_final(server_message)
            return ""
        raise ScramError("the exchange is over")

    def _client_final(self, server_first: str) -> str:
        attributes = parse_attributes(server_first)
        if [key for key, _ in attributes[:3]] != ["r", "s", "i"]:
            raise ScramError("server-first must start with r=, s=, i=")
        nonce, salt_text, count = (value for _, value in attributes[:3])
        if not nonce.startswith(self.nonce) or nonce == self.nonce or not valid_nonce(nonce):
            raise ScramError("the server's nonce does not extend ours")
        if not count.isdigit() or not ITERATIONS <= int(count) <= MAX_ITERATIONS:
            raise ScramError(f"iteration count {count[:10]} outside {ITERATIONS}..{MAX_ITERATIONS}")
        salted = salted_password(self.password, b64decode(salt_text), int(count))
        without_proof = f"c={CHANNEL_BINDING},r={nonce}"
        auth_message = f"{self.client_first_bare},{server_first},{without_proof}"
        self._expected_signature = server_signature(server_key_of(salted), auth_message)
        return f"{without_proof},p={b64(client_proof(salted, auth_message))}"

    def _check_server_final(self, server_final: str) -> None:
        attributes = parse_attributes(server_final)
        key, value = attributes[0]
        if key == "e":
            raise ScramError(f"the server refused: {value}")
        if key != "v" or not hmac.compare_digest(b64decode(value), self._expected_signature):
            raise ScramError("the server does not know the password")
