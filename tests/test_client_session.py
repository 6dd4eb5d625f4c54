"""Tests for the client Session: literal server lines in, events and messages out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from easychat.client.events import (
    SERVER_CONVERSATION,
    Event,
    Joined,
    Left,
    Line,
    LineKind,
    MembersChanged,
    NickChanged,
    PeerRenamed,
    Registered,
    RegistrationFailed,
    ServerClosed,
    TopicChanged,
)
from easychat.client.input.split import text_budget
from easychat.client.session.session import Session
from easychat.proto.limits import MAX_LINE_BYTES
from easychat.proto.message import Message, encode, parse

NOW = 1_700_000_000.0

# What our server sends after NICK/USER (server name easychat.local).
OUR_WELCOME = ":easychat.local 001 john :Welcome to Easy Chat! You are customer number 7"
OUR_ISUPPORT = (
    ":easychat.local 005 john CASEMAPPING=ascii CHANTYPES=# PREFIX=(ov)@+"
    " CHANMODES=b,k,l,imnst NICKLEN=30 :are supported by this server"
)
# What ngircd sends (Debian's default configuration).
NGIRCD_WELCOME = (
    ":irc.example.net 001 john :Welcome to the Internet Relay Network john!~john@localhost"
)
NGIRCD_ISUPPORT = (
    ":irc.example.net 005 john RFC2812 IRCD=ngIRCd CHARSET=UTF-8 CASEMAPPING=ascii"
    " PREFIX=(qaohv)~&@%+ CHANTYPES=#&+ CHANMODES=beI,k,l,imMnOPQRstVz"
    " CHANLIMIT=#&+:10 :are supported on this server"
)


def feed(session: Session, *lines: str) -> list[Event]:
    """Feeds literal server lines; returns all the events, in order."""
    events: list[Event] = []
    for line in lines:
        events += session.feed(parse(line, strict=False))
    return events


def lines_of(events: list[Event]) -> list[Line]:
    return [e for e in events if isinstance(e, Line)]


def new_session(nick: str = "john") -> Session:
    return Session(nick, clock=lambda: NOW)


def registered(*isupport: str, nick: str = "john") -> Session:
    """A session past 001 and the given 005 lines."""
    session = new_session(nick)
    session.start()
    feed(session, ":easychat.local CAP * LS :")
    feed(session, OUR_WELCOME.replace(" john ", f" {nick} ", 1), *isupport)
    session.take_outgoing()
    return session


def in_lobby(*names: str, isupport: str = OUR_ISUPPORT) -> Session:
    """A registered john in #lobby with the given NAMES entries."""
    session = registered(isupport)
    feed(
        session,
        ":john!john@127.0.0.1 JOIN #lobby",
        f":easychat.local 353 john = #lobby :{' '.join(names)}",
        ":easychat.local 366 john #lobby :End of /NAMES list",
    )
    return session


def member_view(session: Session, channel: str = "#lobby") -> list[str]:
    return [m.prefixes + m.nick for m in session.members(channel)]


# -- registration and CAP ---------------------------------------------------


def test_start_sends_cap_ls_302_then_nick_and_user() -> None:
    session = Session("John", realname="John Smith")
    assert session.start() == [
        Message("CAP", ("LS", "302")),
        Message("NICK", ("John",)),
        Message("USER", ("john", "0", "*", "John Smith")),
    ]


def test_cap_ls_without_wanted_caps_ends_negotiation() -> None:
    session = new_session()
    session.start()
    assert feed(session, ":easychat.local CAP * LS :") == []
    assert session.take_outgoing() == [Message("CAP", ("END",))]
    assert session.take_outgoing() == []


def test_cap_ls_requests_the_wanted_caps_offered() -> None:
    session = new_session()
    feed(session, ":irc.example.net CAP * LS :sasl=PLAIN multi-prefix server-time=x account-notify")
    assert session.take_outgoing() == [Message("CAP", ("REQ", "multi-prefix server-time"))]


def test_multiline_cap_ls_waits_for_the_last_line() -> None:
    session = new_session()
    feed(session, ":irc.example.net CAP * LS * :multi-prefix sasl")
    assert session.take_outgoing() == []
    feed(session, ":irc.example.net CAP * LS :echo-message account-tag")
    assert session.take_outgoing() == [Message("CAP", ("REQ", "echo-message multi-prefix"))]


