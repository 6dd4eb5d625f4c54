"""Provides the `easychat` command line: `serve`, `join`, `hash-password`, `history export`."""

from __future__ import annotations

from easychat.cli.commands import main

__all__ = ["main"]
