"""Provides IRCv3 labeled-response: a command's label on every reply to it.

A client with `labeled-response` (and `batch`) tags a command with
`label=<id>`, and gets the same tag on the reply: on the one line of a
one-line reply, on the start of a batch around a reply of several lines
(the reply's own batch when it is one whole batch, such as a CHATHISTORY
page; else a `labeled-response` batch, any batch inside it nested), or on
an empty `ACK` when the command has nothing to say.

Handlers know nothing of this. Everything a command sends goes through
`ChatCore._out` while it runs; `Labelling.dispatch` takes what went to the
sender from there afterwards and labels it. What other people get from
the same command is not a reply and stays as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, cast

from easychat.chat.actions import Action, Close, Send
from easychat.proto.message import Message

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

# "The value MUST NOT exceed 64 bytes." A longer label is not an error: the
# command is answered as it would be without one, unlabelled.
MAX_LABEL_BYTES = 64

# Messages a client can send to itself. Without echo-message, the copy it
# then receives is a delivery, not a reply: "When a client sends a message
# to itself, the server MUST NOT include the label tag, except for any
# acknowledgment sent with the echo-message mechanism."
SELF_MESSAGES = frozenset({"PRIVMSG", "NOTICE", "TAGMSG"})


def label_of(client: Client, msg: Message) -> str | None:
    """The label for the replies to `msg` from `client`, or None for no label.

    Only a client that enabled both `labeled-response` and `batch` (which
    "MUST be negotiated to use labeled responses") gets labels, and only a
    label of 1 to MAX_LABEL_BYTES bytes is used. The capabilities are those
    the client had when it sent the line.
    """
    label = msg.tags.get("label")
    if not label or len(label.encode()) > MAX_LABEL_BYTES:
        return None
    caps = client.caps
    if "labeled-response" not in caps or "batch" not in caps:
        return None
    return label


class Labelling:
    """ChatCore's dispatch, which labels the replies to a labelled line.

    ChatCore provides `run_command` (the command table, its policy checks
    and errors as replies) and the state declared here.
    """

    _out: list[Action]

    def dispatch(self, client: Client, msg: Message) -> None:
        """Handles one parsed line from `client` now, past flood control.

        A labelled line (see `label_of`) gets its reply labelled: whatever
        the command sent to `client` while it ran.
        """
        core = cast("ChatCore", self)
        label = label_of(client, msg)
        if label is None:
            core.run_command(client, msg)
            return
        start = len(self._out)
        core.run_command(client, msg)
        self._out[start:] = labelled(core, client, label, self._out[start:])


def labelled(core: ChatCore, client: Client, label: str, actions: list[Action]) -> list[Action]:
    """`actions`, one command's output, with its reply to `client` labelled.

    A Send that reaches `client` and others is split in two: the others'
    part as it was, and `client`'s own line. Each connection still gets its
    lines in the order the command produced them.
    """
    conn = client.id
    prefix = client.prefix
    echo = "echo-message" in client.caps
    out: list[Action] = []
    mine: list[int] = []  # where in `out` the lines of the reply are
    closed_at: int | None = None  # where `client`'s connection is closed
    for action in actions:
        if isinstance(action, Close):
            if action.conn == conn and closed_at is None:
                closed_at = len(out)
            out.append(action)
            continue
        # SendBytes comes from the fast path only, which never takes a
        # labelled line: it goes on as it is.
        if not isinstance(action, Send) or conn not in action.recipients():
            out.append(action)
            continue
        msg = action.message
        if not echo and msg.command in SELF_MESSAGES and msg.source == prefix:
            out.append(action)  # a message to itself, delivered: not a reply
            continue
        others = [target for target in action.recipients() if target != conn]
        if others and action.exclude is None:
            out.append(Send(action.targets, msg, conn))  # the room's tuple, kept
        elif others:
            out.append(Send(tuple(others), msg))
        mine.append(len(out))
        out.append(Send((conn,), msg))
    server = core.config.server_name
    if not mine:
        # "Servers MUST respond with a labeled ACK message when a client
        # sends a labeled command that normally produces no response."
        ack = Send((conn,), Message("ACK", (), server, {"label": label}))
        out.insert(len(out) if closed_at is None else closed_at, ack)
        return out
    reply = [cast(Send, out[index]).message for index in mine]
    if len(reply) == 1 or _one_batch(reply):
        out[mine[0]] = Send((conn,), _tagged(reply[0], "label", label))
        return out
    ref = core.new_batch()
    for index, line in zip(mine, reply, strict=True):
        # A line of a batch inside the reply stays in that batch, whose
        # start and end lines are in this one: the batch spec's nesting.
        if "batch" not in line.tags:
            out[index] = Send((conn,), _tagged(line, "batch", ref))
    out.insert(mine[-1] + 1, Send((conn,), Message("BATCH", (f"-{ref}",), server)))
    start = Message("BATCH", (f"+{ref}", "labeled-response"), server, {"label": label})
    out.insert(mine[0], Send((conn,), start))
    return out


def _one_batch(lines: Sequence[Message]) -> bool:
    """Whether `lines` are one whole batch: its start, its lines, its end.

    Such a reply takes the label on the batch's start, as "an existing type
    applicable to the entire response".
    """
    first, last = lines[0], lines[-1]
    if first.command != "BATCH" or not first.params or not first.params[0].startswith("+"):
        return False
    ref = first.params[0][1:]
    if "batch" in first.tags or "batch" in last.tags or last.params != (f"-{ref}",):
        return False
    if last.command != "BATCH":
        return False
    # Lines of a batch nested in it (a multiline message in a chathistory
    # page) are part of it too.
    refs = {ref}
    for line in lines[1:-1]:
        if line.tags.get("batch") not in refs:
            return False
        if line.command == "BATCH" and line.params and line.params[0].startswith("+"):
            refs.add(line.params[0][1:])
    return True


def _tagged(msg: Message, key: str, value: str) -> Message:
    """`msg` with one more tag."""
    return replace(msg, tags={**msg.tags, key: value})
