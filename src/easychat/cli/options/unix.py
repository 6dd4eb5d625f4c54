"""Provides the Unix socket settings of `serve`: `--unix` and `--unix-mode`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from easychat.cli.settings import Option
from easychat.net.unixsock import PERSONAL_MODE, SYSTEM_SOCKET_PATH, default_socket_path


def socket_mode(text: str) -> int:
    """A socket file mode in octal: `600`, `0660`, `0o666`."""
    digits = text.strip().lower().removeprefix("0o")
    if not digits or any(ch not in "01234567" for ch in digits) or int(digits, 8) > 0o777:
        raise ValueError("must be an octal mode from 000 to 777, e.g. 600 or 666")
    value = int(digits, 8)
    if not value & 0o200:
        raise ValueError("the owner needs write permission to connect")
    return value


UNIX_OPTIONS: tuple[Option, ...] = (
    Option(
        "unix",
        str,
        None,
        "Unix socket where local users connect, logged in as their Unix login; '' for none"
        " (default: $XDG_RUNTIME_DIR/easychat/irc.sock when XDG_RUNTIME_DIR is set;"
        f" a host-wide server: {SYSTEM_SOCKET_PATH} with --unix-mode 666)",
    ),
    Option(
        "unix-mode",
        socket_mode,
        PERSONAL_MODE,
        "file mode of the Unix socket, octal: 600 for yourself, 666 for every local user",
    ),
)


def unix_path(settings: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> str | None:
    """The Unix socket to listen on, or None for none.

    Unset: the personal default (None without XDG_RUNTIME_DIR); `''`: none.
    """
    chosen = settings["unix"]
    if chosen is None:
        return default_socket_path(environ.get("XDG_RUNTIME_DIR", ""))
    return chosen or None
