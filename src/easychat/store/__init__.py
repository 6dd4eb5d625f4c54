"""Provides storage: the client's local SQLite log (and later the server history)."""
