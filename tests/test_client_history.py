"""Tests for the client side of IRCv3 chathistory: caps, batches, requests, FAIL, merging."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime

import pytest

from easychat.client.conversations import SCROLLBACK_LINES, Conversation, ConversationKind
from easychat.client.events import (
    Event,
    HistoryBatch,
    HistoryFailed,
    Line,
    LineKind,
    RateLimited,
)
from easychat.client.session.session import (
    MAX_BATCH_LINES,
    MAX_OPEN_BATCHES,
    WANTED_CAPS,
    Session,
)
from easychat.proto.message import Message, parse

NOW = 1_700_000_000.0

WELCOME = ":easychat.local 001 john :Welcome to Easy Chat! You are customer number 7"
ISUPPORT = (
    ":easychat.local 005 john CASEMAPPING=ascii CHANTYPES=# CHATHISTORY=100"
    " :are supported by this server"
)
ALL_CAPS = "batch draft/chathistory echo-message message-tags multi-prefix server-time"


def feed(session: Session, *lines: str) -> list[Event]:
    """Feeds literal server lines; returns all the events, in order."""
    events: list[Event] = []
    for line in lines:
        events += session.feed(parse(line, strict=False))
    return events


def stamp(seconds: float) -> str:
    """A server-time tag value for `NOW + seconds`."""
    when = datetime.fromtimestamp(NOW + seconds, UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def negotiated(offer: str = ALL_CAPS, isupport: str = ISUPPORT) -> Session:
    """A registered john who was offered `offer` and got all of it acked, in #lobby."""
    session = Session("john", clock=lambda: NOW)
    session.start()
    feed(session, f":easychat.local CAP * LS :{offer}")
    requested = session.take_outgoing()
    if requested and requested[0].params[0] == "REQ":
        feed(session, f":easychat.local CAP john ACK :{requested[0].params[1]}")
    feed(session, WELCOME, isupport, ":john!john@127.0.0.1 JOIN #lobby")
    session.take_outgoing()
    return session


def privmsg(ref: str, msgid: str, seconds: float, route: tuple[str, str], text: str) -> str:
    """A PRIVMSG (`route`: sender, target) as a chathistory batch carries it."""
    sender, target = route
    return (
        f"@batch={ref};time={stamp(seconds)};msgid={msgid} "
        f":{sender}!{sender.lower()}@127.0.0.1 PRIVMSG {target} :{text}"
    )


# -- capabilities -----------------------------------------------------------------


def test_requests_history_caps_when_offered() -> None:
    """The client asks for every cap chathistory needs, and keeps multi-prefix."""
    session = Session("john")
    session.start()
    feed(session, f":easychat.local CAP * LS :sasl {ALL_CAPS} draft/event-playback")
    out = session.take_outgoing()
    assert out == [Message("CAP", ("REQ", ALL_CAPS))]
    assert {"batch", "draft/chathistory", "multi-prefix"} <= WANTED_CAPS


def test_supports_history_only_when_acked() -> None:
    """`supports_history` needs both draft/chathistory and batch acknowledged."""
    assert negotiated().supports_history
    assert not negotiated("multi-prefix server-time").supports_history
    assert not negotiated("draft/chathistory server-time").supports_history  # no batch


def test_no_chathistory_requests_without_the_cap() -> None:
    """Against a server without chathistory (ngircd) no CHATHISTORY is ever sent."""
    session = negotiated("multi-prefix")
    assert session.history_latest("#lobby", 50) == []
    assert session.history_before("#lobby", "abc", 50) == []
    assert session.history_after("#lobby", "abc", 50) == []


# -- request builders ------------------------------------------------------------------


def test_request_builders() -> None:
    """LATEST uses `*`; BEFORE and AFTER select by msgid."""
    session = negotiated()
    assert session.history_latest("#lobby", 50) == [
        Message("CHATHISTORY", ("LATEST", "#lobby", "*", "50"))
    ]
    assert session.history_before("#lobby", "m-17", 50) == [
        Message("CHATHISTORY", ("BEFORE", "#lobby", "msgid=m-17", "50"))
    ]
    assert session.history_after("doe", "m-18", 20) == [
        Message("CHATHISTORY", ("AFTER", "doe", "msgid=m-18", "20"))
    ]
    assert session.history_latest("#lobby", 50)[0].format() == "CHATHISTORY LATEST #lobby * 50"


