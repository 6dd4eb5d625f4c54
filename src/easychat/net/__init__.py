"""Provides the I/O shells around the sans-IO cores."""
