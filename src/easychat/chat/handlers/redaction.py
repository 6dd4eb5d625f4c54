"""Provides REDACT (IRCv3 draft/message-redaction): deleting a message from everyone's view."""

from __future__ import annotations

from typing import TYPE_CHECKING

from easychat.chat.handlers.chathistory import owns_nick
from easychat.chat.history import Record, Selector, private_key
from easychat.proto.message import Message
from easychat.proto.names import casefold, is_channel

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Channel, Client

CAP = "draft/message-redaction"

# The commands a REDACT may name: "which MUST be a PRIVMSG, NOTICE, or TAGMSG".
REDACTABLE = frozenset(("PRIVMSG", "NOTICE", "TAGMSG"))


class RedactError(Exception):
    """A refused REDACT: becomes `FAIL REDACT <code> <context>... :<text>`."""

    def __init__(self, code: str, *context_and_text: str) -> None:
        super().__init__(code, *context_and_text)
        self.code = code
        self.context_and_text = context_and_text


def handle_redact(core: ChatCore, client: Client, msg: Message) -> None:
    """REDACT <target> <msgid> [:<reason>].

    "If the client is authorised to delete the message, the server SHOULD
    forward this REDACT, with an appropriate prefix, to the target
    recipients that have negotiated the draft/message-redaction capability,
    in the same way as PRIVMSG messages." Who is authorised: the message's
    sender (see `is_sender`), in a room also its operators, and server
    operators. The message leaves the stored history in this turn's
    transaction, committed before the REDACT reaches anyone.
    """
    target, msgid = msg.params[0], msg.params[1]
    reason = msg.params[2] if len(msg.params) > 2 else None
    try:
        redact(core, client, target, msgid, reason)
    except RedactError as err:
        core.fail(client, "REDACT", err.code, *err.context_and_text)


def redact(core: ChatCore, client: Client, target: str, msgid: str, reason: str | None) -> None:
    """Checks, removes and relays one redaction, or raises its RedactError."""
    channel: Channel | None = None
    if is_channel(target):
        channel = core.find_channel(target)
        # A room's messages are for its members: to anyone else (but a
        # server operator) the room might as well not exist.
        if channel is None or (client not in channel.members and client.oper_name is None):
            raise RedactError("INVALID_TARGET", target, f"You cannot delete messages from {target}")
        key, shown = channel.folded, channel.name
    elif target and target != "*" and " " not in target:
        key, shown = private_key(casefold(client.name), casefold(target)), target
    else:
        raise RedactError("INVALID_TARGET", target or "*", "Invalid target")
    history = core.read_history()
    record = find(core, key, msgid) if history is not None else None
    # In a private conversation, what the client may not read (see
    # chathistory.owns_nick) is, for it, not there.
    if record is not None and channel is None and not may_read(core, client, record):
        record = None
    if history is None or record is None:
        raise RedactError(
            "UNKNOWN_MSGID", shown, msgid, "This message does not exist or is too old"
        )
    allowed = is_sender(core, client, record) or client.oper_name is not None
    if channel is not None and channel.is_op(client):
        allowed = True
    if not allowed:
        raise RedactError(
            "REDACT_FORBIDDEN", shown, msgid, "You are not authorised to delete this message"
        )
    now_id, now_ms = core.stamp()
    core.unrecord(key, msgid, now_ms, client.prefix)
    params = (shown, msgid) if reason is None else (shown, msgid, reason)
    out = Message("REDACT", params, client.prefix)
    if channel is not None:
        audience = list(channel.members)
    else:
        peer = core.find_client(target)
        audience = [peer] if peer is not None else []
    recipients = [m for m in audience if m is not client and CAP in m.caps]
    if "echo-message" in client.caps and CAP in client.caps:
        recipients.append(client)
    core.deliver(recipients, out, core.tags_for(now_id, now_ms))


def find(core: ChatCore, key: str, msgid: str) -> Record | None:
    """The stored PRIVMSG, NOTICE or TAGMSG with this msgid under `key`, if any."""
    history = core.read_history()
    assert history is not None
    for record in history.around(key, Selector(msgid=msgid), 1):
        if record.msgid == msgid and record.message.command in REDACTABLE:
            return record
    return None


def may_read(core: ChatCore, client: Client, record: Record) -> bool:
    """Whether `client` may read this private record (see chathistory.owns_nick)."""
    return owns_nick(core, client) or core.stamped_since(record.msgid, client.first_seq)


def is_sender(core: ChatCore, client: Client, record: Record) -> bool:
    """Whether `client` sent this message, as far as the server can tell.

    The same nick, and the same person behind it: logged in to the account
    that owns the nick (or the Unix login that is the nick), or else the
    same connection, the message having been sent since it connected. So
    whoever takes a free nick later cannot delete what its last holder said.
    """
    nick = record.message.nick
    if nick is None or casefold(nick) != casefold(client.name):
        return False
    return owns_nick(core, client) or core.stamped_since(record.msgid, client.first_seq)
