"""Provides the server's access settings: server password, operators, account passwords."""

from __future__ import annotations

from easychat.chat import config as defaults
from easychat.cli.settings import Option, positive_int


def password_text(text: str) -> str:
    """A server password: any text but the empty string."""
    if not text:
        raise ValueError("must not be empty")
    return text


def oper_entry(text: str) -> tuple[str, str]:
    """`NAME:PASSWORD_HASH`, the hash as printed by `easychat hash-password`."""
    name, sep, hashed = text.partition(":")
    if not sep or not name or not hashed:
        raise ValueError("expected NAME:PASSWORD_HASH")
    if not hashed.startswith("scrypt$"):
        raise ValueError("the hash must come from 'easychat hash-password'")
    return name, hashed


# Each option's dest must be a CoreConfig field: `easychat serve` passes them
# straight to the chat core.
ACCESS_OPTIONS: tuple[Option, ...] = (
    Option("password", password_text, None, "server password clients must send with PASS"),
    Option(
        "oper",
        oper_entry,
        (),
        "server operator NAME:PASSWORD_HASH (repeatable; see 'easychat hash-password')",
        repeat=True,
    ),
    Option(
        "password-min-length",
        positive_int,
        defaults.PASSWORD_MIN_LENGTH,
        "shortest password REGISTER accepts for a new account",
    ),
)