def test_cap_ack_sets_caps_and_ends() -> None:
    session = new_session()
    feed(session, ":irc.example.net CAP * LS :multi-prefix echo-message")
    session.take_outgoing()
    feed(session, ":irc.example.net CAP john ACK :echo-message multi-prefix ")
    assert session.caps == {"echo-message", "multi-prefix"}
    assert session.take_outgoing() == [Message("CAP", ("END",))]


def test_cap_nak_ends_without_caps() -> None:
    session = new_session()
    feed(session, ":irc.example.net CAP * LS :multi-prefix")
    session.take_outgoing()
    feed(session, ":irc.example.net CAP * NAK :multi-prefix")
    assert session.caps == set()
    assert session.take_outgoing() == [Message("CAP", ("END",))]


def test_cap_del_drops_a_cap() -> None:
    """IRCv3 cap-notify: CAP DEL withdraws a capability the client had."""
    session = new_session()
    feed(session, ":irc.example.net CAP * LS :echo-message")
    feed(session, ":irc.example.net CAP john ACK :echo-message", NGIRCD_WELCOME)
    session.take_outgoing()
    feed(session, ":irc.example.net CAP john DEL :echo-message")
    assert session.caps == set()
    assert session.take_outgoing() == []  # no CAP END once registered


@pytest.mark.parametrize(
    ("welcome", "nick", "text"),
    [
        (OUR_WELCOME, "john", "Welcome to Easy Chat! You are customer number 7"),
        (
            NGIRCD_WELCOME.replace(" john ", " John "),
            "John",
            "Welcome to the Internet Relay Network john!~john@localhost",
        ),
    ],
)
def test_welcome_registers_with_the_confirmed_nick(welcome: str, nick: str, text: str) -> None:
    session = new_session()
    assert feed(session, welcome) == [Registered(nick, text)]
    assert session.registered
    assert session.nick == nick
    assert session.server_name == welcome[1:].split(" ", maxsplit=1)[0]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            ":irc.example.net 433 * john :Nickname already in use",
            "Nickname john is already in use",
        ),
        (
            ":easychat.local 432 * j@hn :Erroneous nickname",
            "Nickname j@hn is not allowed by the server",
        ),
    ],
)
def test_nick_errors_before_welcome_fail_registration(line: str, reason: str) -> None:
    session = new_session()
    assert feed(session, line) == [RegistrationFailed(reason)]
    assert session.take_outgoing() == []


def test_nick_in_use_after_welcome_is_only_an_error_line() -> None:
    session = registered(OUR_ISUPPORT)
    events = feed(session, ":easychat.local 433 john doe :Nickname is already in use")
    assert [(e.kind, e.text) for e in lines_of(events)] == [
        (LineKind.ERROR, "doe Nickname is already in use")
    ]
    assert len(events) == 1


def test_alt_nick_on_collision_tries_nick_underscore() -> None:
    session = new_session()
    session.alt_nick_on_collision = True
    events = feed(session, ":irc.example.net 433 * john :Nickname already in use")
    assert not any(isinstance(e, RegistrationFailed) for e in events)
    assert session.take_outgoing() == [Message("NICK", ("john_",))]
    assert feed(session, OUR_WELCOME.replace(" john ", " john_ "))[0] == Registered(
        "john_", "Welcome to Easy Chat! You are customer number 7"
    )


def test_alt_nick_on_nick_delay_437() -> None:
    """Hybrid-family servers hold a dead connection's nick with 437."""
    session = new_session()
    session.alt_nick_on_collision = True
    feed(session, ":irc.example.net 437 * john :Nick/channel is temporarily unavailable")
    assert session.take_outgoing() == [Message("NICK", ("john_",))]


def test_437_without_alt_nick_fails_registration() -> None:
    session = new_session()
    events = feed(session, ":irc.example.net 437 * john :Nick/channel is temporarily unavailable")
    assert events == [RegistrationFailed("Nickname john is temporarily unavailable")]


def test_alt_nick_at_nicklen_gives_up_instead_of_looping() -> None:
    """At NICKLEN, `nick_` replaces the last character; a second 433 must end it."""
    session = Session("x" * 29 + "_", clock=lambda: NOW)
    session.alt_nick_on_collision = True
    events = feed(session, ":irc.example.net 433 * " + "x" * 29 + "_ :Nickname already in use")
    assert session.take_outgoing() == []
    assert events == [RegistrationFailed(f"Nickname {'x' * 29}_ is already in use")]


