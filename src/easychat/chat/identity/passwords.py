"""Provides password hashing for accounts and operators: scrypt, per-password salt."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt costs. N=2**14, r=8, p=1 is the scrypt paper's setting for
# interactive logins (under 100 ms; about 40 ms and 16 MiB here). OWASP's
# minimum is N=2**17, but our server hashes on its one loop thread, so a
# login that took 300 ms would stall every other client for as long; the
# cost is stored in each hash, so it can be raised later without a reset.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
# Random salt per password, and the length of the derived key, in bytes.
SALT_BYTES = 16
KEY_BYTES = 32
# Memory scrypt may use: 128 * N * r * p bytes, with room to spare.
_MAXMEM = 64 * 1024 * 1024

PREFIX = "scrypt"


def hash_password(password: str) -> str:
    """The storable hash of `password`: `scrypt$N$r$p$salt$key` (base64 parts)."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join((PREFIX, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(key)))


def verify_password(password: str, stored: str) -> bool:
    """Tells whether `password` matches `stored`, comparing in constant time.

    A malformed `stored` hash never matches (and never raises).
    """
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != PREFIX:
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
        if not (1 < n <= 2**20 and 0 < r <= 32 and 0 < p <= 16):
            return False
        derived = _derive(password, salt, n, r, p, size=len(key))
    except ValueError:
        return False
    return hmac.compare_digest(derived, key)


def _derive(password: str, salt: bytes, n: int, r: int, p: int, *, size: int = KEY_BYTES) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=size)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
