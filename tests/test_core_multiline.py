"""Chat-core tests for IRCv3 draft/multiline (no sockets).

Spec: https://ircv3.net/specs/extensions/multiline
"""

from __future__ import annotations

import pytest

from easychat.chat.core import ChatCore
from easychat.chat.multiline import MULTILINE_MAX_BYTES, MULTILINE_MAX_LINES, MULTILINE_TIMEOUT
from easychat.proto.message import Message
from easychat.store.history import SQLiteHistory
from tests.chatcore_harness import CoreDriver, commands
from tests.nolimits import unlimited
from tests.test_core_labels import with_caps

ML = "batch draft/multiline message-tags server-time"


@pytest.fixture
def drv() -> CoreDriver:
    """A core without flood control or autojoin, with history in memory."""
    driver = CoreDriver(unlimited(autojoin=()))
    driver.core = ChatCore(driver.config, clock=driver.clock, history=SQLiteHistory(":memory:"))
    return driver


def send_batch(
    drv: CoreDriver, conn: int, target: str, *lines: str, ref: str = "b1"
) -> list[Message]:
    """Sends a multiline batch of `lines` (`[@tags ]PRIVMSG target :text`, given
    `batch=ref`); returns what the sender got meanwhile."""
    got = drv.send(conn, f"BATCH +{ref} draft/multiline {target}")
    for line in lines:
        if line.startswith("@"):
            tags, _, rest = line[1:].partition(" ")
            got += drv.send(conn, f"@batch={ref};{tags} {rest}")
        else:
            got += drv.send(conn, f"@batch={ref} {line}")
    return got + drv.send(conn, f"BATCH -{ref}")


def fails(messages: list[Message]) -> list[tuple[str, ...]]:
    """The params of the FAIL replies in `messages`."""
    return [m.params for m in messages if m.command == "FAIL"]


def test_cap_is_offered_with_its_limits(drv: CoreDriver) -> None:
    """ "The capability MUST be advertised by servers with a REQUIRED value": max-bytes
    (REQUIRED) and max-lines (RECOMMENDED)."""
    conn = drv.open()
    ls = drv.send(conn, "CAP LS 302")
    caps = " ".join(m.params[-1] for m in ls if m.command == "CAP")
    value = f"max-bytes={MULTILINE_MAX_BYTES},max-lines={MULTILINE_MAX_LINES}"
    assert f"draft/multiline={value}" in caps.split()


def test_nothing_is_relayed_until_the_batch_closes(drv: CoreDriver) -> None:
    """ "implementations MUST collect each PRIVMSG message content and wait until the
    full batch has been received before processing the message."""
    alice = with_caps(drv, "alice", ML, "#room")
    bob = with_caps(drv, "bob", ML, "#room")
    drv.send(alice, "BATCH +x draft/multiline #room")
    drv.send(alice, "@batch=x PRIVMSG #room :hello")
    drv.send(alice, "@batch=x PRIVMSG #room :world")
    assert drv.take(bob) == []
    drv.send(alice, "BATCH -x")
    got = drv.take(bob)
    assert commands(got) == ["BATCH", "PRIVMSG", "PRIVMSG", "BATCH"]
    start = got[0]
    assert start.params[1:] == ("draft/multiline", "#room")
    assert start.source is not None
    assert start.source.startswith("alice!")
    assert "msgid" in start.tags
    ref = start.params[0][1:]
    assert [m.tags for m in got[1:3]] == [{"batch": ref}, {"batch": ref}]
    assert [m.params[1] for m in got[1:3]] == ["hello", "world"]
    assert got[3].params == (f"-{ref}",)


def test_concat_tag_is_relayed_and_fallback_splits(drv: CoreDriver) -> None:
    """ "Servers MUST only include a message ID on the first message of a batch when
    sending a fallback to non-supporting clients." and "Servers MUST NOT send blank
    lines to clients that have not negotiated the multiline capability."""
    alice = with_caps(drv, "alice", ML, "#room")
    bob = with_caps(drv, "bob", ML, "#room")
    carol = with_caps(drv, "carol", "message-tags server-time", "#room")
    dave = drv.register("dave", "#room")
    send_batch(
        drv,
        alice,
        "#room",
        "PRIVMSG #room :",
        "PRIVMSG #room :how is ",
        "@draft/multiline-concat PRIVMSG #room :everyone?",
    )
    whole = drv.take(bob)
    assert [m.tags.get("draft/multiline-concat") for m in whole[1:4]] == [None, None, ""]
    assert [m.params[1] for m in whole[1:4]] == ["", "how is ", "everyone?"]
    split = drv.take(carol)
    assert commands(split) == ["PRIVMSG", "PRIVMSG"]
    assert [m.params[1] for m in split] == ["how is ", "everyone?"]
    assert split[0].tags["msgid"] == whole[0].tags["msgid"]
    assert "msgid" not in split[1].tags
    assert "time" in split[1].tags
    assert [m.params[1] for m in drv.take(dave)] == ["how is ", "everyone?"]


