"""Provides the core's access state: login and registration throttles, K-lines (bans)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

# Failed logins (SASL, OPER) allowed per IP address and per account within
# LOGIN_WINDOW seconds; the next attempt is refused until the oldest failure
# ages out. ergo's default login-throttling: 3 attempts a minute. A person
# mistyping a password gets three tries; a guesser gets three a minute.
LOGIN_ATTEMPTS = 3
LOGIN_WINDOW = 60.0
# Account registrations (REGISTER that reaches the password hashing) per IP
# address within REGISTRATION_WINDOW seconds: ergo's default registration
# throttling (30 per 10 minutes). It bounds both account spam and the scrypt
# time one address can make the server loop spend.
REGISTRATION_ATTEMPTS = 30
REGISTRATION_WINDOW = 600.0
# Keys (IPs, accounts) tracked at once; past it, expired keys are dropped,
# so guessing random account names cannot grow the table without bound.
MAX_THROTTLE_KEYS = 10_000


@dataclass(slots=True)
class Kline:
    """A server ban: connections whose `nick!user@host` or IP match are refused."""

    mask: str
    reason: str
    setter: str
    expires: float | None  # None: until UNKLINE


class KlineStore(Protocol):
    """Where K-lines outlive a restart (store/accounts.py keeps them in SQLite)."""

    def load_klines(self) -> list[Kline]:
        """Every stored K-line."""

    def save_kline(self, kline: Kline) -> None:
        """Stores a K-line, replacing one on the same mask."""

    def remove_kline(self, mask: str) -> None:
        """Forgets the K-line on `mask`, if any."""


@dataclass(slots=True)
class Access:
    """Failed-login counters and K-lines, kept in memory by the chat core
    (K-lines also in its KlineStore, when it has one)."""

    failures: dict[str, list[float]] = field(default_factory=dict)
    klines: dict[str, Kline] = field(default_factory=dict)

    def wait(
        self,
        keys: Iterable[str],
        now: float,
        *,
        limit: int = LOGIN_ATTEMPTS,
        window: float = LOGIN_WINDOW,
    ) -> float:
        """Seconds until another attempt may be made for every key (0: now)."""
        longest = 0.0
        for key in keys:
            recent = self._recent(key, now, window)
            if len(recent) >= limit:
                longest = max(longest, recent[0] + window - now)
        return longest

    def failed(self, keys: Iterable[str], now: float) -> None:
        """Counts one failed login against each key."""
        if len(self.failures) >= MAX_THROTTLE_KEYS:
            for key in list(self.failures):
                window = REGISTRATION_WINDOW if key.startswith("register:") else LOGIN_WINDOW
                self._recent(key, now, window)
        for key in keys:
            if key in self.failures or len(self.failures) < MAX_THROTTLE_KEYS:
                self.failures.setdefault(key, []).append(now)

    def succeeded(self, keys: Iterable[str]) -> None:
        """Forgets the failures of each key after a good login."""
        for key in keys:
            self.failures.pop(key, None)

    def _recent(self, key: str, now: float, window: float) -> list[float]:
        times = [t for t in self.failures.get(key, ()) if now - t < window]
        if times:
            self.failures[key] = times
        else:
            self.failures.pop(key, None)
        return times