def test_bad_nicklen_from_the_server_does_not_raise() -> None:
    session = new_session()
    session.alt_nick_on_collision = True
    feed(session, ":irc.example.net 005 * NICKLEN=lots :are supported by this server")
    feed(session, ":irc.example.net 433 * john :Nickname already in use")
    assert session.take_outgoing() == [Message("NICK", ("john_",))]


def test_error_before_welcome_fails_registration() -> None:
    session = new_session()
    events = feed(session, "ERROR :Server is full")
    assert len(events) == 1
    assert isinstance(events[0], RegistrationFailed)
    assert "Server is full" in events[0].reason


def test_error_after_welcome_is_server_closed() -> None:
    session = registered(NGIRCD_ISUPPORT)
    assert feed(session, "ERROR :Closing connection") == [ServerClosed("Closing connection")]


@pytest.mark.parametrize(
    ("line", "token"),
    [("PING :irc.example.net", "irc.example.net"), ("PING 12345", "12345")],
)
def test_ping_gets_pong_with_the_token(line: str, token: str) -> None:
    session = registered(OUR_ISUPPORT)
    assert feed(session, line) == []
    assert session.take_outgoing() == [Message("PONG", (token,))]


def test_notice_before_registration_is_an_info_line() -> None:
    session = new_session()
    events = feed(
        session,
        ":irc.example.net NOTICE * :*** Looking up your hostname",
        "NOTICE AUTH :*** Checking ident",
    )
    assert [(e.conversation, e.kind, e.text) for e in lines_of(events)] == [
        (None, LineKind.INFO, "*** Looking up your hostname"),
        (None, LineKind.INFO, "*** Checking ident"),
    ]


def test_feeding_a_numeric_never_calls_a_handler_by_name() -> None:
    """A command word from the server is not a method name of ours."""
    session = registered(OUR_ISUPPORT)
    assert feed(session, ":easychat.local NUMERIC john :odd") == []


# -- ISUPPORT ----------------------------------------------------------------


def test_casemapping_rfc1459_folds_brackets() -> None:
    session = registered(OUR_ISUPPORT.replace("CASEMAPPING=ascii", "CASEMAPPING=rfc1459"))
    assert session.same("[John]", "{john}")
    assert session.same("a\\b", "A|B")


def test_casemapping_ascii_keeps_brackets_apart() -> None:
    session = registered(OUR_ISUPPORT)
    assert session.same("JOHN", "john")
    assert not session.same("[john]", "{john}")


def test_casemapping_after_join_still_finds_the_room() -> None:
    session = registered()
    feed(session, ":john!john@h JOIN #Room[1]")
    feed(session, OUR_ISUPPORT)  # rfc1459 (the default) -> ascii
    assert session.room("#room[1]") is not None
    events = feed(session, ":doe!doe@h PRIVMSG #ROOM[1] :hi")
    assert lines_of(events)[0].conversation == "#Room[1]"


def test_chantypes_from_isupport() -> None:
    session = registered(NGIRCD_ISUPPORT)
    assert session.is_channel("&local")
    assert session.is_channel("+modeless")
    assert not session.is_channel("john")


def test_prefix_parsing_ranks_members() -> None:
    session = in_lobby("doe", "+bob", "@zed", "%hal", "~own", isupport=NGIRCD_ISUPPORT)
    assert session.prefix_modes == {"q": "~", "a": "&", "o": "@", "h": "%", "v": "+"}
    assert member_view(session) == ["~own", "@zed", "%hal", "+bob", "doe"]


# -- members -----------------------------------------------------------------


def test_members_ops_then_voiced_then_others_alphabetically() -> None:
    session = in_lobby("carol", "+Bob", "@zoe", "alice", "@amy", "+adam", "john")
    assert member_view(session) == ["@amy", "@zoe", "+adam", "+Bob", "alice", "carol", "john"]


def test_member_without_prefix_sorts_after_ops() -> None:
    session = in_lobby("aaron", "@zed")
    assert member_view(session) == ["@zed", "aaron"]


def test_members_of_an_unknown_room_is_empty() -> None:
    assert in_lobby("john").members("#nowhere") == []


def test_multi_prefix_names_keep_all_prefixes() -> None:
    session = in_lobby("@+doe", "+ann", "john")
    assert member_view(session) == ["@+doe", "+ann", "john"]
    feed(session, ":op!o@h MODE #lobby -o doe")
    assert member_view(session) == ["+ann", "+doe", "john"]


