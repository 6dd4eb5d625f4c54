"""EasyChat: a terminal chat system speaking IRC."""

from __future__ import annotations

__version__ = "0.1.0"
