"""Provides `python -m easychat`."""

from __future__ import annotations

from easychat.cli import main

raise SystemExit(main())