def test_multiline_names_add_up_then_a_new_burst_replaces() -> None:
    session = registered(OUR_ISUPPORT)
    feed(
        session,
        ":john!john@h JOIN #lobby",
        ":easychat.local 353 john = #lobby :john @doe",
        ":easychat.local 353 john = #lobby :ann bob",
    )
    events = feed(session, ":easychat.local 366 john #lobby :End of /NAMES list")
    assert events == [MembersChanged("#lobby")]
    assert member_view(session) == ["@doe", "ann", "bob", "john"]
    feed(
        session,
        ":easychat.local 353 john = #lobby :john ann",
        ":easychat.local 366 john #lobby :End of /NAMES list",
    )
    assert member_view(session) == ["ann", "john"]


# -- JOIN, PART, KICK, QUIT, NICK ---------------------------------------------


def test_own_join_opens_the_room() -> None:
    session = registered(OUR_ISUPPORT)
    events = feed(session, ":john!john@127.0.0.1 JOIN #lobby")
    assert events[0] == Joined("#lobby")
    assert lines_of(events)[0].conversation == "#lobby"
    assert lines_of(events)[0].kind is LineKind.EVENT
    assert member_view(session) == ["john"]


def test_other_join_adds_a_member() -> None:
    session = in_lobby("john")
    events = feed(session, ":Doe!doe@127.0.0.1 JOIN :#LOBBY")
    assert MembersChanged("#lobby") in events
    assert [(e.conversation, e.text) for e in lines_of(events)] == [("#lobby", "Doe joined #lobby")]
    assert member_view(session) == ["Doe", "john"]


def test_join_to_an_unknown_room_is_ignored() -> None:
    session = in_lobby("john")
    assert feed(session, ":doe!d@h JOIN #elsewhere") == []


def test_other_part_removes_the_member() -> None:
    session = in_lobby("john", "doe")
    events = feed(session, ":doe!doe@h PART #lobby :bye now")
    assert [e.text for e in lines_of(events)] == ["doe left (bye now)"]
    assert MembersChanged("#lobby") in events
    assert member_view(session) == ["john"]


def test_own_part_leaves_the_room() -> None:
    session = in_lobby("john", "doe")
    events = feed(session, ":john!john@h PART #lobby")
    assert Left("#lobby", "") in events
    assert session.room("#lobby") is None
    assert session.members("#lobby") == []


def test_kick_of_another_removes_them() -> None:
    session = in_lobby("@john", "doe")
    events = feed(session, ":john!john@h KICK #lobby doe :spam")
    assert [e.text for e in lines_of(events)] == ["doe was kicked by john (spam)"]
    assert member_view(session) == ["@john"]


def test_own_kick_is_left() -> None:
    session = in_lobby("john", "@op")
    events = feed(session, ":op!op@h KICK #lobby john")
    assert Left("#lobby", "kicked by op") in events
    assert [e.text for e in lines_of(events)] == ["john was kicked by op"]
    assert session.room("#lobby") is None


def test_quit_removes_from_every_room_it_was_in() -> None:
    session = in_lobby("john", "doe")
    feed(
        session,
        ":john!john@h JOIN #two",
        ":easychat.local 353 john = #two :john doe",
        ":easychat.local 366 john #two :End",
        ":john!john@h JOIN #three",
    )
    events = feed(session, ":doe!doe@h QUIT :Quit: gone")
    assert [(e.conversation, e.text) for e in lines_of(events)] == [
        ("#lobby", "doe quit (Quit: gone)"),
        ("#two", "doe quit (Quit: gone)"),
    ]
    assert MembersChanged("#three") not in events
    assert session.members("#two")[0].nick == "john"
    assert len(session.members("#two")) == 1


def test_nick_change_of_another_renames_the_member() -> None:
    session = in_lobby("john", "@doe")
    events = feed(session, ":doe!doe@h NICK :jane")
    assert [(e.conversation, e.text) for e in lines_of(events)] == [
        ("#lobby", "doe is now known as jane")
    ]
    assert not any(isinstance(e, NickChanged) for e in events)
    assert PeerRenamed("doe", "jane") in events
    assert member_view(session) == ["@jane", "john"]


