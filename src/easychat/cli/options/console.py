"""Provides the server's console settings: message lines, their rate, the console's buffer."""

from __future__ import annotations

from easychat.cli.settings import Option, non_negative_int, positive_int
from easychat.net.console import CONSOLE_BUFFER_BYTES
from easychat.net.messagelog import DEFAULT_RATE, MessageLogMode, log_mode

CONSOLE_OPTIONS: tuple[Option, ...] = (
    Option(
        "log-messages",
        log_mode,
        MessageLogMode.ON,
        "relayed messages on the console: on (each line, up to the rate), summary"
        " (a count per room a second) or off; private text is never shown",
    ),
    Option(
        "log-messages-rate",
        non_negative_int,
        DEFAULT_RATE,
        "message lines shown per room per second; more are counted in one line a second",
    ),
    Option(
        "console-buffer",
        positive_int,
        CONSOLE_BUFFER_BYTES,
        "bytes of output held while nobody reads the console; more lines are dropped and counted",
    ),
)
