"""Chat-core tests for IRCv3 labeled-response, with batch (no sockets).

Spec: https://ircv3.net/specs/extensions/labeled-response and
https://ircv3.net/specs/extensions/batch.
"""

from __future__ import annotations

import pytest

from easychat.chat.config import CoreConfig
from easychat.chat.core import ChatCore
from easychat.chat.labels import MAX_LABEL_BYTES
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.store.history import SQLiteHistory
from tests.chatcore_harness import CoreDriver, commands, only

LABELS = "batch labeled-response"
SERVER = CoreConfig().server_name


@pytest.fixture
def drv() -> CoreDriver:
    """A core with no autojoin room and a history kept in memory."""
    driver = CoreDriver(CoreConfig(autojoin=()))
    driver.core = ChatCore(driver.config, clock=driver.clock, history=SQLiteHistory(":memory:"))
    return driver


def with_caps(drv: CoreDriver, nick: str, caps: str, *rooms: str) -> int:
    """Registers `nick` after requesting `caps` (if any), joins `rooms`, drains every inbox."""
    if not caps:
        return drv.register(nick, *rooms)
    conn = drv.open()
    assert only(drv.send(conn, f"CAP REQ :{caps}"), "CAP").params == ("*", "ACK", caps)
    drv.send(conn, f"NICK {nick}")
    drv.send(conn, f"USER {nick.lower()} 0 * :{nick} Test")
    assert drv.send(conn, "CAP END")[0].command == n.RPL_WELCOME
    for room in rooms:
        drv.send(conn, f"JOIN {room}")
    drv.drain()
    return conn


def batch_of(got: list[Message], label: str, kind: str = "labeled-response") -> list[Message]:
    """The lines inside `got`, which must be exactly one batch of `kind` labelled `label`.

    Each line inside is in that batch, or in a batch nested in it.
    """
    start, end = got[0], got[-1]
    assert start.command == "BATCH", got
    assert start.params[0].startswith("+"), got
    ref = start.params[0][1:]
    assert start.params[1] == kind, start
    assert start.tags == {"label": label}, start
    assert end.params == (f"-{ref}",), end
    assert end.tags == {}, end
    inside = got[1:-1]
    refs = {ref}
    for line in inside:
        assert line.tags.get("batch") in refs, got
        assert "label" not in line.tags, got
        if line.command == "BATCH" and line.params[0].startswith("+"):
            refs.add(line.params[0][1:])
    return inside


def test_labeled_response_is_offered_with_batch(drv: CoreDriver) -> None:
    """ "This specification adds the `labeled-response` capability." It "depends
    on the `batch` capability", which is offered beside it."""
    offered = only(drv.send(drv.open(), "CAP LS 302"), "CAP").params[-1].split()
    assert {"labeled-response", "batch"} <= set(offered)


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        ("PING :tok", "PONG"),
        ("MODE Alice", n.RPL_UMODEIS),
        ("AWAY :lunch", n.RPL_NOWAWAY),
    ],
)
def test_a_one_line_reply_carries_the_label(drv: CoreDriver, line: str, reply: str) -> None:
    """ "For any message received from a client that includes this tag, the
    server MUST include the same tag and value in any response required from
    this message where it is feasible to do so." """
    alice = with_caps(drv, "Alice", LABELS)
    got = drv.send(alice, f"@label=one1 {line}")
    assert commands(got) == [reply]
    assert got[0].tags == {"label": "one1"}


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("FROBNICATE now", n.ERR_UNKNOWNCOMMAND),
        ("JOIN", n.ERR_NEEDMOREPARAMS),
        ("PRIVMSG nobody :Hello", n.ERR_NOSUCHNICK),
    ],
)
def test_an_error_reply_carries_the_label(drv: CoreDriver, line: str, error: str) -> None:
    """The spec's example: "Failed `PRIVMSG` with `ERR_NOSUCHNICK`":
    `@label=dc11f13f11 :irc.example.com 401 * nick :No such nick/channel`.
    Errors raised before any handler runs (421, 461) are labelled alike."""
    alice = with_caps(drv, "Alice", LABELS)
    got = drv.send(alice, f"@label=dc11f13f11 {line}")
    assert commands(got) == [error]
    assert got[0].tags == {"label": "dc11f13f11"}


