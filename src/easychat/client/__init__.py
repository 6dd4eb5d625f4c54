"""Provides the sans-IO client core: session state, input commands, line splitting."""