def test_nick_change_of_someone_in_no_shared_room_still_reported() -> None:
    """A private chat partner may share no room with us; the rename still reaches the UI."""
    session = registered(OUR_ISUPPORT)
    assert feed(session, ":doe!doe@h NICK dee") == [PeerRenamed("doe", "dee")]


def test_own_nick_change() -> None:
    session = in_lobby("john", "doe")
    events = feed(session, ":john!john@h NICK johnny")
    assert NickChanged("john", "johnny") in events
    assert session.nick == "johnny"
    assert member_view(session) == ["doe", "johnny"]
    # Our new nick is now what counts as "own".
    line = lines_of(feed(session, ":johnny!john@h PRIVMSG #lobby :hi"))[0]
    assert line.own


# -- MODE --------------------------------------------------------------------


def test_mode_op_and_voice() -> None:
    session = in_lobby("john", "doe", "ann")
    events = feed(session, ":john!john@h MODE #lobby +ov doe ann")
    assert MembersChanged("#lobby") in events
    assert member_view(session) == ["@doe", "+ann", "john"]
    feed(session, ":john!john@h MODE #lobby -o+v doe doe")
    assert member_view(session) == ["+ann", "+doe", "john"]


@pytest.mark.parametrize(
    "modes",
    [
        "+kov secret doe ann",
        "+lov 10 doe ann",
        "+bov *!*@spam doe ann",
        "+o-l+v doe ann",  # -l takes no argument
        "+imov doe ann",
        "-k+ov * doe ann",
    ],
)
def test_mode_args_stay_in_step(modes: str) -> None:
    session = in_lobby("john", "doe", "ann", "secret", "10")
    feed(session, f":john!john@h MODE #lobby {modes}")
    view = {m.nick: m.prefixes for m in session.members("#lobby")}
    assert view["doe"] == "@"
    assert view["ann"] == "+"
    assert view["secret"] == view["10"] == ""


def test_mode_args_follow_the_advertised_chanmodes() -> None:
    """ngircd: CHANMODES=beI,k,l,...: +I (invite exception) takes a mask."""
    session = in_lobby("john", "doe", isupport=NGIRCD_ISUPPORT)
    feed(session, ":john!john@h MODE #lobby +Io *!*@friend doe")
    assert member_view(session) == ["@doe", "john"]


def test_user_mode_is_a_line_for_the_current_conversation() -> None:
    session = registered(OUR_ISUPPORT)
    events = feed(session, ":john MODE john :+i")
    assert [(e.conversation, e.text) for e in lines_of(events)] == [(None, "john sets mode +i")]


# -- TOPIC -------------------------------------------------------------------


def test_topic_change() -> None:
    session = in_lobby("john")
    events = feed(session, ":doe!doe@h TOPIC #lobby :San Francisco trip")
    assert events[0] == TopicChanged("#lobby", "San Francisco trip")
    assert lines_of(events)[0].text == "doe changed the topic to: San Francisco trip"
    assert session.room("#lobby") is not None
    assert session.rooms["#lobby"].topic == "San Francisco trip"


def test_rpl_topic_on_join() -> None:
    session = registered(OUR_ISUPPORT)
    events = feed(
        session,
        ":john!john@h JOIN #lobby",
        ":easychat.local 332 john #lobby :Welcome all",
        ":easychat.local 333 john #lobby doe 1700000000",
    )
    assert TopicChanged("#lobby", "Welcome all") in events
    assert lines_of(events)[-1].text == "Topic: Welcome all"
    assert lines_of(events)[-1].conversation == "#lobby"


# -- PRIVMSG and NOTICE ------------------------------------------------------


def test_channel_privmsg() -> None:
    session = in_lobby("john", "doe")
    [line] = feed(session, "@msgid=abc :doe!doe@127.0.0.1 PRIVMSG #LOBBY :How are you?")
    assert line == Line("#lobby", LineKind.MESSAGE, "doe", "How are you?", NOW, msgid="abc")


def test_private_privmsg_goes_to_the_sender() -> None:
    session = registered(NGIRCD_ISUPPORT)
    [line] = feed(session, ":Doe!~doe@localhost PRIVMSG john :psst")
    assert isinstance(line, Line)
    assert (line.conversation, line.sender, line.own) == ("Doe", "Doe", False)