def test_echo_message_gets_the_batch(drv: CoreDriver) -> None:
    """ "Servers MUST only include the label tag on the opening BATCH command when
    replying to a client using echo-message."""
    alice = with_caps(drv, "alice", f"{ML} echo-message labeled-response", "#room")
    with_caps(drv, "bob", "", "#room")
    got = drv.send(alice, "@label=L2 BATCH +y draft/multiline #room")
    drv.send(alice, "@batch=y PRIVMSG #room :one")
    drv.send(alice, "@batch=y PRIVMSG #room :two")
    got = drv.send(alice, "BATCH -y")
    assert commands(got) == ["BATCH", "PRIVMSG", "PRIVMSG", "BATCH"]
    assert got[0].tags["label"] == "L2"
    assert all("label" not in m.tags for m in got[1:])


def test_limits_fail_and_discard(drv: CoreDriver) -> None:
    """ "MULTILINE_MAX_LINES <limit>: max-lines limit exceeded" and "MULTILINE_MAX_BYTES
    <limit>: max-bytes limit exceeded"; "Each line feed used to join line messages
    contributes one byte towards the max-bytes limit."""
    alice = with_caps(drv, "alice", ML, "#room")
    bob = with_caps(drv, "bob", ML, "#room")
    lines = [f"PRIVMSG #room :line {i}" for i in range(MULTILINE_MAX_LINES + 1)]
    drv.send(alice, "BATCH +a draft/multiline #room")
    got: list[Message] = []
    for line in lines:
        got += drv.send(alice, f"@batch=a {line}")
    got += drv.send(alice, "BATCH -a")
    assert fails(got) == [
        (
            "BATCH",
            "MULTILINE_MAX_LINES",
            str(MULTILINE_MAX_LINES),
            "Multiline batch max-lines exceeded",
        )
    ]
    # Ten lines of 400 bytes, an 86-byte one and the 10 line feeds between them
    # are 4096 bytes; one more byte on the last line is too many.
    chunk = "x" * 400
    ok = [f"PRIVMSG #room :{chunk}"] * 10 + [f"PRIVMSG #room :{'y' * 86}"]
    drv.send(alice, "BATCH +b draft/multiline #room")
    got = [m for line in ok for m in drv.send(alice, f"@batch=b {line}")]
    got += drv.send(alice, "BATCH -b")
    assert fails(got) == []
    assert len(drv.take(bob)) == 13
    drv.send(alice, "BATCH +c draft/multiline #room")
    over = [*ok[:-1], f"PRIVMSG #room :{'y' * 87}"]
    got = [m for line in over for m in drv.send(alice, f"@batch=c {line}")]
    got += drv.send(alice, "BATCH -c")
    assert [f[:3] for f in fails(got)] == [("BATCH", "MULTILINE_MAX_BYTES", "4096")]
    assert drv.take(bob) == []


def test_invalid_target_and_mixed_commands(drv: CoreDriver) -> None:
    """ "MULTILINE_INVALID_TARGET <batch-target> <provided-target>: mismatched PRIVMSG
    target within a batch" and "MULTILINE_INVALID: any other error"."""
    alice = with_caps(drv, "alice", ML, "#foo", "#bar")
    bob = with_caps(drv, "bob", ML, "#foo", "#bar")
    drv.send(alice, "BATCH +456 draft/multiline #foo")
    got = drv.send(alice, "@batch=456 PRIVMSG #bar hello")
    got += drv.send(alice, "@batch=456 PRIVMSG #foo hello")
    got += drv.send(alice, "BATCH -456")
    assert fails(got) == [
        ("BATCH", "MULTILINE_INVALID_TARGET", "#foo", "#bar", "Invalid multiline target")
    ]
    drv.send(alice, "BATCH +7 draft/multiline #foo")
    drv.send(alice, "@batch=7 PRIVMSG #foo hello")
    got = drv.send(alice, "@batch=7 NOTICE #foo hello")
    got += drv.send(alice, "BATCH -7")
    assert [f[:2] for f in fails(got)] == [("BATCH", "MULTILINE_INVALID")]
    drv.send(alice, "BATCH +8 draft/multiline #foo")
    drv.send(alice, "@batch=8 PRIVMSG #foo :")
    got = drv.send(alice, "BATCH -8")
    assert [f[:2] for f in fails(got)] == [("BATCH", "MULTILINE_INVALID")]
    assert drv.take(bob) == []


def test_notice_batches_are_relayed(drv: CoreDriver) -> None:
    """A batch's lines "MUST all have a target which matches the batch target"; ours may
    be all NOTICE, relayed as NOTICE."""
    alice = with_caps(drv, "alice", ML, "#room")
    bob = with_caps(drv, "bob", ML, "#room")
    send_batch(drv, alice, "#room", "NOTICE #room :a", "NOTICE #room :b")
    assert commands(drv.take(bob)) == ["BATCH", "NOTICE", "NOTICE", "BATCH"]