@pytest.mark.parametrize(
    ("line", "last"),
    [
        ("WHOIS Bob", n.RPL_ENDOFWHOIS),
        ("WHO #room", n.RPL_ENDOFWHO),
        ("NAMES #room", n.RPL_ENDOFNAMES),
        ("LIST", n.RPL_LISTEND),
        ("MODE #room", n.RPL_CREATIONTIME),
    ],
)
def test_a_reply_of_several_lines_is_one_labelled_batch(
    drv: CoreDriver, line: str, last: str
) -> None:
    """ "If a response consists of more than one message, a batch MUST be used
    to group them into a single logical response. The start of the batch MUST
    be tagged with the `label` tag." And "Servers MUST include the tag in
    exactly one logical message." """
    alice = with_caps(drv, "Alice", LABELS, "#room")
    with_caps(drv, "Bob", "", "#room")
    inside = batch_of(drv.send(alice, f"@label=mGhe5V7RTV {line}"), "mGhe5V7RTV")
    assert len(inside) >= 2
    assert inside[-1].command == last


def test_join_labels_the_joiner_only(drv: CoreDriver) -> None:
    """A JOIN's reply (the JOIN, the names) is the joiner's; "Replies" to the
    sender only: what the room's members see of it is no response to them."""
    bob = with_caps(drv, "Bob", LABELS, "#room")
    alice = with_caps(drv, "Alice", LABELS)
    inside = batch_of(drv.send(alice, "@label=j1 JOIN #room"), "j1")
    assert commands(inside) == ["JOIN", n.RPL_NAMREPLY, n.RPL_ENDOFNAMES]
    seen = drv.take(bob)
    assert commands(seen) == ["JOIN"]
    assert seen[0].tags == {}


def test_a_command_without_reply_gets_an_ack(drv: CoreDriver) -> None:
    """ "Servers MUST respond with a labeled `ACK` message when a client sends a
    labeled command that normally produces no response. It takes no
    additional parameters": `:irc.example.com ACK`. Without echo-message a
    message to a room is such a command; the members get it unlabelled."""
    alice = with_caps(drv, "Alice", LABELS, "#room")
    bob = with_caps(drv, "Bob", LABELS, "#room")
    assert drv.send(alice, "@label=abc PONG :foobar") == [
        Message("ACK", (), SERVER, {"label": "abc"})
    ]
    assert drv.send(alice, "@label=msg1 PRIVMSG #room :hi") == [
        Message("ACK", (), SERVER, {"label": "msg1"})
    ]
    seen = only(drv.take(bob), "PRIVMSG")
    assert seen.params == ("#room", "hi")
    assert "label" not in seen.tags


def test_echo_message_carries_the_label(drv: CoreDriver) -> None:
    """The spec's `echo-message` example: `@label=pQraCjj82e PRIVMSG #channel
    :Hello!` is answered with `@label=pQraCjj82e :nick!user@host PRIVMSG
    #channel :Hello!`. The other members' copy has no label. The line leaves
    the fast path, which would have relayed it without."""
    alice = with_caps(drv, "Alice", f"{LABELS} echo-message message-tags", "#room")
    bob = with_caps(drv, "Bob", "message-tags", "#room")
    echo = only(drv.send(alice, "@label=pQraCjj82e PRIVMSG #room :Hello!"), "PRIVMSG")
    assert echo.source == "Alice!alice@127.0.0.1"
    assert echo.params == ("#room", "Hello!")
    assert echo.tags["label"] == "pQraCjj82e"
    seen = only(drv.take(bob), "PRIVMSG")
    assert "label" not in seen.tags
    assert seen.tags["msgid"] == echo.tags["msgid"]


def test_a_message_to_oneself(drv: CoreDriver) -> None:
    """ "When a client sends a message to itself, the server MUST NOT include
    the label tag, except for any acknowledgment sent with the echo-message
    mechanism." With echo-message the one copy is that acknowledgment; without
    it the copy is a delivery, unlabelled, and the command gets an ACK."""
    echoed = with_caps(drv, "Alice", f"{LABELS} echo-message")
    got = drv.send(echoed, "@label=s1 PRIVMSG Alice :note")
    assert commands(got) == ["PRIVMSG"]
    assert got[0].tags == {"label": "s1"}
    plain = with_caps(drv, "Carol", LABELS)
    got = drv.send(plain, "@label=s2 PRIVMSG Carol :note")
    assert commands(got) == ["PRIVMSG", "ACK"]
    assert got[0].tags == {}
    assert got[1].tags == {"label": "s2"}