def test_own_echo_to_a_room_and_to_a_nick() -> None:
    session = in_lobby("john")
    session.caps.add("echo-message")
    [room_line] = feed(session, ":john!john@h PRIVMSG #lobby :hello john")
    [private_line] = feed(session, ":john!john@h PRIVMSG doe :hi doe")
    assert isinstance(room_line, Line)
    assert isinstance(private_line, Line)
    assert (room_line.conversation, room_line.own, room_line.mention) == ("#lobby", True, False)
    assert (private_line.conversation, private_line.own) == ("doe", True)


def test_ctcp_action() -> None:
    session = in_lobby("john")
    [line] = feed(session, ":doe!doe@h PRIVMSG #lobby :\x01ACTION waves at john\x01")
    assert isinstance(line, Line)
    assert (line.kind, line.text, line.mention) == (LineKind.ACTION, "waves at john", True)


def test_other_ctcp_is_ignored() -> None:
    """CTCP requests we do not answer (VERSION and PING are: test_client_ctcp.py)."""
    session = in_lobby("john")
    assert feed(session, ":doe!doe@h PRIVMSG john :\x01TIME\x01") == []
    assert feed(session, ":doe!doe@h PRIVMSG john :\x01DCC SEND x 1 2 3\x01") == []
    assert session.take_outgoing() == []


def test_notice_from_a_user_and_from_the_server() -> None:
    session = registered(OUR_ISUPPORT)
    [user] = feed(session, ":doe!doe@h NOTICE john :heads up")
    [server] = feed(session, ":easychat.local NOTICE john :maintenance at noon")
    assert isinstance(user, Line)
    assert isinstance(server, Line)
    assert (user.conversation, user.kind) == ("doe", LineKind.NOTICE)
    assert (server.conversation, server.kind, server.sender) == (
        None,
        LineKind.NOTICE,
        "easychat.local",
    )


def test_statusmsg_target_goes_to_the_room() -> None:
    """A line for the room's operators only is shown in the room, saying so."""
    session = in_lobby("@john", "@doe")
    [line] = feed(session, ":doe!doe@h PRIVMSG @#lobby :ops only")
    assert isinstance(line, Line)
    assert line.conversation == "#lobby"
    assert line.text == "[to @#lobby] ops only"


@pytest.mark.parametrize(
    ("text", "mention"),
    [
        ("john: are you there?", True),
        ("hey JOHN!", True),
        ("@John, look", True),
        ("johnny is here", False),
        ("ask littlejohn", False),
        ("john_ is someone else", False),
        ("nobody here", False),
    ],
)
def test_mention_detection(text: str, mention: bool) -> None:
    session = in_lobby("john", "doe")
    [line] = feed(session, f":doe!doe@h PRIVMSG #lobby :{text}")
    assert isinstance(line, Line)
    assert line.mention is mention


def test_mention_follows_the_casemapping() -> None:
    session = registered(OUR_ISUPPORT.replace("ascii", "rfc1459"), nick="[john]")
    assert session.mentions_me("hi {JOHN}")
    assert not session.mentions_me("hi x[john]")


def test_own_message_is_never_a_mention() -> None:
    session = in_lobby("john")
    session.caps.add("echo-message")
    [line] = feed(session, ":john!john@h PRIVMSG #lobby :john here")
    assert isinstance(line, Line)
    assert not line.mention


def test_server_time_only_with_the_cap() -> None:
    stamp = "@time=2024-01-02T03:04:05.678Z :doe!doe@h PRIVMSG #lobby :hi"
    expected = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC).timestamp()
    session = in_lobby("john", "doe")
    [without] = feed(session, stamp)
    session.caps.add("server-time")
    [with_cap] = feed(session, stamp)
    [bad] = feed(session, "@time=yesterday :doe!doe@h PRIVMSG #lobby :hi")
    assert isinstance(without, Line)
    assert isinstance(with_cap, Line)
    assert isinstance(bad, Line)
    assert without.time == NOW
    assert with_cap.time == pytest.approx(expected)
    assert bad.time == NOW


def test_invite_is_an_info_line() -> None:
    session = registered(OUR_ISUPPORT)
    [line] = feed(session, ":doe!doe@h INVITE john :#secret")
    assert isinstance(line, Line)
    assert line.kind is LineKind.INFO
    assert "/join #secret" in line.text


def test_whois_reply_is_readable() -> None:
    session = registered(OUR_ISUPPORT)
    [line] = feed(session, ":easychat.local 311 john doe ~doe example.org * :Jane Doe")
    assert isinstance(line, Line)
    assert line.text == "doe is ~doe@example.org (Jane Doe)"


