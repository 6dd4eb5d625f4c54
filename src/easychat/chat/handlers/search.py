"""Provides SEARCH (the soju.im/search extension): full-text search of the history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from easychat.chat.errors import IRCError
from easychat.chat.handlers.chathistory import owns_nick
from easychat.chat.history import Record, private_key
from easychat.chat.search import SearchQuery, words_of
from easychat.proto import numerics as n
from easychat.proto.message import Message, unescape_tag_value
from easychat.proto.names import casefold, is_channel
from easychat.proto.servertime import parse_time

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

BATCH_TYPE = "soju.im/search"

ATTRIBUTES = frozenset(("text", "in", "from", "after", "before", "limit"))

# Records a SEARCH indexes before it searches, so what was said a moment
# ago is found even when the loop had no idle turn since. Bounded, so a
# search never pays for a large backlog (a history just upgraded), which
# the loop's idle turns index instead.
CATCH_UP_RECORDS = 512


class SearchError(Exception):
    """A refused SEARCH: becomes `FAIL SEARCH <code> ...`."""

    def __init__(self, code: str, *context_and_text: str) -> None:
        super().__init__(code, *context_and_text)
        self.code = code
        self.context_and_text = context_and_text


def handle_search(core: ChatCore, client: Client, msg: Message) -> None:
    """SEARCH <attributes>.

    "The server then replies with a batch of batch type search containing
    messages matching all the specified attributes. These messages MUST be
    PRIVMSG or NOTICE messages." Only what the asker may read is searched:
    the rooms it is in (as CHATHISTORY) and its own private conversations.
    """
    index = core.search
    if index is None or core.history is None:
        raise IRCError(n.ERR_UNKNOWNCOMMAND, "SEARCH", "Unknown command")
    try:
        attributes = parse_attributes(msg.params[0])
        query = build_query(core, client, attributes)
    except SearchError as err:
        core.fail(client, "SEARCH", err.code, *err.context_and_text)
        return
    core.read_history()  # what it returns may wait on an fsync (see read_history)
    index.index_some(CATCH_UP_RECORDS)
    send_results(core, client, index.search(query))


def parse_attributes(text: str) -> dict[str, str]:
    """`key=value;...` as message tags are written (values escaped the same way).

    Raises:
        SearchError: an unknown or repeated attribute, or one without a value.
    """
    attributes: dict[str, str] = {}
    for item in text.split(";"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if key not in ATTRIBUTES or key in attributes or not sep or not value:
            raise SearchError("INVALID_PARAMS", item, "Invalid parameters")
        attributes[key] = unescape_tag_value(value)
    return attributes


def build_query(core: ChatCore, client: Client, attributes: dict[str, str]) -> SearchQuery:
    """The query for these attributes, narrowed to what `client` may read.

    Raises:
        SearchError: a value that is not valid for its attribute.
    """
    limit = core.config.history_page
    if "limit" in attributes:
        text = attributes["limit"]
        if not text.isdigit() or int(text) < 1:
            raise SearchError("INVALID_PARAMS", f"limit={text}", "Invalid parameters")
        limit = min(int(text), limit)
    after = _time(attributes, "after")
    before = _time(attributes, "before")
    sender = attributes.get("from")
    keys = readable_keys(core, client, attributes.get("in"))
    accept = None
    if not owns_nick(core, client):
        # Private history is read only from where the client may read it
        # (see chathistory.owns_nick): what was said since it connected.
        rooms = {channel.folded for channel in client.channels.values()}

        def accept(record: Record) -> bool:
            return record.target in rooms or core.stamped_since(record.msgid, client.first_seq)

    return SearchQuery(
        keys=keys,
        words=words_of(attributes.get("text", "")),
        sender=casefold(sender) if sender else None,
        after_ms=after,
        before_ms=before,
        limit=limit,
        accept=accept,
    )


def readable_keys(core: ChatCore, client: Client, target: str | None) -> tuple[str, ...]:
    """The history keys searched: `target`'s if the client may read it, else all its own.

    A room the client is not in, like a conversation it never had, holds
    nothing for it: the search finds nothing there.
    """
    me = casefold(client.name)
    if target is not None:
        if is_channel(target):
            channel = core.find_channel(target)
            if channel is None or client not in channel.members:
                return ()
            return (channel.folded,)
        return (private_key(me, casefold(target)),)
    history = core.history
    assert history is not None
    rooms = [channel.folded for channel in client.channels.values()]
    return (*rooms, *history.private_keys(me))


def _time(attributes: dict[str, str], key: str) -> int | None:
    if key not in attributes:
        return None
    try:
        return parse_time(attributes[key])
    except ValueError:
        item = f"{key}={attributes[key]}"
        raise SearchError("INVALID_PARAMS", item, "Invalid parameters") from None


def send_results(core: ChatCore, client: Client, records: list[Record]) -> None:
    """The records as a `soju.im/search` batch (plain lines without `batch`)."""
    batched = "batch" in client.caps
    ref = core.new_batch()
    server = core.config.server_name
    if batched:
        core.send(client, Message("BATCH", (f"+{ref}", BATCH_TYPE), server))
    for record in records:
        tags = core.tags_for(record.msgid, record.time_ms, record.tags)
        if batched:
            tags["batch"] = ref
        core.deliver([client], record.message, tags)
    if batched:
        core.send(client, Message("BATCH", (f"-{ref}",), server))
