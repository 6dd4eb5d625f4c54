"""Provides what the user typed, understood: command parsing and line splitting."""
