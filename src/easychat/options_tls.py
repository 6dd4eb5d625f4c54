"""Provides the server's TLS settings."""

from __future__ import annotations

from easychat.settings import Option

TLS_OPTIONS: tuple[Option, ...] = ()
