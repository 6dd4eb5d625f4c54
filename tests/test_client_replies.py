"""Tests for how the client Session words the server's replies (WHOIS, away, nicks, accounts)."""

from __future__ import annotations

from datetime import datetime

from easychat.client.events import Event, Lag, Line, LineKind
from easychat.client.session.session import Session
from easychat.proto.message import parse

WELCOME = ":easychat.local 001 john :Welcome to Easy Chat! You are customer number 7"


def feed(session: Session, *lines: str) -> list[Event]:
    """Feeds literal server lines; returns all the events, in order."""
    events: list[Event] = []
    for line in lines:
        events += session.feed(parse(line, strict=False))
    return events


def texts(events: list[Event]) -> list[str]:
    return [e.text for e in events if isinstance(e, Line)]


def registered(nick: str = "john") -> Session:
    session = Session(nick)
    session.start()
    feed(session, WELCOME.replace(" john ", f" {nick} ", 1))
    return session


def test_whois_idle_and_signon_in_words() -> None:
    """Item 20: `317 John 6 1796287336 :seconds idle, signon time` reads as words."""
    session = registered()
    signon = 1796287336
    local = datetime.fromtimestamp(signon).strftime("%Y-%m-%d %H:%M")
    events = feed(
        session,
        ":easychat.local 317 john John 6 1796287336 :seconds idle, signon time",
        ":easychat.local 317 john John 3725 1796287336 :seconds idle, signon time",
    )
    assert texts(events) == [
        f"John: idle 6 s, signed on {local} (local time)",
        f"John: idle 1 h 2 min, signed on {local} (local time)",
    ]


def test_whois_other_replies_in_words() -> None:
    """Item 20: away, server, rooms, operator, account and the end read as sentences."""
    session = registered()
    events = feed(
        session,
        ":easychat.local 301 john Doe :lunch",
        ":easychat.local 312 john Doe easychat.local :EasyChat",
        ":easychat.local 319 john Doe :#lobby @#room",
        ":easychat.local 313 john Doe :is an IRC operator",
        ":easychat.local 330 john Doe doe :is logged in as",
        ":easychat.local 318 john Doe :End of /WHOIS list",
    )
    assert texts(events) == [
        "Doe is away: lunch",
        "Doe is on easychat.local (EasyChat)",
        "Doe is in #lobby @#room",
        "Doe is a server operator",
        "Doe is logged in as doe",
        "End of WHOIS for Doe",
    ]
    assert all(e.kind is LineKind.INFO for e in events if isinstance(e, Line))


def test_account_created_and_logged_in_are_said() -> None:
    """Item 25: REGISTER SUCCESS and 900 become lines the chat shows."""
    session = Session("Alice", password="long enough pw", create_account=True)
    session.start()
    events = feed(
        session,
        ":easychat.local CAP * LS :draft/account-registration sasl",
        ":easychat.local REGISTER SUCCESS Alice :Account created",
        ":easychat.local 900 * Alice!alice@127.0.0.1 Alice :You are now logged in as Alice",
    )
    assert texts(events) == ["Account Alice created", "You are logged in as Alice"]
    assert session.account == "Alice"


def test_nick_shortened_at_registration_is_reported() -> None:
    """Item 24: a server that truncates the nick to its NICKLEN says so through the client."""
    session = Session("Bartholomew_Longname")
    session.start()
    events = feed(session, ":irc.example.net 001 Bartholomew :Welcome")
    assert session.nick == "Bartholomew"
    assert texts(events) == ["The server shortened your nick: your nick is now Bartholomew"]


def test_nick_shortened_by_nick_command_is_reported() -> None:
    """Item 24: /nick with a nick too long for the server reports the one it gave."""
    session = registered()
    assert [m.params for m in session.change_nick("Johnathan_Longname")] == [
        ("Johnathan_Longname",)
    ]
    events = feed(session, ":john!john@host NICK Johnathan")
    assert texts(events) == [
        "You are now known as Johnathan",
        "The server shortened your nick: your nick is now Johnathan",
    ]
    # A nick change nobody asked for (a services rename) reads as one, nothing more.
    assert texts(feed(session, ":Johnathan!john@host NICK Guest42")) == [
        "You are now known as Guest42"
    ]


def in_room(session: Session, *names: str) -> None:
    feed(
        session,
        ":john!john@h JOIN #lobby",
        f":easychat.local 353 john = #lobby :{' '.join(names)}",
        ":easychat.local 366 john #lobby :End of /NAMES list",
    )


def away_of(session: Session) -> dict[str, bool]:
    return {m.nick: m.away for m in session.members("#lobby")}


def test_who_flags_mark_away_members_silently() -> None:
    """Item 23: WHO's H/G flags mark who is away; the client's own WHO shows no lines."""
    session = registered()
    in_room(session, "john", "Doe", "Roe")
    assert [m.params for m in session.who("#lobby")] == [("#lobby",)]
    events = feed(
        session,
        ":easychat.local 352 john #lobby doe h easychat.local Doe G :0 Doe",
        ":easychat.local 352 john #lobby roe h easychat.local Roe H@ :0 Roe",
        ":easychat.local 315 john #lobby :End of WHO list",
    )
    assert texts(events) == []
    assert away_of(session) == {"john": False, "Doe": True, "Roe": False}


def test_away_notify_and_away_replies_update_members() -> None:
    """Item 23: away-notify's AWAY, a 301 and our own 305/306 keep the marks current."""
    session = registered()
    in_room(session, "john", "Doe", "Roe")
    feed(session, ":Roe!roe@h AWAY :coffee")
    assert away_of(session)["Roe"] is True
    feed(session, ":Roe!roe@h AWAY")
    assert away_of(session)["Roe"] is False
    feed(session, ":easychat.local 301 john Doe :lunch")
    assert away_of(session)["Doe"] is True
    feed(session, ":easychat.local 306 john :You have been marked as being away")
    assert away_of(session)["john"] is True
    feed(session, ":easychat.local 305 john :You are no longer marked as being away")
    assert away_of(session)["john"] is False


def test_lag_is_measured_by_a_ping_of_our_own() -> None:
    """Item 23: a PING with our token and its PONG give the lag; one ping at a time."""
    now = [100.0]
    session = registered()
    session.lag_clock = lambda: now[0]
    (ping,) = session.lag_ping()
    assert ping.command == "PING"
    assert session.lag_ping() == []  # still waiting for the answer
    now[0] = 100.25
    assert session.lag_waiting() == 0.25
    events = feed(session, f":easychat.local PONG easychat.local :{ping.params[0]}")
    assert events == [Lag(0.25)]
    assert session.lag_waiting() is None
    assert feed(session, ":easychat.local PONG easychat.local :someone-else") == []
