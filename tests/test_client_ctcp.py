"""Tests the Session's CTCP, LIST, ignore list and address memory, fed literal server lines."""

from __future__ import annotations

from easychat.client.events import SERVER_CONVERSATION, Line, LineKind, ListedRoom, RoomList
from easychat.client.session.ctcp import CLIENT_VERSION, CTCP_REPLY_BURST, CTCP_REPLY_WINDOW
from easychat.client.session.roomlist import MAX_LISTED_ROOMS
from easychat.client.session.session import Session
from easychat.proto.message import Message
from tests.test_client_session import NOW, OUR_ISUPPORT, OUR_WELCOME, feed, in_lobby


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def clocked(clock: Clock) -> Session:
    """A registered john in #lobby whose session reads `clock`."""
    session = Session("john", clock=clock)
    session.start()
    feed(session, ":easychat.local CAP * LS :", OUR_WELCOME, OUR_ISUPPORT)
    feed(session, ":john!john@127.0.0.1 JOIN #lobby")
    session.take_outgoing()
    return session


# -- CTCP requests to us ------------------------------------------------------


def test_version_request_is_answered_by_notice() -> None:
    """CTCP VERSION: "the reply ... is sent as a NOTICE" with the client's name and version."""
    session = in_lobby("john")
    events = feed(session, ":doe!doe@h PRIVMSG john :\x01VERSION\x01")
    assert session.take_outgoing() == [
        Message("NOTICE", ("doe", f"\x01VERSION {CLIENT_VERSION}\x01"))
    ]
    assert CLIENT_VERSION.startswith("EasyChat ")
    [line] = events
    assert isinstance(line, Line)
    assert line.conversation == SERVER_CONVERSATION
    assert "doe" in line.text
    assert "VERSION" in line.text


def test_ping_request_echoes_its_argument() -> None:
    """CTCP PING: "the reply MUST contain the same parameter as the original query"."""
    session = in_lobby("john")
    feed(session, ":doe!doe@h PRIVMSG john :\x01PING 1700000000 123456\x01")
    assert session.take_outgoing() == [Message("NOTICE", ("doe", "\x01PING 1700000000 123456\x01"))]
    feed(session, ":doe!doe@h PRIVMSG #lobby :\x01PING x\x01")  # to a room: to the sender
    assert session.take_outgoing() == [Message("NOTICE", ("doe", "\x01PING x\x01"))]


def test_clientinfo_lists_what_is_answered() -> None:
    session = in_lobby("john")
    feed(session, ":doe!doe@h PRIVMSG john :\x01CLIENTINFO\x01")
    assert session.take_outgoing() == [
        Message("NOTICE", ("doe", "\x01CLIENTINFO ACTION CLIENTINFO PING VERSION\x01"))
    ]


def test_a_ctcp_flood_gets_a_bounded_number_of_answers() -> None:
    clock = Clock()
    session = clocked(clock)
    for i in range(CTCP_REPLY_BURST + 3):
        feed(session, f":bot{i}!b@h PRIVMSG john :\x01VERSION\x01")
    assert len(session.take_outgoing()) == CTCP_REPLY_BURST
    clock.now += CTCP_REPLY_WINDOW
    feed(session, ":doe!doe@h PRIVMSG john :\x01VERSION\x01")
    assert len(session.take_outgoing()) == 1


def test_history_and_own_echo_are_not_answered() -> None:
    """A replayed request (in a chathistory batch) and our own echo get no answer."""
    session = in_lobby("john")
    session.caps.update({"batch", "echo-message", "draft/chathistory"})
    feed(
        session,
        ":easychat.local BATCH +h chathistory doe",
        "@batch=h :doe!doe@h PRIVMSG john :\x01VERSION\x01",
        ":easychat.local BATCH -h",
        ":john!john@h PRIVMSG doe :\x01VERSION\x01",
        ":john!john@h NOTICE doe :\x01VERSION EasyChat\x01",
        ":easychat.local PRIVMSG john :\x01VERSION\x01",
    )
    assert session.take_outgoing() == []


# -- CTCP replies to us ----------------------------------------------------------


def test_version_reply_is_shown_in_words() -> None:
    session = in_lobby("john")
    [line] = feed(session, ":bob!b@h NOTICE john :\x01VERSION irssi v1.4.5\x01")
    assert isinstance(line, Line)
    assert (line.conversation, line.kind) == (None, LineKind.INFO)
    assert line.text == "VERSION reply from bob: irssi v1.4.5"
    assert session.take_outgoing() == []  # a reply is never answered


def test_ping_reply_shows_the_round_trip() -> None:
    clock = Clock(NOW + 0.25)
    session = clocked(clock)
    request = session.ctcp_request("bob", "PING")
    assert request.command == "PRIVMSG"
    assert request.params[0] == "bob"
    body = request.params[1]
    assert body.startswith("\x01PING ")
    assert body.endswith("\x01")
    clock.now += 0.12
    [line] = feed(session, f":bob!b@h NOTICE john :{body}")
    assert isinstance(line, Line)
    assert line.text == "PING reply from bob: 0.12 s"
    [odd] = feed(session, ":bob!b@h NOTICE john :\x01PING not a time\x01")
    assert isinstance(odd, Line)
    assert odd.text == "PING reply from bob: not a time"


