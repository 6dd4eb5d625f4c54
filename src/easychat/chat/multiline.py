"""Provides IRCv3 draft/multiline batches from clients: collected, checked, bounded.

A client with `batch` and `draft/multiline` sends `BATCH +ref
draft/multiline <target>`, its lines as PRIVMSG (or NOTICE) tagged
`batch=ref`, then `BATCH -ref`. The lines are held here, checked as they
come, and nothing is relayed until the batch closes; the whole message
then passes flood control as one message of N lines and is relayed by
chat/handlers/multiline.py. A batch over a limit, or not closed in
MULTILINE_TIMEOUT, is discarded with `FAIL BATCH ...`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from easychat.chat.handlers.messaging import relayed_bytes
from easychat.chat.labels import label_of, labelled
from easychat.chat.protection import flood
from easychat.proto.limits import MAX_LINE_BYTES
from easychat.proto.message import Message
from easychat.proto.names import casefold

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

CAP = "draft/multiline"
BATCH_TYPE = "draft/multiline"
CONCAT_TAG = "draft/multiline-concat"

# Total bytes of a multiline message (its lines' text plus one for each line
# feed that joins two lines, as the spec counts `max-bytes`). 4096 is
# ergo's default: a screenful of code or a stack trace, while what one
# message makes every recipient receive stays small (at most
# MULTILINE_MAX_LINES lines of under 512 bytes, about 10 KiB, against a
# 1 MiB send queue).
MULTILINE_MAX_BYTES = 4096

# Lines of a multiline message. 20 is what flood control lets a quiet
# client paste as plain lines at once (config.FLOOD_PASTE): a multiline
# message costs one token a line (see `cost`), so it can carry no more
# than the same paste sent line by line, and a full one from a quiet
# client goes out at once rather than waiting in the flood queue.
MULTILINE_MAX_LINES = 20

# Seconds a batch may stay open. A client sends its batch in one write;
# one still open after this is broken or abusive, and its lines are
# dropped (the registration timeout is 30 s for the same reason).
MULTILINE_TIMEOUT = 30.0


def cap_value() -> str:
    """The capability's value in CAP LS 302: its two limits."""
    return f"max-bytes={MULTILINE_MAX_BYTES},max-lines={MULTILINE_MAX_LINES}"


@dataclass(slots=True)
class OpenBatch:
    """A multiline batch a client has opened (and maybe closed, awaiting delivery)."""

    ref: str
    target: str
    opened: float  # on the core's timer
    label: str | None  # the BATCH + line's label, for the reply
    tags: dict[str, str]  # client-only tags of the BATCH + line
    command: str = ""  # PRIVMSG or NOTICE, from the first line
    lines: list[tuple[str, bool]] = field(default_factory=list)  # (text, concat)
    size: int = 0  # bytes as `max-bytes` counts them
    failed: bool = False  # refused: its remaining lines are dropped
    closed: bool = False  # BATCH - came: waits for flood control, then relayed


class BatchError(Exception):
    """A refused batch: becomes `FAIL BATCH <code> [<context>...] :<text>`."""

    def __init__(self, code: str, *context_and_text: str) -> None:
        super().__init__(code, *context_and_text)
        self.code = code
        self.context_and_text = context_and_text


def concerns(msg: Message) -> bool:
    """Whether `msg` may be part of a client batch (so `take` must see it)."""
    return msg.command == "BATCH" or "batch" in msg.tags


def take(core: ChatCore, client: Client, msg: Message) -> bool:
    """Handles `msg` if it opens, fills or closes a multiline batch; whether it did.

    Lines that open and fill a batch cost no flood tokens (they are
    bounded by the limits above); the closing line pays for the whole
    message. Anything else is left to the command table: a BATCH of
    another type, or a `BATCH -` of no batch, gets its error there.
    """
    if not client.registered:
        return False
    if msg.command == "BATCH":
        return _batch_line(core, client, msg)
    ref = msg.tags["batch"]
    batch = client.batches.get(ref)
    if batch is None or batch.closed:
        if msg.command not in ("PRIVMSG", "NOTICE"):
            return False
        core.fail(client, "BATCH", "MULTILINE_INVALID", ref, "No such multiline batch open")
        return True
    if not batch.failed:
        try:
            add_line(client, batch, msg)
        except BatchError as err:
            refuse(core, client, batch, err)
    return True


