"""Provides the abuse limits turned off, for load tests that send fast from one address."""

from __future__ import annotations

from typing import Any

from easychat.chat.config import CoreConfig

# CoreConfig fields that turn flood control and the per-IP limits off: load
# tests connect many clients from 127.0.0.1 and send as fast as they can.
NO_ABUSE_LIMITS: dict[str, Any] = {
    "flood_rate": 0.0,
    "max_clients_per_ip": 0,
    "connects_per_ip": 0,
    "registration_failures_per_ip": 0,
}

# The same for `easychat serve`.
NO_ABUSE_FLAGS: tuple[str, ...] = (
    *("--flood-rate", "0"),
    *("--max-clients-per-ip", "0"),
    *("--connects-per-ip", "0"),
    *("--registration-failures-per-ip", "0"),
)


def unlimited(**fields: Any) -> CoreConfig:
    """A CoreConfig with `fields` and every abuse limit off."""
    return CoreConfig(**{**NO_ABUSE_LIMITS, **fields})