def test_page_size_is_capped_by_isupport() -> None:
    """The CHATHISTORY ISUPPORT token is the most one request may ask for; 0 means no limit."""
    session = negotiated(isupport=ISUPPORT.replace("CHATHISTORY=100", "CHATHISTORY=25"))
    assert session.history_limit == 25
    assert session.history_latest("#lobby", 50)[0].params[-1] == "25"
    assert session.history_latest("#lobby", 10)[0].params[-1] == "10"
    unlimited = negotiated(isupport=ISUPPORT.replace("CHATHISTORY=100", "CHATHISTORY=0"))
    assert unlimited.history_limit == 0
    assert unlimited.history_latest("#lobby", 500)[0].params[-1] == "500"


def test_unusable_msgid_sends_nothing() -> None:
    """A msgid that would not fit one parameter is not sent (it would change the command)."""
    session = negotiated()
    assert session.history_before("#lobby", "a b", 50) == []
    assert session.history_after("#lobby", "", 50) == []


# -- batches -----------------------------------------------------------------------


def test_chathistory_batch_becomes_one_event() -> None:
    """Lines tagged with the batch's ref are held until `BATCH -ref`, then come as one event."""
    session = negotiated()
    session.history_latest("#lobby", 50)
    assert (
        feed(session, "@time=2023-11-14T22:13:20.000Z :easychat.local BATCH +h1 chathistory #lobby")
        == []
    )
    assert feed(session, privmsg("h1", "m1", 1, ("Doe", "#lobby"), "first")) == []
    assert feed(session, privmsg("h1", "m2", 2, ("john", "#lobby"), "mine")) == []
    events = feed(session, ":easychat.local BATCH -h1")
    assert events == [
        HistoryBatch(
            "#lobby",
            (
                Line("#lobby", LineKind.MESSAGE, "Doe", "first", NOW + 1, msgid="m1"),
                Line("#lobby", LineKind.MESSAGE, "john", "mine", NOW + 2, own=True, msgid="m2"),
            ),
            "LATEST",
        )
    ]


def test_batch_lines_are_sorted_by_time() -> None:
    """Whatever order the server sends them in, the batch's lines come oldest first."""
    session = negotiated()
    events = feed(
        session,
        ":easychat.local BATCH +x chathistory #lobby",
        privmsg("x", "m2", 2, ("Doe", "#lobby"), "second"),
        privmsg("x", "m1", 1, ("Doe", "#lobby"), "first"),
        ":easychat.local BATCH -x",
    )
    (batch,) = events
    assert isinstance(batch, HistoryBatch)
    assert [line.msgid for line in batch.lines] == ["m1", "m2"]
    assert batch.request is None  # nobody asked: an unsolicited replay


def test_private_history_is_filed_under_the_peer() -> None:
    """In a private batch both directions belong to the conversation with the peer."""
    session = negotiated()
    session.history_latest("Doe", 50)
    (batch,) = feed(
        session,
        ":easychat.local BATCH +p chathistory Doe",
        privmsg("p", "m1", 1, ("Doe", "john"), "hi john"),
        privmsg("p", "m2", 2, ("john", "Doe"), "hi doe"),
        "@batch=p;msgid=m3;time=" + stamp(3) + " :Doe!doe@h NOTICE john :a notice",
        ":easychat.local BATCH -p",
    )
    assert isinstance(batch, HistoryBatch)
    assert [(line.conversation, line.kind, line.own) for line in batch.lines] == [
        ("Doe", LineKind.MESSAGE, False),
        ("Doe", LineKind.MESSAGE, True),
        ("Doe", LineKind.NOTICE, False),
    ]


def test_empty_batch() -> None:
    """An empty chathistory batch is the server's 'nothing there'."""
    session = negotiated()
    session.history_before("#lobby", "m1", 50)
    events = feed(
        session,
        ":easychat.local BATCH +e chathistory #lobby",
        ":easychat.local BATCH -e",
    )
    assert events == [HistoryBatch("#lobby", (), "BEFORE")]


