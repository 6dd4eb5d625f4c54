"""Provides the IRCv3 server-time format: `YYYY-MM-DDThh:mm:ss.sssZ` in UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import lru_cache


def format_time(ms: int) -> str:
    """Milliseconds since the epoch as an IRCv3 `time` tag value."""
    return _seconds(ms // 1000) + f".{ms % 1000:03d}Z"


@lru_cache(maxsize=4)
def _seconds(seconds: int) -> str:
    # Messages of the same second share this part: formatted once.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def parse_time(text: str) -> int:
    """An IRCv3 timestamp as milliseconds since the epoch.

    Raises:
        ValueError: the text is not an ISO 8601 UTC timestamp.
    """
    if not text.endswith("Z"):
        raise ValueError(f"not a UTC timestamp: {text!r}")
    moment = datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
