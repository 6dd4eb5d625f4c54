"""Provides `easychat history export`: a room's stored history as JSON lines or text."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator

from easychat.chat.history import Record
from easychat.proto.servertime import format_time


def as_jsonl(records: Iterable[Record]) -> Iterator[str]:
    """One JSON object per record, oldest first."""
    for record in records:
        msg = record.message
        yield json.dumps(
            {
                "time": format_time(record.time_ms),
                "msgid": record.msgid,
                "command": msg.command,
                "source": msg.source,
                "params": list(msg.params),
                "tags": record.tags,
            },
            ensure_ascii=False,
        )


def as_text(records: Iterable[Record]) -> Iterator[str]:
    """One readable line per record, like a client's log."""
    for record in records:
        msg = record.message
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.time_ms / 1000))
        nick = msg.nick or "*"
        params = msg.params
        if msg.command == "PRIVMSG" and len(params) > 1:
            text = params[1]
            if text.startswith("\x01ACTION ") and text.endswith("\x01"):
                line = f"* {nick} {text[8:-1]}"
            else:
                line = f"<{nick}> {text}"
        elif msg.command == "NOTICE" and len(params) > 1:
            line = f"-{nick}- {params[1]}"
        elif msg.command == "JOIN":
            line = f"--> {nick} joined"
        elif msg.command == "PART":
            line = f"<-- {nick} left" + (f" ({params[1]})" if len(params) > 1 else "")
        elif msg.command == "QUIT":
            line = f"<-- {nick} quit" + (f" ({params[0]})" if params else "")
        elif msg.command == "KICK" and len(params) > 1:
            line = f"<-- {params[1]} was kicked by {nick}" + (
                f" ({params[2]})" if len(params) > 2 else ""
            )
        elif msg.command == "NICK" and params:
            line = f"--- {nick} is now known as {params[0]}"
        elif msg.command == "TOPIC" and len(params) > 1:
            line = f"--- {nick} set the topic: {params[1]}"
        else:
            line = f"--- {msg.command} {' '.join(params)}"
        yield f"[{when}] {line}"
