"""Provides the limits per IP address (at once, per minute, failed registrations) and exemptions."""

from __future__ import annotations

import ipaddress
import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from easychat.chat.config import CoreConfig

# The window of --connects-per-ip, in seconds ("per minute").
CONNECT_WINDOW = 60.0

# The window of --registration-failures-per-ip, in seconds. Ten minutes: long
# enough that guessing nicks or a server password from one address is slow,
# short enough that a user behind a NAT shared with a broken client is not
# locked out for long.
FAILURE_WINDOW = 600.0


@dataclass(slots=True)
class _Address:
    """What is known about one IP address."""

    open: int = 0
    connects: deque[float] = field(default_factory=deque)
    failures: deque[float] = field(default_factory=deque)

    def idle(self) -> bool:
        return not self.open and not self.connects and not self.failures


def _expire(times: deque[float], now: float, window: float) -> None:
    while times and now - times[0] >= window:
        times.popleft()


def _retry(times: deque[float], now: float, window: float) -> int:
    return max(1, math.ceil(times[0] + window - now))


class IPLimits:
    """Counts connections and failed registrations per IP address.

    Memory is bounded: each address keeps at most as many timestamps as its
    limit allows, and an address with nothing open and nothing recent is
    forgotten by `prune`.
    """

    def __init__(self, config: CoreConfig) -> None:
        self.config = config
        self._addresses: dict[str, _Address] = {}
        self._next_prune = 0.0
        nets = config.limits_exempt
        self._exempt = tuple(ipaddress.ip_network(net, strict=False) for net in nets)

    def exempt(self, host: str) -> bool:
        """Whether `host` is in `limits_exempt` (an IPv4-mapped IPv6 address as its IPv4 one)."""
        if not self._exempt:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False  # not an IP address: never exempt
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in net for net in self._exempt)

    def admit(self, host: str, now: float) -> str | None:
        """Counts a new connection from `host`; returns why it is refused, if it is."""
        if self.exempt(host):
            return None
        cfg = self.config
        entry = self._addresses.get(host) or _Address()
        _expire(entry.connects, now, CONNECT_WINDOW)
        _expire(entry.failures, now, FAILURE_WINDOW)
        limit = cfg.registration_failures_per_ip
        if limit and len(entry.failures) >= limit:
            wait = _retry(entry.failures, now, FAILURE_WINDOW)
            return f"Too many failed registrations from your address, try again in {wait} s"
        if cfg.max_clients_per_ip and entry.open >= cfg.max_clients_per_ip:
            return f"Too many connections from your address (at most {cfg.max_clients_per_ip})"
        if cfg.connects_per_ip and len(entry.connects) >= cfg.connects_per_ip:
            wait = _retry(entry.connects, now, CONNECT_WINDOW)
            return f"Connecting too often from your address, try again in {wait} s"
        entry.open += 1
        if cfg.connects_per_ip:
            entry.connects.append(now)
        self._addresses[host] = entry
        return None

    def closed(self, host: str) -> None:
        """An admitted connection from `host` ended."""
        entry = self._addresses.get(host)
        if entry is not None:
            entry.open = max(0, entry.open - 1)

    def registration_failed(self, host: str, now: float) -> bool:
        """Counts a failed registration step; True once `host` is over its limit."""
        limit = self.config.registration_failures_per_ip
        if not limit or self.exempt(host):
            return False
        entry = self._addresses.setdefault(host, _Address())
        _expire(entry.failures, now, FAILURE_WINDOW)
        entry.failures.append(now)
        return len(entry.failures) >= limit

    def prune(self, now: float) -> None:
        """Forgets addresses with nothing open and nothing inside a window (once a minute)."""
        if now < self._next_prune:
            return
        self._next_prune = now + CONNECT_WINDOW
        for host in list(self._addresses):
            entry = self._addresses[host]
            _expire(entry.connects, now, CONNECT_WINDOW)
            _expire(entry.failures, now, FAILURE_WINDOW)
            if entry.idle():
                del self._addresses[host]

    def __len__(self) -> int:
        return len(self._addresses)
