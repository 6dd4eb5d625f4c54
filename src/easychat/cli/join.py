"""Provides `easychat join`: the client's settings (JOIN_OPTIONS) and running the Textual app."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from easychat.cli.options.tls import TLS_JOIN_OPTIONS
from easychat.cli.settings import Option, SettingsError, boolean

if TYPE_CHECKING:
    from easychat.tui.app import ClientSettings


def _one_of(text: str, choices: tuple[str, ...]) -> str:
    """`text` if it is one of `choices` (any case), else a ValueError naming them."""
    if text.lower() not in choices:
        raise ValueError(f"must be one of {', '.join(choices)}")
    return text.lower()


JOIN_OPTIONS = (
    Option("nick", str, "", "nickname to fill in on the login screen"),
    Option(
        "server",
        str,
        None,
        "server address: host, host:port, [v6]:port or unix:/path (default: the"
        " Unix socket of your own or the host's server when there, else"
        " 127.0.0.1:6667, or 127.0.0.1:6697 with TLS)",
    ),
    Option("theme", str, None, "Textual theme, e.g. textual-dark, nord, gruvbox"),
    Option(
        "joins",
        lambda text: _one_of(text, ("smart", "all", "none")),
        "smart",
        "which joins, parts and quits of others to show: smart (of people who spoke in"
        " the last 10 minutes), all or none",
    ),
    Option(
        "log-dir", str, None, "directory of the local conversation logs (default: XDG data dir)"
    ),
    Option(
        "no-mouse",
        boolean,
        False,
        "leave the mouse to the terminal, so its own selection and copying work",
        flag=True,
    ),
    *TLS_JOIN_OPTIONS,
)


def client_settings(settings: dict[str, Any], args: argparse.Namespace) -> ClientSettings:
    """The client's settings from the resolved `join` settings and its switches."""
    # Imported here so that `easychat serve` never loads Textual.
    from easychat.net.client import default_server  # noqa: PLC0415 - asyncio, client only
    from easychat.tui.app import ClientSettings  # noqa: PLC0415

    tls = settings["tls"] or settings["tls_fingerprint"] is not None or settings["tls_insecure"]
    return ClientSettings(
        nick=settings["nick"],
        server=settings["server"] or default_server(bool(tls)),
        tls=tls,
        tls_fingerprint=settings["tls_fingerprint"],
        tls_insecure=settings["tls_insecure"],
        auto=args.auto,
        theme=settings["theme"],
        timestamps=not args.no_timestamps,
        log_dir=Path(settings["log_dir"]) if settings["log_dir"] else None,
        log_enabled=not args.no_log,
        joins=settings["joins"],
        mouse=not settings["no_mouse"],
    )


def join(settings: dict[str, Any], args: argparse.Namespace) -> int:
    """Runs the Textual client until the user quits."""
    from easychat.tui.app import EasyChatApp  # noqa: PLC0415

    app = EasyChatApp(client_settings(settings, args))
    if settings["theme"] and settings["theme"] not in app.available_themes:
        themes = ", ".join(sorted(app.available_themes))
        raise SettingsError(f"--theme: unknown theme {settings['theme']!r}; choose from {themes}")
    app.run(mouse=app.settings.mouse)
    return 0