def test_replies_are_paired_with_requests_in_order() -> None:
    """Each request gets one reply, in order, so each batch says which request it answers."""
    session = negotiated()
    session.history_latest("#lobby", 50)
    session.history_before("#lobby", "m1", 50)
    session.history_after("#other", "m9", 50)
    answers = []
    for ref, target in (("a", "#other"), ("b", "#LOBBY"), ("c", "#lobby")):
        (event,) = feed(
            session,
            f":easychat.local BATCH +{ref} chathistory {target}",
            f":easychat.local BATCH -{ref}",
        )
        assert isinstance(event, HistoryBatch)
        answers.append((event.target, event.request))
    assert answers == [("#other", "AFTER"), ("#lobby", "LATEST"), ("#lobby", "BEFORE")]


def test_live_lines_during_a_batch_stay_live() -> None:
    """A message without the batch tag, arriving while a batch is open, is a live line."""
    session = negotiated()
    feed(session, ":easychat.local BATCH +h chathistory #lobby")
    live = feed(session, "@msgid=live;time=" + stamp(9) + " :Doe!doe@h PRIVMSG #lobby :now")
    assert live == [Line("#lobby", LineKind.MESSAGE, "Doe", "now", NOW + 9, msgid="live")]
    (batch,) = feed(
        session, privmsg("h", "old", 1, ("Doe", "#lobby"), "then"), ":easychat.local BATCH -h"
    )
    assert isinstance(batch, HistoryBatch)
    assert [line.text for line in batch.lines] == ["then"]


def test_unknown_batch_types_are_handled_as_normal_lines() -> None:
    """Lines of a batch type we do not know (netjoin, labeled-response) show as usual."""
    session = negotiated()
    events = feed(
        session,
        ":easychat.local BATCH +n netjoin irc.a irc.b",
        "@batch=n :Doe!doe@h JOIN #lobby",
        "@batch=n;msgid=m1 :Doe!doe@h PRIVMSG #lobby :hello",
        ":easychat.local BATCH -n",
    )
    assert [e.text for e in events if isinstance(e, Line)] == ["Doe joined #lobby", "hello"]
    room = session.room("#lobby")
    assert room is not None
    assert "doe" in room.members


def test_nested_batch_inside_chathistory() -> None:
    """A batch opened inside a chathistory batch does not end or break the outer one."""
    session = negotiated()
    events = feed(
        session,
        ":easychat.local BATCH +outer chathistory #lobby",
        privmsg("outer", "m1", 1, ("Doe", "#lobby"), "one"),
        "@batch=outer :easychat.local BATCH +inner something",
        "@batch=inner;msgid=m2 :Doe!doe@h PRIVMSG #lobby :inner line",
        ":easychat.local BATCH -inner",
        privmsg("outer", "m3", 3, ("Doe", "#lobby"), "three"),
        ":easychat.local BATCH -outer",
    )
    live = [e for e in events if isinstance(e, Line)]
    assert [line.text for line in live] == ["inner line"]
    (batch,) = [e for e in events if isinstance(e, HistoryBatch)]
    assert [line.text for line in batch.lines] == ["one", "three"]


def test_replayed_events_do_not_change_state() -> None:
    """A JOIN replayed in history (event-playback) is not a live join."""
    session = negotiated()
    (batch,) = feed(
        session,
        ":easychat.local BATCH +h chathistory #lobby",
        "@batch=h;msgid=j1;time=" + stamp(1) + " :Mallory!m@h JOIN #lobby",
        ":easychat.local BATCH -h",
    )
    room = session.room("#lobby")
    assert room is not None
    assert "mallory" not in room.members
    assert batch == HistoryBatch("#lobby", ())


def test_malformed_batch_lines_do_not_raise() -> None:
    """Peer garbage never raises: ends of unknown batches, BATCH without params."""
    session = negotiated()
    assert feed(session, ":easychat.local BATCH", ":easychat.local BATCH -nope") == []
    assert feed(session, ":easychat.local BATCH +", ":easychat.local BATCH x") == []
    # A chathistory batch without a target is treated as an unknown batch.
    events = feed(
        session,
        ":easychat.local BATCH +t chathistory",
        "@batch=t :Doe!doe@h PRIVMSG #lobby :shown live",
        ":easychat.local BATCH -t",
    )
    assert [e.text for e in events if isinstance(e, Line)] == ["shown live"]
    # A line tagged with a batch that was never opened is a live line.
    assert len(feed(session, "@batch=zzz :Doe!doe@h PRIVMSG #lobby :x")) == 1