def test_ctcp_request_builds_the_privmsg() -> None:
    session = in_lobby("john")
    assert session.ctcp_request("bob", "VERSION") == Message("PRIVMSG", ("bob", "\x01VERSION\x01"))
    assert session.ctcp_request("#r", "PING", "42") == Message("PRIVMSG", ("#r", "\x01PING 42\x01"))


# -- the ignore list ------------------------------------------------------------------


def test_ignored_senders_are_not_shown_nor_answered() -> None:
    session = in_lobby("john", "doe", "bob")
    session.ignores.add("doe")
    session.ignores.add("*!*@spam.example")
    assert feed(session, ":Doe!doe@h PRIVMSG #lobby :hello") == []
    assert feed(session, ":doe!doe@h PRIVMSG john :psst") == []
    assert feed(session, ":doe!doe@h NOTICE john :notice") == []
    assert feed(session, ":x!y@SPAM.example PRIVMSG #lobby :buy") == []
    assert feed(session, ":doe!doe@h PRIVMSG john :\x01VERSION\x01") == []
    assert session.take_outgoing() == []
    [line] = feed(session, ":bob!b@h PRIVMSG #lobby :still here")
    assert isinstance(line, Line)
    assert line.text == "still here"
    assert session.ignores.remove("DOE!*@*")
    assert len(feed(session, ":doe!doe@h PRIVMSG #lobby :back")) == 1


def test_own_messages_are_never_ignored() -> None:
    """A mask that also matches us (`*!*@127.0.0.1` on a shared host) keeps our own echo."""
    session = in_lobby("john")
    session.caps.add("echo-message")
    session.ignores.add("*!*@127.0.0.1")
    [line] = feed(session, ":john!john@127.0.0.1 PRIVMSG #lobby :mine")
    assert isinstance(line, Line)
    assert line.own
    assert feed(session, ":doe!doe@127.0.0.1 PRIVMSG #lobby :theirs") == []


def test_ignored_sender_in_history_is_dropped() -> None:
    session = in_lobby("john")
    session.caps.update({"batch", "draft/chathistory"})
    session.ignores.add("doe")
    [batch] = feed(
        session,
        ":easychat.local BATCH +h chathistory #lobby",
        "@batch=h :doe!doe@h PRIVMSG #lobby :old",
        "@batch=h :bob!b@h PRIVMSG #lobby :kept",
        ":easychat.local BATCH -h",
    )
    assert [line.text for line in getattr(batch, "lines", ())] == ["kept"]


# -- addresses for /ban ------------------------------------------------------------------


def test_user_and_host_are_remembered_from_any_message() -> None:
    session = in_lobby("john")
    assert session.userhost("doe") is None
    feed(session, ":Doe!~doe@10.0.0.1 JOIN #lobby")
    assert session.userhost("DOE") == "~doe@10.0.0.1"
    feed(session, ":Doe!~doe@10.0.0.2 PRIVMSG #lobby :moved")
    assert session.userhost("doe") == "~doe@10.0.0.2"
    feed(session, ":easychat.local NOTICE john :server")
    assert session.userhost("easychat.local") is None


# -- LIST ---------------------------------------------------------------------------------


def test_list_replies_become_one_room_list() -> None:
    session = in_lobby("john")
    events = feed(
        session,
        ":easychat.local 321 john Channel :Users  Name",
        ":easychat.local 322 john #lobby 3 :Everyone",
        ":easychat.local 322 john #rust 12 :",
        ":easychat.local 322 john #odd many :[bold]not markup",
    )
    assert events == []
    [done] = feed(session, ":easychat.local 323 john :End of /LIST")
    assert done == RoomList(
        (
            ListedRoom("#lobby", 3, "Everyone"),
            ListedRoom("#rust", 12, ""),
            ListedRoom("#odd", 0, "[bold]not markup"),
        )
    )


def test_list_without_321_and_a_second_list_start_afresh() -> None:
    session = in_lobby("john")
    feed(session, ":s 322 john #a 1 :x")
    [first] = feed(session, ":s 323 john :End")
    [second] = feed(session, ":s 323 john :End")
    assert first == RoomList((ListedRoom("#a", 1, "x"),))
    assert second == RoomList(())


def test_a_huge_list_is_cut_and_says_so() -> None:
    session = in_lobby("john")
    lines = [f":s 322 john #r{i} 1 :t" for i in range(MAX_LISTED_ROOMS + 5)]
    feed(session, ":s 321 john Channel :Users  Name", *lines)
    [done] = feed(session, ":s 323 john :End")
    assert isinstance(done, RoomList)
    assert len(done.rooms) == MAX_LISTED_ROOMS
    assert done.truncated
