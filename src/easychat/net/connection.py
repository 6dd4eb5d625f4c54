"""Provides Connection: the selector server's view of one client socket."""

from __future__ import annotations

import socket

from easychat.proto.framing import LineBuffer


class Connection:
    """The shell's view of one client socket."""

    __slots__ = ("closing", "deadline", "framing", "host", "id", "out", "secure", "sock", "writing")

    def __init__(
        self, conn_id: int, sock: socket.socket, host: str = "", *, secure: bool = False
    ) -> None:
        self.id = conn_id
        self.sock = sock
        self.host = host
        self.secure = secure
        self.deadline = 0.0  # while handshaking: when it is given up
        self.framing = LineBuffer()
        self.out = bytearray()
        self.writing = False
        self.closing = False