def test_unterminated_batch_times_out(drv: CoreDriver) -> None:
    """ "wait until the full batch has been received": a batch never closed is never
    relayed; ours is discarded after MULTILINE_TIMEOUT."""
    alice = with_caps(drv, "alice", ML, "#room")
    bob = with_caps(drv, "bob", ML, "#room")
    drv.send(alice, "BATCH +x draft/multiline #room")
    drv.send(alice, "@batch=x PRIVMSG #room :hello")
    drv.advance(MULTILINE_TIMEOUT + 1)
    assert [f[:2] for f in fails(drv.take(alice))] == [("BATCH", "MULTILINE_INVALID")]
    drv.send(alice, "BATCH -x")
    assert drv.take(bob) == []
    client = drv.core.clients[alice]
    assert client.batches == {}


def test_private_multiline_and_history(drv: CoreDriver) -> None:
    """ "Servers SHOULD maintain the line composition sent by the client": stored once,
    CHATHISTORY replays the batch nested in its chathistory batch."""
    caps = f"{ML} draft/chathistory"
    alice = with_caps(drv, "alice", caps)
    bob = with_caps(drv, "bob", caps)
    carol = with_caps(drv, "carol", "batch draft/chathistory server-time message-tags", "#r")
    send_batch(drv, alice, "bob", "PRIVMSG bob :one", "@draft/multiline-concat PRIVMSG bob :two")
    assert commands(drv.take(bob)) == ["BATCH", "PRIVMSG", "PRIVMSG", "BATCH"]
    drv.core.end_turn()
    got = drv.send(bob, "CHATHISTORY LATEST alice * 10")
    assert commands(got) == ["BATCH", "BATCH", "PRIVMSG", "PRIVMSG", "BATCH", "BATCH"]
    outer = got[0].params[0][1:]
    inner = got[1].params[0][1:]
    assert got[1].tags["batch"] == outer
    assert got[1].params[1] == "draft/multiline"
    assert got[4].params == (f"-{inner}",)
    assert got[4].tags == {"batch": outer}
    assert [m.params[1] for m in got[2:4]] == ["one", "two"]
    assert got[3].tags == {"batch": inner, "draft/multiline-concat": ""}
    # A room's history, to a client without the cap: the lines, the msgid on the first.
    with_caps(drv, "dan", ML, "#r")
    dan = drv.core.nicks["dan"].id
    send_batch(drv, dan, "#r", "PRIVMSG #r :first", "PRIVMSG #r :", "PRIVMSG #r :second")
    drv.core.end_turn()
    drv.take(carol)
    got = drv.send(carol, "CHATHISTORY LATEST #r * 10")
    assert commands(got) == ["BATCH", "PRIVMSG", "PRIVMSG", "BATCH"]
    assert [m.params[1] for m in got[1:3]] == ["first", "second"]
    assert "msgid" in got[1].tags
    assert "msgid" not in got[2].tags


def test_labelled_history_page_with_a_multiline_message(drv: CoreDriver) -> None:
    """A labelled CHATHISTORY reply is "an existing type applicable to the entire
    response" (the chathistory batch), the multiline batch nested in it."""
    caps = f"{ML} draft/chathistory labeled-response"
    alice = with_caps(drv, "alice", caps, "#r")
    send_batch(drv, alice, "#r", "PRIVMSG #r :one", "PRIVMSG #r :two")
    drv.core.end_turn()
    drv.take(alice)
    got = drv.send(alice, "@label=h1 CHATHISTORY LATEST #r * 10")
    assert commands(got) == ["BATCH", "BATCH", "PRIVMSG", "PRIVMSG", "BATCH", "BATCH"]
    assert got[0].tags == {"label": "h1"}
    assert got[0].params[1] == "chathistory"


def test_flood_control_counts_every_line() -> None:
    """ "keep in mind that clients might send an entire batched multiline message all
    at once": the lines of a batch take no tokens as they come, the message costs one
    a line when it closes, so a full one goes at once and the next waits its turn."""
    drv = CoreDriver()
    drv.config = drv.core.config
    alice = with_caps(drv, "alice", ML, "#room")
    bob = with_caps(drv, "bob", ML, "#room")
    drv.advance(1.0)  # the JOIN's token back: a quiet client's full bucket
    lines = [f"PRIVMSG #room :line {i}" for i in range(MULTILINE_MAX_LINES)]
    send_batch(drv, alice, "#room", *lines, ref="one")
    assert len(drv.take(bob)) == MULTILINE_MAX_LINES + 2
    got = send_batch(drv, alice, "#room", *lines, ref="two")
    assert [f[:2] for f in fails(got)] == [("BATCH", "RATE_LIMITED")]
    assert drv.take(bob) == []
    # 20 tokens at 2 a second: 10 s.
    drv.advance(9.0)
    assert drv.take(bob) == []
    drv.advance(1.5)
    assert len(drv.take(bob)) == MULTILINE_MAX_LINES + 2