def _batch_line(core: ChatCore, client: Client, msg: Message) -> bool:
    """`BATCH +ref draft/multiline <target>` or `BATCH -ref`."""
    ref = msg.params[0][1:] if msg.params else ""
    if not ref:
        return False
    if msg.params[0].startswith("+"):
        if msg.params[1:2] != (BATCH_TYPE,):
            return False
        label = label_of(client, msg)
        try:
            client.batches[ref] = open_batch(core, client, msg, ref, label)
        except BatchError as err:
            _fail(core, client, label, err)
        return True
    batch = client.batches.get(ref)
    if batch is None or batch.closed:
        return False
    if batch.failed:
        del client.batches[ref]
        return True
    try:
        check_whole(batch)
    except BatchError as err:
        refuse(core, client, batch, err)
        del client.batches[ref]
        return True
    batch.closed = True
    label = batch.label or label_of(client, msg)
    closing = Message("BATCH", (f"-{ref}",), tags={"label": label} if label else {})
    if flood.admit(core, client, closing):
        core.dispatch(client, closing)
    elif client.flood is None or closing not in client.flood.queue:
        client.batches.pop(ref, None)  # refused by flood control: dropped
    return True


def open_batch(
    core: ChatCore, client: Client, msg: Message, ref: str, label: str | None
) -> OpenBatch:
    """A new batch for `BATCH +ref draft/multiline <target>`, or its error."""
    if CAP not in client.caps or "batch" not in client.caps:
        raise BatchError(
            "MULTILINE_INVALID", "Multiline batches need the batch and draft/multiline caps"
        )
    if len(msg.params) < 3 or not msg.params[2]:
        raise BatchError("MULTILINE_INVALID", "A multiline batch needs a target")
    for other in list(client.batches.values()):
        if other.failed:
            del client.batches[other.ref]  # a refused batch never closed: forgotten
        elif not other.closed:
            raise BatchError("MULTILINE_INVALID", "Another multiline batch is still open")
    if ref in client.batches:
        raise BatchError("MULTILINE_INVALID", ref, "That batch reference is in use")
    tags = {k: v for k, v in msg.tags.items() if k.startswith("+")}
    if "message-tags" not in client.caps:
        tags = {}
    return OpenBatch(ref, msg.params[2], core.timer(), label, tags)


def add_line(client: Client, batch: OpenBatch, msg: Message) -> None:
    """Adds one line of `batch`, or raises what is wrong with it."""
    if msg.command not in ("PRIVMSG", "NOTICE"):
        raise BatchError("MULTILINE_INVALID", "A multiline batch holds only PRIVMSG or NOTICE")
    if batch.command and msg.command != batch.command:
        raise BatchError("MULTILINE_INVALID", "A multiline batch holds one kind of message")
    target = msg.params[0] if msg.params else ""
    if casefold(target) != casefold(batch.target):
        raise BatchError(
            "MULTILINE_INVALID_TARGET", batch.target, target or "*", "Invalid multiline target"
        )
    text = msg.params[1] if len(msg.params) > 1 else ""
    concat = CONCAT_TAG in msg.tags and bool(batch.lines)
    if CONCAT_TAG in msg.tags and not text:
        raise BatchError("MULTILINE_INVALID", "A blank line cannot be concatenated")
    if len(batch.lines) >= MULTILINE_MAX_LINES:
        raise BatchError(
            "MULTILINE_MAX_LINES", str(MULTILINE_MAX_LINES), "Multiline batch max-lines exceeded"
        )
    size = batch.size + len(text.encode()) + (1 if batch.lines and not concat else 0)
    if size > MULTILINE_MAX_BYTES:
        raise BatchError(
            "MULTILINE_MAX_BYTES", str(MULTILINE_MAX_BYTES), "Multiline batch max-bytes exceeded"
        )
    if relayed_bytes(client.prefix, msg.command, (batch.target, text)) > MAX_LINE_BYTES - 2:
        raise BatchError("MULTILINE_INVALID", "A line is too long to relay, split it")
    batch.command = msg.command
    batch.lines.append((text, concat))
    batch.size = size


def check_whole(batch: OpenBatch) -> None:
    """Raises unless the closed `batch` is a message: some line not blank."""
    if not any(text for text, _ in batch.lines):
        raise BatchError("MULTILINE_INVALID", "A multiline message needs a line that is not blank")


def refuse(core: ChatCore, client: Client, batch: OpenBatch, err: BatchError) -> None:
    """Discards `batch`'s lines (those still to come are dropped too) and says why."""
    batch.failed = True
    batch.lines.clear()
    _fail(core, client, batch.label, err)


def _fail(core: ChatCore, client: Client, label: str | None, err: BatchError) -> None:
    """Sends the FAIL of `err`, with the batch's label when it has one."""
    start = len(core._out)
    core.fail(client, "BATCH", err.code, *err.context_and_text)
    if label is not None:
        core._out[start:] = labelled(core, client, label, core._out[start:])


def expire(core: ChatCore, client: Client) -> None:
    """Discards the client's batches left open past MULTILINE_TIMEOUT."""
    now = core.timer()
    for batch in list(client.batches.values()):
        if batch.closed or now - batch.opened < MULTILINE_TIMEOUT:
            continue
        if batch.failed:
            del client.batches[batch.ref]
            continue
        refuse(
            core,
            client,
            batch,
            BatchError("MULTILINE_INVALID", batch.ref, "Multiline batch timed out, discarded"),
        )
