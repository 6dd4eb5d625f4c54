"""Chat-core tests for HELP and HELPOP: a topic for every command (no sockets)."""

from __future__ import annotations

import pytest

from easychat.chat.commands import COMMANDS
from easychat.chat.handlers.help import HELP_LINE_BYTES, HELP_TOPICS, INDEX_HEAD
from easychat.proto.message import Message
from easychat.proto.numerics import ERR_HELPNOTFOUND, RPL_ENDOFHELP, RPL_HELPSTART, RPL_HELPTXT
from tests.chatcore_harness import CoreDriver, commands, only
from tests.nolimits import unlimited


@pytest.fixture
def drv() -> CoreDriver:
    """A core with no autojoin room."""
    return CoreDriver(unlimited(autojoin=()))  # no flood control: many HELPs in a row


def assert_section(got: list[Message], subject: str) -> None:
    """`got` is one help section for `subject`: 704, any 705s, then 706."""
    cmds = commands(got)
    assert cmds[0] == RPL_HELPSTART
    assert cmds[-1] == RPL_ENDOFHELP
    assert set(cmds[1:-1]) <= {RPL_HELPTXT}
    assert all(m.params[:2] == ("Alice", subject) and len(m.params) == 3 for m in got)
    assert got[-1].params[2] == "End of /HELP"


def test_every_command_has_a_topic() -> None:
    """Every command the server has, HELP and HELPOP too, has help."""
    assert set(COMMANDS) | {"HELP", "HELPOP"} <= set(HELP_TOPICS)


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - {"HELPOP"}))  # HELPOP is HELP
def test_help_on_a_command_is_704_705_706(drv: CoreDriver, name: str) -> None:
    """RPL_HELPSTART "Indicates the start of a reply to a HELP command": the
    topic's first line (its syntax) in 704, the rest in 705, then 706, each
    `<client> <subject> :<text>`."""
    alice = drv.register("Alice")
    got = drv.send(alice, f"HELP {name}")
    assert_section(got, name)
    assert tuple(m.params[2] for m in got[:-1]) == HELP_TOPICS[name]
    assert name in got[0].params[2]  # the syntax line names the command


@pytest.mark.parametrize("name", ["HELP", "HELPOP"])
def test_help_on_help_itself(drv: CoreDriver, name: str) -> None:
    """HELP and HELPOP have help of their own, and HELPOP answers like HELP."""
    alice = drv.register("Alice")
    got = drv.send(alice, f"HELPOP {name}")
    assert_section(got, name)
    assert got[0].params[2] == "HELP [<subject>]"


def test_help_without_subject_lists_every_command(drv: CoreDriver) -> None:
    """Without a subject the subject is `*` and the text is the index: a first
    line, then the command names, several to a line."""
    alice = drv.register("Alice")
    got = drv.send(alice, "HELP")
    assert_section(got, "*")
    assert got[0].params[2] == INDEX_HEAD
    listed = [name for m in got[1:-1] for name in m.params[2].split()]
    assert sorted(listed) == listed
    assert set(listed) == set(HELP_TOPICS)
    assert set(COMMANDS) <= set(listed)
    assert len(got[1:-1]) < len(listed)  # several names to a line
    assert drv.send(alice, "HELPOP") == got


def test_empty_subject_is_the_index(drv: CoreDriver) -> None:
    """`HELP :` asks for no subject in particular: the index."""
    alice = drv.register("Alice")
    assert drv.send(alice, "HELP :")[0].params[1:] == ("*", INDEX_HEAD)


def test_unknown_subject_is_524(drv: CoreDriver) -> None:
    """ERR_HELPNOTFOUND: "<client> <subject> :No help available on this topic",
    and "The <subject> MUST be the one requested by the client, but may be
    casefolded"; here it is upper-cased."""
    alice = drv.register("Alice")
    got = drv.send(alice, "HELP frobnicate")
    assert only(got, ERR_HELPNOTFOUND).params == (
        "Alice",
        "FROBNICATE",
        "No help available on this topic",
    )
    assert commands(got) == [ERR_HELPNOTFOUND]


def test_unsendable_subject_is_star(drv: CoreDriver) -> None:
    """ "... unless it would be an invalid parameter, in which case it MUST be
    `*`": a subject with a space, or too long to echo in 512 bytes."""
    alice = drv.register("Alice")
    got = drv.send(alice, "HELP :no such thing")
    assert only(got, ERR_HELPNOTFOUND).params[1] == "*"
    got = drv.send(alice, "HELP " + "x" * 400)
    assert only(got, ERR_HELPNOTFOUND).params[1] == "*"


@pytest.mark.parametrize("typed", ["monitor", "Monitor", "MONITOR"])
def test_subject_is_case_insensitive(drv: CoreDriver, typed: str) -> None:
    """A subject in any case finds its topic, and is answered upper-cased."""
    alice = drv.register("Alice")
    got = drv.send(alice, f"HELP {typed}")
    assert_section(got, "MONITOR")
    assert got[0].params[2] == HELP_TOPICS["MONITOR"][0]


def test_help_needs_registration(drv: CoreDriver) -> None:
    """Like every command not allowed before registration: 451 until then."""
    conn = drv.open()
    assert commands(drv.send(conn, "HELP")) == ["451"]


@pytest.mark.parametrize("name", sorted(HELP_TOPICS))
def test_topic_lines_are_short_plain_ascii(name: str) -> None:
    """Every topic is its syntax and one to three lines, each plain ASCII of at
    most HELP_LINE_BYTES bytes (the harness also fails any reply over 512)."""
    lines = HELP_TOPICS[name]
    assert 2 <= len(lines) <= 4
    for line in lines:
        assert line.isascii()
        assert line.isprintable()
        assert line
        assert line == line.strip()
        assert len(line.encode()) <= HELP_LINE_BYTES


def test_index_lines_are_short(drv: CoreDriver) -> None:
    """The index lines fit HELP_LINE_BYTES too."""
    alice = drv.register("Alice")
    got = drv.send(alice, "HELP")
    assert all(len(m.params[2].encode()) <= HELP_LINE_BYTES for m in got)


def test_every_reply_fits_a_line(drv: CoreDriver) -> None:
    """With the longest nick, every HELP reply fits in 512 bytes, uncut."""
    conn = drv.register("N" * drv.config.nicklen)
    got = drv.send(conn, "HELP")
    assert all(len(m.to_bytes()) <= 512 for m in got)
    for name, lines in HELP_TOPICS.items():
        got = drv.send(conn, f"HELP {name}")
        assert all(len(m.to_bytes()) <= 512 for m in got)
        assert tuple(m.params[-1] for m in got) == (*lines, "End of /HELP")
