"""Provides the client's screens: login, chat, the room list and the dialogs."""
