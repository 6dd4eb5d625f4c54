"""Provides the IRC command handlers: registration, rooms, messages, modes, queries, opers."""
