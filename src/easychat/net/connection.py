"""Provides Connection: the selector server's view of one client socket and its output queue."""

from __future__ import annotations

import socket
import ssl

from easychat.proto.framing import LineBuffer

# What a non-blocking socket (plain or TLS) raises when it would block. A TLS
# read may need to write (and a write to read), so both TLS kinds are here.
WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)

# A chunk queued no larger than this is merged into the small chunk before
# it instead of being queued on its own. Runs of small chunks come from
# replies to one client (a PONG per PING, a WHO or history listing, line by
# line); merging them costs a copy of a few hundred bytes and saves an
# iovec entry per line in the send. Room chunks shared by many members are
# usually larger and stay shared: they are referenced, never copied.
MERGE_BYTES = 512

# A pending chunk: the bytes as queued, a memoryview of the unsent tail of
# such bytes, or a bytearray of merged small chunks.
Chunk = bytes | bytearray | memoryview


class Connection:
    """The shell's view of one client socket.

    Pending output is `out`, a list of chunks in the order they are to be
    sent, and `out_bytes`, their total length. A chunk queued for many
    connections (a room's messages of one loop turn) is one bytes object
    referenced from each of their lists; the server hands each list to the
    kernel with one scatter-gather send.
    """

    __slots__ = (
        "closing",
        "deadline",
        "framing",
        "host",
        "id",
        "marked",
        "out",
        "out_bytes",
        "queued",
        "released",
        "sealed",
        "secure",
        "sock",
        "writing",
    )

    def __init__(
        self, conn_id: int, sock: socket.socket, host: str = "", *, secure: bool = False
    ) -> None:
        self.id = conn_id
        self.sock = sock
        self.host = host
        self.secure = secure
        self.deadline = 0.0  # while handshaking: when it is given up
        self.framing = LineBuffer()
        self.out: list[Chunk] = []
        self.out_bytes = 0
        self.queued = 0
        self.released = 0
        self.marked = 0
        self.sealed = False
        self.writing = False
        self.closing = False

    def sendable(self) -> int:
        """Bytes of the pending output that may be sent now (not held)."""
        return self.out_bytes - (self.queued - self.released)

    def queue(self, data: bytes) -> None:
        """Appends `data` (not empty) to the pending output, by reference when it is large.

        A small chunk that follows another small chunk is merged with it
        into a bytearray (see MERGE_BYTES); the first of a run stays a
        reference, so a turn's single room chunk is never copied.
        """
        out = self.out
        if self.sealed:
            self.sealed = False
            out.append(data)
        elif out and len(data) <= MERGE_BYTES:
            last = out[-1]
            if type(last) is bytearray:
                last += data
            elif len(last) <= MERGE_BYTES:
                merged = bytearray(last)
                merged += data
                out[-1] = merged
            else:
                out.append(data)
        else:
            out.append(data)
        self.out_bytes += len(data)
        self.queued += len(data)

    def sent(self, count: int) -> None:
        """Drops the first `count` bytes of the pending output: the kernel has them.

        Chunks sent whole are dropped; of a chunk sent in part, the unsent
        tail stays first (a view of a bytes chunk, no copy).
        """
        if count == self.out_bytes:
            self.out.clear()
            self.out_bytes = 0
            return
        self.out_bytes -= count
        out = self.out
        done = 0
        while count >= len(out[done]):
            count -= len(out[done])
            done += 1
        del out[:done]
        if count:
            head = out[0]
            if type(head) is bytearray:
                del head[:count]  # in place: CPython moves the start, no copy
            else:
                out[0] = memoryview(head)[count:]

    def clear_output(self) -> None:
        """Discards all pending output, held or not."""
        self.out.clear()
        self.out_bytes = 0
        self.released = self.marked = self.queued
