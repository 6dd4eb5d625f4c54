"""Tests for Conversations: order, unread counts, mentions, switching and closing."""

from __future__ import annotations

from easychat.client.conversations import (
    SCROLLBACK_LINES,
    Conversation,
    ConversationKind,
    Conversations,
)
from easychat.client.events import Line, LineKind
from easychat.client.smartfilter import SMART_FILTER_SECONDS, JoinFilter
from easychat.proto.names import casefold_for

ROOM = ConversationKind.ROOM
PRIVATE = ConversationKind.PRIVATE


def line(conv: str | None, text: str = "hi", *, own: bool = False, mention: bool = False) -> Line:
    return Line(conv, LineKind.MESSAGE, "doe", text, 0.0, own=own, mention=mention)


def names(convs: Conversations) -> list[str]:
    return [c.name for c in convs.ordered()]


def sample() -> Conversations:
    """Opened in a mixed order: rooms #lobby, #b; private doe, ann."""
    convs = Conversations("easychat.local")
    convs.open("doe", PRIVATE)
    convs.open("#lobby", ROOM)
    convs.open("ann", PRIVATE)
    convs.open("#b", ROOM)
    return convs


def test_rooms_in_join_order_then_private_then_server() -> None:
    assert names(sample()) == ["#lobby", "#b", "doe", "ann", "easychat.local"]


def test_starts_on_the_server_conversation() -> None:
    convs = Conversations("irc.example.net")
    assert convs.current is convs.server
    assert convs.server.kind is ConversationKind.SERVER
    assert names(convs) == ["irc.example.net"]


def test_open_is_idempotent_and_case_insensitive() -> None:
    convs = sample()
    lobby = convs.get("#lobby")
    assert lobby is not None
    assert convs.open("#LOBBY", ROOM) is lobby
    assert convs.get("DOE") is convs.get("doe")
    assert names(convs).count("#lobby") == 1


def test_reopening_a_closed_room_marks_it_active() -> None:
    convs = sample()
    lobby = convs.open("#lobby", ROOM)
    lobby.active = False
    assert convs.open("#lobby", ROOM).active


def test_casemapping_given_is_used() -> None:
    convs = Conversations("s", fold=casefold_for("rfc1459"))
    room = convs.open("#a[1]", ROOM)
    assert convs.get("#A{1}") is room


def test_unread_counts_only_other_conversations() -> None:
    convs = sample()
    lobby = convs.get("#lobby")
    assert lobby is not None
    convs.switch(lobby)
    convs.add(line("#lobby"))
    convs.add(line("#b"))
    convs.add(line("#b"))
    b = convs.get("#b")
    assert b is not None
    assert (lobby.unread, b.unread) == (0, 2)
    assert [x.text for x in b.lines] == ["hi", "hi"]


def test_own_lines_are_not_unread() -> None:
    convs = sample()
    convs.add(line("#b", own=True))
    b = convs.get("#b")
    assert b is not None
    assert b.unread == 0
    assert len(b.lines) == 1


def test_mention_flag_until_switched() -> None:
    convs = sample()
    convs.add(line("#b", "john: hi", mention=True))
    convs.add(line("#b", "later"))
    b = convs.get("#b")
    assert b is not None
    assert (b.unread, b.mentioned) == (2, True)
    convs.switch(b)
    assert (b.unread, b.mentioned) == (0, False)
    assert convs.current is b


def test_mention_in_the_current_conversation_is_not_flagged() -> None:
    convs = sample()
    b = convs.get("#b")
    assert b is not None
    convs.switch(b)
    convs.add(line("#b", mention=True))
    assert not b.mentioned


def test_line_without_conversation_goes_to_the_current_one() -> None:
    convs = sample()
    ann = convs.get("ann")
    assert ann is not None
    convs.switch(ann)
    assert convs.add(line(None, "server says")) is ann
    assert ann.lines[-1].text == "server says"
    assert ann.unread == 0


def test_line_for_an_unknown_nick_opens_a_private_conversation() -> None:
    convs = sample()
    conv = convs.add(line("Zed"))
    assert conv.kind is PRIVATE
    assert names(convs) == ["#lobby", "#b", "doe", "ann", "Zed", "easychat.local"]
    assert convs.add(line("zed")) is conv
    assert conv.unread == 2


def test_step_wraps_both_ways() -> None:
    convs = sample()
    order = convs.ordered()
    assert convs.current is order[-1]  # the server
    assert convs.step(1) is order[0]
    assert convs.step(-1) is order[-2]
    convs.switch(order[0])
    assert convs.step(-1) is order[-1]
    assert convs.step(len(order)) is order[0]
    assert convs.step(2) is order[2]


def test_close_current_falls_back_to_the_next_neighbour() -> None:
    convs = sample()
    b = convs.get("#b")
    assert b is not None
    convs.switch(b)
    convs.close("#B")
    assert convs.get("#b") is None
    assert convs.current.name == "doe"
    assert names(convs) == ["#lobby", "doe", "ann", "easychat.local"]


def test_close_the_last_before_the_server_falls_back_to_the_server() -> None:
    convs = Conversations("srv")
    doe = convs.open("doe", PRIVATE)
    convs.switch(doe)
    convs.close("doe")
    assert convs.current is convs.server


def test_close_another_keeps_the_current() -> None:
    convs = sample()
    ann = convs.get("ann")
    assert ann is not None
    convs.switch(ann)
    convs.close("#lobby")
    assert convs.current is ann


def test_close_never_closes_the_server_or_an_unknown_name() -> None:
    convs = sample()
    convs.close("easychat.local")
    convs.close("nobody")
    assert names(convs) == ["#lobby", "#b", "doe", "ann", "easychat.local"]
    assert convs.current is convs.server