def test_open_batches_are_limited() -> None:
    """Past MAX_OPEN_BATCHES, new batches are ignored and their lines shown live."""
    session = negotiated()
    for i in range(MAX_OPEN_BATCHES):
        feed(session, f":easychat.local BATCH +b{i} chathistory #lobby")
    feed(session, ":easychat.local BATCH +over chathistory #lobby")
    events = feed(session, privmsg("over", "m1", 1, ("Doe", "#lobby"), "live after all"))
    assert [e.text for e in events if isinstance(e, Line)] == ["live after all"]


def test_batch_lines_are_limited() -> None:
    """A batch keeps at most MAX_BATCH_LINES lines."""
    session = negotiated()
    feed(session, ":easychat.local BATCH +big chathistory #lobby")
    for i in range(MAX_BATCH_LINES + 5):
        feed(session, privmsg("big", f"m{i}", i, ("Doe", "#lobby"), "x"))
    (batch,) = feed(session, ":easychat.local BATCH -big")
    assert isinstance(batch, HistoryBatch)
    assert len(batch.lines) == MAX_BATCH_LINES


# -- FAIL -----------------------------------------------------------------------


def test_fail_chathistory_is_a_readable_error() -> None:
    """FAIL CHATHISTORY INVALID_TARGET <subcommand> <target> becomes an error line."""
    session = negotiated()
    session.history_latest("#secret", 50)
    events = feed(
        session,
        ":easychat.local FAIL CHATHISTORY INVALID_TARGET LATEST #secret"
        " :Messages could not be retrieved",
    )
    assert events == [
        HistoryFailed("#secret", "LATEST", "Messages could not be retrieved"),
        Line(
            None,
            LineKind.ERROR,
            "easychat.local",
            "Could not load the history of #secret: Messages could not be retrieved"
            " (INVALID_TARGET)",
            NOW,
        ),
    ]
    # The failed request is answered: the next batch answers the next request.
    session.history_before("#lobby", "m1", 10)
    (batch,) = feed(session, ":s BATCH +a chathistory #lobby", ":s BATCH -a")
    assert isinstance(batch, HistoryBatch)
    assert batch.request == "BEFORE"


def test_fail_without_target_answers_the_oldest_request() -> None:
    """A FAIL that names no target still answers (and forgets) a request."""
    session = negotiated()
    session.history_before("#lobby", "m1", 10)
    (failed, line) = feed(session, ":s FAIL CHATHISTORY INVALID_PARAMS :Bad parameters")
    assert failed == HistoryFailed(None, "BEFORE", "Bad parameters")
    assert isinstance(line, Line)
    assert line.kind is LineKind.ERROR
    assert "Bad parameters" in line.text


def test_other_fail_replies_are_shown() -> None:
    """A standard FAIL reply to another command shows its description."""
    session = negotiated()
    (line,) = feed(session, ":s FAIL SETNAME INVALID_REALNAME :Realname is not valid")
    assert isinstance(line, Line)
    assert (line.kind, line.text) == (
        LineKind.ERROR,
        "SETNAME failed: Realname is not valid",
    )
    assert feed(session, ":s FAIL X") == []


# -- conversations: merging history -------------------------------------------------


def hline(msgid: str | None, seconds: float, text: str = "", conv: str = "#lobby") -> Line:
    return Line(conv, LineKind.MESSAGE, "Doe", text or msgid or "", NOW + seconds, msgid=msgid)


def room_with(history: list[Line], lines: list[Line]) -> Conversation:
    conv = Conversation("#lobby", ConversationKind.ROOM)
    conv.history = list(history)
    conv.lines.extend(lines)
    return conv