@pytest.mark.parametrize(
    "line",
    [
        ":doe!d@h PRIVMSG",
        ":doe!d@h JOIN",
        ":doe!d@h KICK #lobby",
        "PART #lobby",
        "NICK x",
        ":doe!d@h MODE #lobby",
        ":x CAP",
        ":x 001",
        ":x 353 john",
        ":x 005",
        "@time=0001-01-01T00:00:00+05:00 :doe!d@h PRIVMSG #lobby :old",
    ],
)
def test_malformed_server_lines_do_not_raise(line: str) -> None:
    session = in_lobby("john", "doe")
    session.caps.add("server-time")
    feed(session, line)


# -- say ---------------------------------------------------------------------


def test_say_short_text_with_local_echo() -> None:
    session = in_lobby("john")
    messages, events = session.say("#LOBBY", "hello")
    assert messages == [Message("PRIVMSG", ("#LOBBY", "hello"))]
    assert events == [Line("#lobby", LineKind.MESSAGE, "john", "hello", NOW, own=True)]


def test_say_without_local_echo_when_the_server_echoes() -> None:
    session = in_lobby("john")
    session.caps.add("echo-message")
    messages, events = session.say("#lobby", "hello")
    assert len(messages) == 1
    assert events == []


def relayed_bytes(session: Session, msg: Message) -> int:
    """The size of `msg` as the server relays it, with a worst-case prefix."""
    source = f"{session.nick}!{'u' * 18}@{'h' * 63}"
    return len(encode(Message(msg.command, msg.params, source)))


@pytest.mark.parametrize("action", [False, True])
def test_say_splits_long_text_under_the_relay_budget(action: bool) -> None:
    session = in_lobby("john")
    text = " ".join(f"word{i}é" for i in range(400))
    messages, events = session.say("#lobby", text, action=action)
    assert len(messages) > 1
    assert all(relayed_bytes(session, m) <= MAX_LINE_BYTES for m in messages)
    bodies = [m.params[1] for m in messages]
    if action:
        assert all(b.startswith("\x01ACTION ") and b.endswith("\x01") for b in bodies)
        bodies = [b[len("\x01ACTION ") : -1] for b in bodies]
    assert " ".join(bodies) == text
    assert [e.text for e in lines_of(events)] == bodies
    kind = LineKind.ACTION if action else LineKind.MESSAGE
    assert all(e.kind is kind for e in lines_of(events))


def test_say_fills_the_budget() -> None:
    session = in_lobby("john")
    budget = text_budget("john", "#lobby")
    messages, _ = session.say("#lobby", "x" * (budget + 1))
    assert [len(m.params[1]) for m in messages] == [budget, 1]


def test_say_to_a_nick_echoes_into_the_private_conversation() -> None:
    session = registered(OUR_ISUPPORT)
    messages, events = session.say("Doe", "psst")
    assert messages == [Message("PRIVMSG", ("Doe", "psst"))]
    assert [(e.conversation, e.own) for e in lines_of(events)] == [("Doe", True)]


@pytest.mark.parametrize(
    "line",
    [
        ":easychat.local 002 john :Your host is easychat.local",
        ":easychat.local 251 john :There are 2 users and 0 invisible on 1 server",
        ":irc.test.local 250 john :Highest connection count: 1",
        ":easychat.local 372 john :- Be kind",
        ":easychat.local 422 john :MOTD File is missing",
    ],
)
def test_status_numerics_go_to_the_server_window(line: str) -> None:
    """The burst after a (re)connect must not flood the room the user is reading."""
    session = registered(OUR_ISUPPORT)
    (event,) = feed(session, line)
    assert isinstance(event, Line)
    assert event.conversation == SERVER_CONVERSATION


def test_answers_to_the_user_go_where_the_user_is() -> None:
    session = registered(OUR_ISUPPORT)
    (event,) = feed(session, ":easychat.local 401 john nobody :No such nick/channel")
    assert isinstance(event, Line)
    assert event.conversation is None
    assert event.kind is LineKind.ERROR


def test_cap_ls_requests_away_notify() -> None:
    """Away marks in the member list follow away-notify when the server offers it."""
    session = new_session()
    feed(session, ":irc.example.net CAP * LS :away-notify server-time")
    assert session.take_outgoing() == [Message("CAP", ("REQ", "away-notify server-time"))]