def test_rename_private_keeps_its_place_and_lines() -> None:
    convs = sample()
    convs.add(line("doe", "before"))
    doe = convs.get("doe")
    assert doe is not None
    convs.rename("doe", "jane")
    assert convs.get("doe") is None
    assert convs.get("JANE") is doe
    assert doe.name == "jane"
    assert [x.text for x in doe.lines] == ["before"]
    assert names(convs) == ["#lobby", "#b", "jane", "ann", "easychat.local"]


def test_rename_change_of_case() -> None:
    convs = sample()
    convs.rename("doe", "Doe")
    assert names(convs) == ["#lobby", "#b", "Doe", "ann", "easychat.local"]


def test_rename_does_not_merge_or_touch_rooms() -> None:
    convs = sample()
    convs.rename("doe", "ann")  # both exist: keep both
    convs.rename("#lobby", "#other")  # rooms do not follow nicks
    convs.rename("nobody", "x")
    assert names(convs) == ["#lobby", "#b", "doe", "ann", "easychat.local"]


def test_current_survives_a_rename() -> None:
    convs = sample()
    doe = convs.get("doe")
    assert doe is not None
    convs.switch(doe)
    convs.rename("doe", "jane")
    assert convs.current is doe
    assert convs.step(0) is doe


def test_conversation_is_compared_by_identity() -> None:
    a = Conversation("x", PRIVATE)
    b = Conversation("x", PRIVATE)
    assert a != b


def test_lines_past_the_cap_leave_memory_and_mark_the_local_log_as_holding_them() -> None:
    """Past SCROLLBACK_LINES the oldest line goes; the history shown above it goes too.

    The history would otherwise sit above a gap; the local log pages them back.
    """
    convs = sample()
    lobby = convs.get("#lobby")
    assert lobby is not None
    lobby.history = [line("#lobby", "from the log")]
    for i in range(SCROLLBACK_LINES):
        convs.add(line("#lobby", f"n{i}"))
    assert not lobby.earlier_in_log
    assert [x.text for x in lobby.history] == ["from the log"]
    convs.add(line("#lobby", "one more"))
    assert lobby.earlier_in_log
    assert lobby.history == []
    assert len(lobby.lines) == SCROLLBACK_LINES
    assert lobby.lines[0].text == "n1"


def test_only_messages_count_as_unread() -> None:
    """Item 18: joins, quits and server text are not unread; messages, actions, notices are."""
    convs = sample()
    lobby, other = convs.get("#lobby"), convs.get("#b")
    assert lobby is not None
    assert other is not None
    convs.switch(other)
    for kind in (LineKind.EVENT, LineKind.INFO, LineKind.ERROR):
        convs.add(Line("#lobby", kind, "doe", "doe joined #lobby", 0.0))
    convs.add(Line("\0server", LineKind.INFO, "", "Welcome", 0.0))
    assert (lobby.unread, convs.server.unread) == (0, 0)
    for kind in (LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE):
        convs.add(Line("#lobby", kind, "doe", "hi", 0.0))
    assert lobby.unread == 3
    assert not lobby.mentioned


def test_private_message_marks_like_a_mention() -> None:
    """Item 18: a private message marks its conversation as a mention does."""
    convs = sample()
    convs.add(line("doe", "hello"))
    doe = convs.get("doe")
    assert doe is not None
    assert (doe.unread, doe.mentioned) == (1, True)


def test_lines_after_the_read_mark_are_new_until_switched_away() -> None:
    """Item 19: lines after where the user stopped reading count; the marker goes once read."""
    convs = sample()
    lobby = convs.get("#lobby")
    assert lobby is not None
    lobby.new_after = 10.0
    lobby.count_new(
        [
            Line("#lobby", LineKind.MESSAGE, "doe", "seen", 9.0),
            Line("#lobby", LineKind.MESSAGE, "doe", "new", 11.0),
            Line("#lobby", LineKind.EVENT, "doe", "doe joined", 12.0),
            Line("#lobby", LineKind.MESSAGE, "john", "mine", 13.0, own=True),
        ]
    )
    assert lobby.unread == 1
    convs.switch(lobby)
    lobby.lines.append(Line("#lobby", LineKind.MESSAGE, "doe", "last", 20.0))
    convs.switch(convs.server)
    assert (lobby.new_after, lobby.read_time) == (None, 20.0)


def test_smart_join_filter_shows_recent_speakers_only() -> None:
    """Item 18: a quit shows for someone who spoke within SMART_FILTER_SECONDS, not later."""
    join_filter = JoinFilter("smart")
    fold = str.lower
    join_filter.note(Line("#a", LineKind.MESSAGE, "Doe", "hi", 1000.0), fold)
    quit_soon = Line(
        "#a", LineKind.EVENT, "doe", "doe quit", 1000.0 + SMART_FILTER_SECONDS, presence=True
    )
    quit_late = Line(
        "#a", LineKind.EVENT, "doe", "doe quit", 1001.0 + SMART_FILTER_SECONDS, presence=True
    )
    elsewhere = Line("#b", LineKind.EVENT, "doe", "doe quit", 1001.0, presence=True)
    assert join_filter.shows(quit_soon, fold)
    assert not join_filter.shows(quit_late, fold)
    assert not join_filter.shows(elsewhere, fold)
    assert join_filter.shows(Line("#b", LineKind.MESSAGE, "roe", "x", 0.0), fold)
    assert JoinFilter("all").shows(elsewhere, fold)
    assert not JoinFilter("none").shows(quit_soon, fold)
