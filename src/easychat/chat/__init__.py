"""Provides the sans-IO chat core: all server state and the command handlers."""
