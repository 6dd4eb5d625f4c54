"""Provides the option groups of `easychat serve` and `join`: access, limits, TLS, Unix socket."""
