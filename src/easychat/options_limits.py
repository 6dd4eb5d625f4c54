"""Provides the server's abuse and load limit settings (flood control, per-IP limits)."""

from __future__ import annotations

from easychat.settings import Option

# Each option's dest must be a CoreConfig field: `easychat serve` passes them
# straight to the chat core. A value of 0 turns that limit off.
LIMIT_OPTIONS: tuple[Option, ...] = ()
