"""Provides SCRAM-SHA-256 (RFC 5802, RFC 7677): the keys, proofs and message attributes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import stringprep
import unicodedata
from dataclasses import dataclass

MECHANISM = "SCRAM-SHA-256"

# RFC 7677: "The hash iteration-count announced by a server SHOULD be at
# least 4096." The server derives keys (PBKDF2) only when an account is
# created or logs in with PLAIN, never at a SCRAM login, so this cost is
# paid rarely; 4096 rounds of SHA-256 take a few milliseconds here.
ITERATIONS = 4096
# The most a client computes for a server: PBKDF2 runs on the client's one
# event loop, and a million rounds (about half a second) is past what any
# real server asks.
MAX_ITERATIONS = 1_000_000
# A random salt per account (RFC 5802 wants it "random"; 16 bytes as
# PostgreSQL and ergo use), and random nonce bytes per side of an exchange.
SALT_BYTES = 16
NONCE_BYTES = 18
KEY_BYTES = hashlib.sha256().digest_size

# The GS2 header of a client that uses no channel binding and names no
# authorization identity (RFC 5802 section 7: gs2-cbind-flag "n"), and the
# `c=` attribute it leads to, base64 of that header.
GS2_HEADER = "n,,"
CHANNEL_BINDING = base64.b64encode(GS2_HEADER.encode()).decode()


class ScramError(ValueError):
    """A SCRAM message the peer sent is malformed or does not check out."""


@dataclass(frozen=True, slots=True)
class ScramKeys:
    """What a server keeps of a password (RFC 5802 section 5): never the password."""

    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes


def salted_password(password: str, salt: bytes, iterations: int) -> bytes:
    """SaltedPassword := Hi(Normalize(password), salt, i), Hi being PBKDF2-HMAC-SHA-256."""
    return hashlib.pbkdf2_hmac("sha256", saslprep(password).encode(), salt, iterations)


def derive_keys(
    password: str, salt: bytes | None = None, iterations: int = ITERATIONS
) -> ScramKeys:
    """The StoredKey and ServerKey of `password` under `salt` (random when None)."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    salted = salted_password(password, salt, iterations)
    stored = hashlib.sha256(_hmac(salted, b"Client Key")).digest()
    return ScramKeys(salt, iterations, stored, _hmac(salted, b"Server Key"))


def client_proof(salted: bytes, auth_message: str) -> bytes:
    """ClientProof := ClientKey XOR HMAC(StoredKey, AuthMessage)."""
    client_key = _hmac(salted, b"Client Key")
    signature = _hmac(hashlib.sha256(client_key).digest(), auth_message.encode())
    return bytes(a ^ b for a, b in zip(client_key, signature, strict=True))


def proof_matches(stored_key: bytes, auth_message: str, proof: bytes) -> bool:
    """Whether `proof` shows knowledge of the password: H(proof XOR signature) = StoredKey."""
    if len(proof) != KEY_BYTES:
        return False
    signature = _hmac(stored_key, auth_message.encode())
    client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)


def server_signature(server_key: bytes, auth_message: str) -> bytes:
    """ServerSignature := HMAC(ServerKey, AuthMessage), the server's proof in `v=`."""
    return _hmac(server_key, auth_message.encode())


def server_key_of(salted: bytes) -> bytes:
    """ServerKey := HMAC(SaltedPassword, "Server Key"), for a client to check `v=`."""
    return _hmac(salted, b"Server Key")


def new_nonce() -> str:
    """A fresh nonce: printable, without a comma (RFC 5802's `printable`)."""
    return base64.b64encode(secrets.token_bytes(NONCE_BYTES)).decode()


def valid_nonce(nonce: str) -> bool:
    """RFC 5802: printable ASCII from 0x21 to 0x7E, without `,`; not empty."""
    return bool(nonce) and all(0x21 <= ord(c) <= 0x7E and c != "," for c in nonce)


def parse_attributes(text: str) -> list[tuple[str, str]]:
    """The `a=value` attributes of a SCRAM message, in order.

    Raises:
        ScramError: an attribute is not one letter, `=` and a value.
    """
    attributes = []
    for part in text.split(","):
        if len(part) < 2 or part[1] != "=" or not part[0].isalpha() or not part[0].isascii():
            raise ScramError(f"malformed attribute {part[:20]!r}")
        attributes.append((part[0], part[2:]))
    return attributes


def escape_name(name: str) -> str:
    """A `saslname`: `=` as `=3D` and `,` as `=2C`."""
    return name.replace("=", "=3D").replace(",", "=2C")


def unescape_name(name: str) -> str:
    """The name a `saslname` stands for.

    Raises:
        ScramError: a `=` not followed by `2C` or `3D` (RFC 5802 says to fail).
    """
    if name.replace("=2C", "").replace("=3D", "").count("="):
        raise ScramError("malformed saslname")
    return name.replace("=2C", ",").replace("=3D", "=")


def b64decode(text: str) -> bytes:
    """Strict base64.

    Raises:
        ScramError: not base64.
    """
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ScramError("malformed base64") from None


def b64(data: bytes) -> str:
    """Base64 as text."""
    return base64.b64encode(data).decode("ascii")


def saslprep(text: str) -> str:
    """RFC 4013 SASLprep of a password, as RFC 5802's Normalize() asks.

    Maps non-ASCII spaces to a space, drops what maps to nothing, applies
    NFKC, then checks the prohibited characters and bidi rules. A password
    that SASLprep would refuse is used as given, on both sides alike, so it
    still works between EasyChat's server and client (an ASCII password
    without control characters is always itself).
    """
    mapped = "".join(
        " " if stringprep.in_table_c12(c) else c for c in text if not stringprep.in_table_b1(c)
    )
    normal = unicodedata.normalize("NFKC", mapped)
    if any(_prohibited(c) for c in normal):
        return text
    if any(stringprep.in_table_d1(c) for c in normal) and (
        any(stringprep.in_table_d2(c) for c in normal)
        or not stringprep.in_table_d1(normal[0])
        or not stringprep.in_table_d1(normal[-1])
    ):
        return text
    return normal


def _prohibited(c: str) -> bool:
    return any(
        check(c)
        for check in (
            stringprep.in_table_c12,
            stringprep.in_table_c21_c22,
            stringprep.in_table_c3,
            stringprep.in_table_c4,
            stringprep.in_table_c5,
            stringprep.in_table_c6,
            stringprep.in_table_c7,
            stringprep.in_table_c8,
            stringprep.in_table_c9,
        )
    )


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()
