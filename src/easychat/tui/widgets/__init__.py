"""Provides the chat screen's widgets: the log, the message field and the side lists."""
