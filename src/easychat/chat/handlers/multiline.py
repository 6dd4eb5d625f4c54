"""Provides the relay of draft/multiline messages: whole or as lines, stored once, replayed.

A closed batch (chat/multiline.py) is relayed as one `draft/multiline`
batch, with one msgid on its BATCH line, to the recipients that have the
capability, and as its lines (the first with the msgid, blank lines left
out) to the others. History holds it as one record: the first line as a
PRIVMSG or NOTICE, so every reader of history sees a message, and the
lines after it in the MULTILINE_KEY tag, from which it is replayed as it
was sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from easychat.chat.errors import IRCError
from easychat.chat.handlers.messaging import STATUSMSG, check_can_send
from easychat.chat.history import Record, private_key
from easychat.chat.multiline import BATCH_TYPE, CAP, CONCAT_TAG, OpenBatch
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.proto.names import casefold, is_channel

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

# The tag of a stored record that holds a multiline message's lines after
# the first, each `n<text>` (a new line) or `c<text>` (joined to the one
# before, draft/multiline-concat), separated by line feeds (escaped in the
# stored line like any tag value). Never sent: replay turns it back into lines.
MULTILINE_KEY = "draft/multiline"

Lines = list[tuple[str, bool]]


def handle_batch(core: ChatCore, client: Client, msg: Message) -> None:
    """BATCH -<ref>: relays the multiline message the batch holds.

    What reaches this handler is a `BATCH -` past flood control, or a
    BATCH that chat/multiline.py did not take: another batch type, or a
    reference that is not open.
    """
    param = msg.params[0]
    if param.startswith("+"):
        kind = msg.params[1] if len(msg.params) > 1 else "*"
        core.fail(client, "BATCH", "MULTILINE_INVALID", kind, f"Only {BATCH_TYPE} batches here")
        return
    batch = client.batches.pop(param[1:], None)
    if batch is None or not batch.closed:
        core.fail(client, "BATCH", "MULTILINE_INVALID", param, "No such multiline batch open")
        return
    try:
        deliver(core, client, batch)
    except IRCError as err:
        if batch.command == "PRIVMSG":
            core.reply(client, err.numeric, *err.params)
    client.last_spoke = core.clock()


def deliver(core: ChatCore, client: Client, batch: OpenBatch) -> None:
    """Relays a closed batch to its target, echoes it, stores it; or raises its error."""
    command, target, lines = batch.command, batch.target, batch.lines
    client_tags = {**batch.tags, "bot": ""} if "B" in client.modes else batch.tags
    if target[:1] in STATUSMSG and is_channel(target[1:]):
        raise IRCError(n.ERR_CANNOTSENDTOCHAN, target, "Multiline messages go to a whole room")
    if is_channel(target):
        channel = core.find_channel(target)
        if channel is None:
            raise IRCError(n.ERR_NOSUCHCHANNEL, target, "No such channel")
        check_can_send(channel, client)
        if "C" in channel.modes and any(_is_ctcp(text) for text, _ in lines):
            raise IRCError(n.ERR_CANNOTSENDTOCHAN, channel.name, "Cannot send CTCP to channel (+C)")
        name, key = channel.name, channel.folded
        recipients = [m for m in channel.members if m is not client]
        if core.relayed is not None:
            core.relayed.append((client.name, name, " ".join(t for t, _ in lines).encode()))
    else:
        peer = core.find_client(target)
        if peer is None:
            raise IRCError(n.ERR_NOSUCHNICK, target, "No such nick/channel")
        name, key = peer.name, private_key(casefold(client.name), casefold(peer.name))
        recipients = [peer] if peer is not client else []
        if command == "PRIVMSG" and peer.away is not None:
            core.reply(client, n.RPL_AWAY, peer.name, peer.away)
        if core.relayed is not None:  # that it passed, never its text
            core.relayed.append((client.name, peer.name, None))
    if "echo-message" in client.caps:
        recipients.append(client)
    msgid, time_ms = core.stamp()
    tags = core.tags_for(msgid, time_ms, client_tags)
    send(core, recipients, client.prefix, command, name, lines=lines, tags=tags)
    record, lines_tag = stored(command, name, client.prefix, lines)
    core.record(key, record, msgid, time_ms, {**client_tags, **lines_tag})


def send(
    core: ChatCore,
    recipients: list[Client],
    source: str,
    command: str,
    target: str,
    *,
    lines: Lines,
    tags: dict[str, str],
    outer: str | None = None,
) -> None:
    """Sends one multiline message: a batch to those with the cap, lines to the rest.

    `tags` are the message's (msgid, time, client-only tags): on the BATCH
    line, or on the first line sent to the others. `outer` is the batch
    (chathistory) the message is replayed inside.
    """
    whole = [c for c in recipients if CAP in c.caps and "batch" in c.caps]
    split = [c for c in recipients if not (CAP in c.caps and "batch" in c.caps)]
    within = {"batch": outer} if outer is not None else {}
    if whole:
        ref = core.new_batch()
        start = Message("BATCH", (f"+{ref}", BATCH_TYPE, target), source)
        core.deliver(whole, start, {**tags, **within})
        for text, concat in lines:
            line_tags = {"batch": ref, CONCAT_TAG: ""} if concat else {"batch": ref}
            core.send_many(whole, Message(command, (target, text), source, line_tags))
        core.send_many(whole, Message("BATCH", (f"-{ref}",), source, within))
    if split:
        # "Servers MUST NOT send blank lines to clients that have not
        # negotiated the multiline capability", and the msgid goes on the
        # first line only.
        rest = {k: v for k, v in tags.items() if k == "time"}
        for index, text in enumerate(text for text, _ in lines if text):
            line_tags = tags if index == 0 else rest
            core.deliver(split, Message(command, (target, text), source), {**line_tags, **within})


def stored(command: str, target: str, source: str, lines: Lines) -> tuple[Message, dict[str, str]]:
    """The record of a multiline message: its first line, and the tag with the rest."""
    rest = "\n".join(("c" if concat else "n") + text for text, concat in lines[1:])
    return Message(command, (target, lines[0][0]), source), {MULTILINE_KEY: rest}


def lines_of(record: Record) -> Lines | None:
    """The lines of a stored multiline message, or None for any other record."""
    rest = record.tags.get(MULTILINE_KEY)
    if rest is None or len(record.message.params) < 2:
        return None
    lines = [(record.message.params[1], False)]
    if rest:
        lines.extend((part[1:], part[:1] == "c") for part in rest.split("\n"))
    return lines


def replay(core: ChatCore, client: Client, record: Record, outer: str | None) -> bool:
    """Sends a stored record as it was sent, if it is a multiline message; whether it was."""
    lines = lines_of(record)
    if lines is None:
        return False
    client_tags = {k: v for k, v in record.tags.items() if k != MULTILINE_KEY}
    msg = record.message
    tags = core.tags_for(record.msgid, record.time_ms, client_tags)
    assert msg.source is not None
    source, command, target = msg.source, msg.command, msg.params[0]
    send(core, [client], source, command, target, lines=lines, tags=tags, outer=outer)
    return True


def fallback_texts(record: Record) -> list[str]:
    """The lines a stored message shows as plain lines (blank ones left out)."""
    lines = lines_of(record)
    if lines is None:
        return [record.message.params[1]] if len(record.message.params) > 1 else []
    return [text for text, _ in lines if text]


def _is_ctcp(text: str) -> bool:
    """Whether a line is a CTCP other than ACTION (refused in +C rooms)."""
    return text.startswith("\x01") and not text.startswith("\x01ACTION ")
