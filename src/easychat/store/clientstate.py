"""Provides the client's remembered state per server: open rooms, private chats, read positions."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from easychat.proto.names import casefold
from easychat.store.clientlog import log_path

# The file format's version; a file with another one is ignored (and then
# rewritten), never half-understood.
STATE_VERSION = 1

# Only the owner may read the state (room keys, who one talks to privately):
# files 0600 in 0700 directories, whatever the umask.
FILE_MODE = 0o600
DIR_MODE = 0o700


@dataclass(frozen=True, slots=True)
class ReadMark:
    """Where the user stopped reading a conversation: the newest line seen."""

    time: float
    msgid: str | None = None


class StateError(Exception):
    """The state file exists but cannot be read; the message is for a person."""


def state_path(directory: Path, host: str, port: int) -> Path:
    """The state file of one server, beside its log: `127.0.0.1_6667.state.json`."""
    log = log_path(directory, host, port)
    return log.with_name(log.name.removesuffix(".sqlite3") + ".state.json")


class ClientState:
    """What the client remembers of one server between connections and runs.

    Rooms are kept while the user is in them (with the key they were joined
    with) and forgotten when parted or kicked from, so a reconnect or the
    next run joins exactly those. Names compare case-insensitively. With
    `path` None nothing is written (the state lives for this run only).
    """

    def __init__(self, path: Path | None, on_error: Callable[[str], None] | None = None) -> None:
        """Loads the state at `path`, if the file exists.

        A file that exists but cannot be read starts an empty state (the next
        save replaces it), and `on_error` says so.

        Args:
            path: The state file (see `state_path`), or None to keep nothing.
            on_error: Told, in words, when the file cannot be read or saved;
                the state then lives on in memory and the next change tries
                again. Without it, such errors raise.

        Raises:
            StateError: The file cannot be read, and there is no `on_error`.
            OSError: Saving failed, and there is no `on_error`.
        """
        self.path = path
        self.on_error = on_error
        self._rooms: dict[str, tuple[str, str | None]] = {}
        self._private: dict[str, str] = {}
        self._read: dict[str, ReadMark] = {}
        # Rooms the user left, so one the server joins us to by itself (an
        # autojoin like #lobby) is parted again rather than kept.
        self._parted: dict[str, str] = {}
        if path is not None and path.exists():
            try:
                self._load(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
                self._rooms, self._private, self._read = {}, {}, {}
                problem = f"Ignored the unreadable state file {path}: {exc}"
                if on_error is None:
                    raise StateError(problem) from exc
                on_error(problem)

    def _load(self, data: Any) -> None:
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unknown version {data.get('version')!r}")
        for room in data["rooms"]:
            key = room.get("key")
            self._rooms[casefold(room["name"])] = (str(room["name"]), str(key) if key else None)
        for name in data["private"]:
            self._private[casefold(name)] = str(name)
        for name in data.get("parted", []):
            self._parted[casefold(name)] = str(name)
        for name, mark in data["read"].items():
            msgid = mark.get("msgid")
            self._read[casefold(name)] = ReadMark(float(mark["time"]), msgid and str(msgid))

    # -- rooms and private conversations ---------------------------------------

    def rooms(self) -> list[tuple[str, str | None]]:
        """The rooms to join, each with its key or None, in the order joined."""
        return list(self._rooms.values())

    def private(self) -> list[str]:
        """The private conversations to reopen, in the order opened."""
        return list(self._private.values())

    def key(self, room: str) -> str | None:
        """The key `room` was joined with, if any."""
        entry = self._rooms.get(casefold(room))
        return entry[1] if entry is not None else None

    def joined(self, room: str, key: str | None = None) -> None:
        """We are in `room` (joined with `key`, else the key it had)."""
        folded = casefold(room)
        old = self._rooms.get(folded)
        self._rooms[folded] = (room, key or (old[1] if old else None))
        self._parted.pop(folded, None)
        self.save()

    def left(self, room: str) -> None:
        """We parted or were kicked from `room`: never rejoin it by ourselves."""
        self._rooms.pop(casefold(room), None)
        self._parted[casefold(room)] = room
        self.save()

    def was_left(self, room: str) -> bool:
        """Whether the user left `room` (and has not joined it again since)."""
        return casefold(room) in self._parted

    def opened_private(self, nick: str) -> None:
        """A private conversation with `nick` is open."""
        if casefold(nick) not in self._private:
            self._private[casefold(nick)] = nick
            self.save()

    def closed(self, name: str) -> None:
        """The conversation `name` was closed: forget it and where it was read."""
        folded = casefold(name)
        room = self._rooms.pop(folded, None)
        private = self._private.pop(folded, None)
        mark = self._read.pop(folded, None)
        if room is not None or private is not None or mark is not None:
            self.save()

    def renamed_private(self, old: str, new: str) -> None:
        """A private conversation follows its peer's nick change."""
        if self._private.pop(casefold(old), None) is not None:
            self._private[casefold(new)] = new
            mark = self._read.pop(casefold(old), None)
            if mark is not None:
                self._read[casefold(new)] = mark
            self.save()

    # -- read positions ------------------------------------------------------

    def read_mark(self, name: str) -> ReadMark | None:
        """Where the user stopped reading `name`, if known."""
        return self._read.get(casefold(name))

    def set_read(self, name: str, mark: ReadMark, *, save: bool = True) -> None:
        """Records that the user has seen `name` up to `mark` (never moving back)."""
        old = self._read.get(casefold(name))
        if old is not None and old.time >= mark.time:
            return
        self._read[casefold(name)] = mark
        if save:
            self.save()

    # -- the file ------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The state as the file holds it."""
        return {
            "version": STATE_VERSION,
            "rooms": [
                {"name": name, "key": key} if key else {"name": name}
                for name, key in self._rooms.values()
            ],
            "private": list(self._private.values()),
            "parted": list(self._parted.values()),
            "read": {
                # The display spelling of a read mark's conversation is not
                # kept: the folded name finds it again.
                folded: {"time": mark.time, "msgid": mark.msgid}
                for folded, mark in self._read.items()
            },
        }

    def save(self) -> None:
        """Writes the state (atomically); a failure goes to `on_error`."""
        if self.path is None:
            return
        try:
            self._write(self.path)
        except OSError as exc:
            if self.on_error is None:
                raise
            self.on_error(f"Could not save the client state to {self.path}: {exc}")

    def _write(self, path: Path) -> None:
        """Writes the file: a new one, 0600, renamed over the old one."""
        directory = path.parent
        # Every directory this creates is 0700 (mkdir's parents=True would
        # give the missing parents the umask's mode).
        missing = [d for d in (directory, *directory.parents) if not d.exists()]
        for new in reversed(missing):
            new.mkdir(mode=DIR_MODE, exist_ok=True)
        temp = directory / f".{path.name}.{os.getpid()}.tmp"
        data = json.dumps(self.to_json(), indent=1).encode()
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, FILE_MODE)  # an older temp file may have had other modes
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