def test_chathistory_labels_its_own_batch(drv: CoreDriver) -> None:
    """The batch of a labelled reply "MUST be one of: An existing type
    applicable to the entire response; `labeled-response`": a CHATHISTORY
    page is one `chathistory` batch, and that batch takes the label."""
    caps = f"{LABELS} draft/chathistory server-time message-tags"
    alice = with_caps(drv, "Alice", caps, "#room")
    bob = with_caps(drv, "Bob", "", "#room")
    for text in ("one", "two", "three"):
        drv.send(bob, f"PRIVMSG #room :{text}")
    drv.core.end_turn()
    drv.drain()
    got = drv.send(alice, "@label=h1 CHATHISTORY LATEST #room * 10")
    inside = batch_of(got, "h1", kind="chathistory")
    assert [m.params[-1] for m in inside] == ["one", "two", "three"]


def test_a_batch_inside_a_labelled_reply_is_nested(drv: CoreDriver) -> None:
    """ "Start and end messages of one batch MAY refer to another batch. If they
    do, they both MUST have batch tag, and they MUST refer to the same batch."
    A JOIN that replays the room's history (no draft/chathistory) sends a
    `chathistory` batch inside its `labeled-response` batch."""
    bob = with_caps(drv, "Bob", "", "#room")
    drv.send(bob, "PRIVMSG #room :earlier")
    drv.core.end_turn()
    carol = with_caps(drv, "Carol", f"{LABELS} server-time")
    inside = batch_of(drv.send(carol, "@label=j2 JOIN #room"), "j2")
    assert commands(inside) == [
        "JOIN",
        n.RPL_NAMREPLY,
        n.RPL_ENDOFNAMES,
        "BATCH",
        "PRIVMSG",
        "BATCH",
    ]
    outer = inside[0].tags["batch"]
    start, line, end = inside[3:6]
    assert start.params[1] == "chathistory"
    assert start.tags == {"batch": outer}
    assert end.params == ("-" + start.params[0][1:],)
    assert end.tags == {"batch": outer}
    assert line.params[-1] == "earlier"
    assert line.tags["batch"] == start.params[0][1:]


def test_labelled_errors_of_chathistory(drv: CoreDriver) -> None:
    """A refused CHATHISTORY is one FAIL, which carries the label."""
    alice = with_caps(drv, "Alice", f"{LABELS} draft/chathistory")
    got = drv.send(alice, "@label=h2 CHATHISTORY LATEST #nowhere * 10")
    assert commands(got) == ["FAIL"]
    assert got[0].tags == {"label": "h2"}


@pytest.mark.parametrize(
    ("caps", "label"),
    [
        ("batch", "x1"),  # no labeled-response
        ("labeled-response", "x1"),  # "batch ... MUST be negotiated to use labeled responses"
        (LABELS, "x" * (MAX_LABEL_BYTES + 1)),  # "The value MUST NOT exceed 64 bytes."
        (LABELS, ""),  # "the `label` message tag, which has a required value"
    ],
)
def test_no_label_where_the_spec_gives_none(drv: CoreDriver, caps: str, label: str) -> None:
    """Without both capabilities, or with a label the spec does not allow, the
    command is answered as it is without a label: no tag, no batch, no ACK."""
    alice = with_caps(drv, "Alice", caps)
    got = drv.send(alice, f"@label={label} PING :tok")
    assert commands(got) == ["PONG"]
    assert got[0].tags == {}
    assert drv.send(alice, f"@label={label} PONG :tok") == []
    assert commands(drv.send(alice, f"@label={label} WHOIS Alice"))[0] == n.RPL_WHOISUSER


def test_a_label_of_64_bytes_is_used(drv: CoreDriver) -> None:
    """The limit is 64 bytes, and a label of exactly that is still valid."""
    alice = with_caps(drv, "Alice", LABELS)
    label = "é" * (MAX_LABEL_BYTES // 2)
    assert only(drv.send(alice, f"@label={label} PING :tok"), "PONG").tags == {"label": label}


def test_quit_labels_the_error(drv: CoreDriver) -> None:
    """The reply to QUIT is the ERROR that closes the link: labelled, then closed."""
    alice = with_caps(drv, "Alice", LABELS)
    got = drv.send(alice, "@label=bye QUIT :done")
    assert commands(got) == ["ERROR"]
    assert got[0].tags == {"label": "bye"}
    assert alice in drv.closed