def test_merge_dedups_against_history_and_lines() -> None:
    """Fetched lines already shown (local log above, live lines below) are not added again."""
    conv = room_with(
        [hline("a", 1), hline("b", 2)], [hline(None, 10, "You joined"), hline("c", 11)]
    )
    added = conv.merge([hline("b", 2), hline("c", 11), hline("z", 3)])
    assert [line.msgid for line in added] == ["z"]
    assert [line.msgid for line in conv.history] == ["a", "b", "z"]
    assert [line.text for line in conv.lines] == ["You joined", "c"]


def test_merge_files_older_lines_above_and_newer_in_time_order() -> None:
    """Lines older than the first live line go above; newer ones (a catch-up) between live lines."""
    conv = room_with([], [hline(None, 10, "Disconnected"), hline(None, 20, "Reconnected")])
    added = conv.merge([hline("m15", 15), hline("m5", 5), hline("m16", 16)])
    assert [line.msgid for line in added] == ["m5", "m15", "m16"]
    assert [line.msgid for line in conv.history] == ["m5"]
    assert [line.text for line in conv.lines] == ["Disconnected", "m15", "m16", "Reconnected"]


def test_merge_prepends_pages_without_gaps() -> None:
    """Two BEFORE pages end up as one ordered history, each line once."""
    conv = room_with([hline(f"m{i}", i) for i in range(20, 30)], [hline(None, 100, "joined")])
    conv.merge([hline(f"m{i}", i) for i in range(10, 21)])
    conv.merge([hline(f"m{i}", i) for i in range(0, 11)])
    assert [line.msgid for line in conv.history] == [f"m{i}" for i in range(30)]
    assert conv.oldest_msgid() == "m0"
    assert conv.newest_msgid() == "m29"


def test_merge_prepends_a_page_of_the_same_millisecond_on_top() -> None:
    """A page from before the oldest line goes above it, even when their times are equal."""
    conv = room_with(
        [hline("m3", 5), hline("m4", 5)], [hline(None, 100, "joined"), hline("m0", 101)]
    )
    conv.merge([hline("m1", 5), hline("m2", 5)])
    assert [line.msgid for line in conv.history] == ["m1", "m2", "m3", "m4"]
    # A catch-up page goes after what is shown of the same millisecond.
    conv.merge([hline("m5", 101), hline("m6", 101)])
    assert [line.msgid or line.text for line in conv.lines] == ["joined", "m0", "m5", "m6"]


def test_merge_dedups_lines_without_msgid_by_content() -> None:
    """A server without msgids: the same time, sender and text is the same line."""
    conv = room_with([hline(None, 1, "same")], [])
    assert conv.merge([hline(None, 1, "same"), hline(None, 1, "other")]) == [
        hline(None, 1, "other")
    ]


def test_merge_keeps_the_scrollback_bound() -> None:
    """Merging into full live lines keeps at most SCROLLBACK_LINES of them."""
    conv = room_with([], [hline(f"l{i}", 10 + i) for i in range(SCROLLBACK_LINES)])
    conv.merge([hline("late", 10 + SCROLLBACK_LINES + 1)])
    assert isinstance(conv.lines, deque)
    assert conv.lines.maxlen == SCROLLBACK_LINES
    assert len(conv.lines) == SCROLLBACK_LINES
    assert conv.lines[-1].msgid == "late"


def test_newest_msgid_prefers_live_lines() -> None:
    """The catch-up point is the newest line with a msgid, live or fetched."""
    conv = room_with([hline("old", 1)], [hline("live", 50), hline(None, 60, "info")])
    assert conv.newest_msgid() == "live"
    assert room_with([], []).newest_msgid() is None


@pytest.mark.parametrize(
    ("description", "wait"),
    [
        ("Sending too fast: your lines are queued and go out at 2 a second, the next in 3 s", 3.0),
        ("Sending too fast: this line was not sent, retry in 0.5 s", 0.5),
        ("Slow down", 0.0),
    ],
)
def test_rate_limited_reports_the_wait(description: str, wait: float) -> None:
    """standard-replies: `FAIL <command> RATE_LIMITED <description>` tells how long to wait."""
    session = negotiated()
    events = feed(session, f":easychat.local FAIL PRIVMSG RATE_LIMITED :{description}")
    assert events[0] == RateLimited("PRIVMSG", wait)
    assert isinstance(events[1], Line)
    assert events[1].kind is LineKind.ERROR
