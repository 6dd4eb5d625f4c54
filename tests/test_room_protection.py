"""Room protection (+i, +k, +b, +m, +s, +n): every way around it we could think of is closed.

Complements test_core_channels.py, test_core_modes.py, test_socket_channels.py
and test_chathistory.py, which cover the direct attempts (JOIN without key or
invitation, PRIVMSG from outside, NAMES/LIST of a +s room, CHATHISTORY of a
+i/+k room from outside).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from easychat.chat.config import CoreConfig
from easychat.chat.core import ChatCore
from easychat.proto import numerics as n
from easychat.store.history import SQLiteHistory
from tests.chatcore_harness import CoreDriver, commands, only
from tests.ircclient import RunningServer
from tests.nolimits import unlimited


@pytest.fixture
def drv() -> CoreDriver:
    """A core without autojoin, so no room is shared by accident."""
    return CoreDriver(CoreConfig(autojoin=()))


def room(drv: CoreDriver, *modes: str) -> tuple[int, int]:
    """`owner` opens #room with `modes`; `eve` is registered outside. Inboxes drained."""
    owner = drv.register("owner", "#room")
    for mode in modes:
        drv.send(owner, f"MODE #room {mode}")
    eve = drv.register("eve")
    drv.drain()
    return owner, eve


# -- +k ----------------------------------------------------------------------------


def test_key_is_exact_and_per_room(drv: CoreDriver) -> None:
    """ "If the channel key is set ... the correct key MUST be given"; a key given
    for another room in the same JOIN, or in another case, does not open it."""
    _owner, eve = room(drv, "+k Sesame")
    drv.register("other", "#open")
    for line in (
        "JOIN #room sesame",
        "JOIN #room SESAME",
        "JOIN #open,#room Sesame",
        "JOIN #room :",
    ):
        assert n.ERR_BADCHANNELKEY in commands(drv.send(eve, line)), line
    assert drv.core.clients[eve] not in drv.core.channels["#room"].members
    assert commands(drv.send(eve, "JOIN #room Sesame"))[0] == "JOIN"


def test_rejoining_after_part_needs_the_key_again(drv: CoreDriver) -> None:
    _owner, eve = room(drv, "+k sesame")
    drv.send(eve, "JOIN #room sesame")
    drv.send(eve, "PART #room")
    assert commands(drv.send(eve, "JOIN #room")) == [n.ERR_BADCHANNELKEY]


def test_mode_query_does_not_leak_the_key_outside(drv: CoreDriver) -> None:
    _owner, eve = room(drv, "+k sesame")
    shown = only(drv.send(eve, "MODE #room"), n.RPL_CHANNELMODEIS)
    assert "sesame" not in shown.params


# -- +i ------------------------------------------------------------------------------


def test_an_invitation_is_used_up_by_joining(drv: CoreDriver) -> None:
    owner, eve = room(drv, "+i")
    drv.send(owner, "INVITE eve #room")
    drv.send(eve, "JOIN #room")
    drv.send(eve, "PART #room")
    assert commands(drv.send(eve, "JOIN #room")) == [n.ERR_INVITEONLYCHAN]


def test_an_invitation_does_not_pass_to_the_next_holder_of_the_nick(drv: CoreDriver) -> None:
    owner, eve = room(drv, "+i")
    drv.send(owner, "INVITE eve #room")
    drv.send(eve, "QUIT")
    impostor = drv.register("eve")
    assert commands(drv.send(impostor, "JOIN #room")) == [n.ERR_INVITEONLYCHAN]


def test_an_invitation_does_not_follow_a_nick_change(drv: CoreDriver) -> None:
    owner, eve = room(drv, "+i")
    drv.send(owner, "INVITE eve #room")
    drv.send(eve, "NICK eve2")
    mallory = drv.register("eve")
    assert commands(drv.send(mallory, "JOIN #room")) == [n.ERR_INVITEONLYCHAN]


def test_members_without_op_cannot_invite_into_plus_i(drv: CoreDriver) -> None:
    owner, eve = room(drv, "+i")
    friend = drv.register("friend")
    drv.send(owner, "INVITE friend #room")
    drv.send(friend, "JOIN #room")
    assert commands(drv.send(friend, "INVITE eve #room")) == [n.ERR_CHANOPRIVSNEEDED]
    assert commands(drv.send(eve, "JOIN #room")) == [n.ERR_INVITEONLYCHAN]


# -- +b ------------------------------------------------------------------------------


def test_a_host_ban_survives_a_nick_change(drv: CoreDriver) -> None:
    _owner, eve = room(drv, "+b *!eve@*")
    assert commands(drv.send(eve, "JOIN #room")) == [n.ERR_BANNEDFROMCHAN]
    drv.send(eve, "NICK someone_else")
    assert commands(drv.send(eve, "JOIN #room")) == [n.ERR_BANNEDFROMCHAN]


def test_a_banned_member_cannot_speak_in_any_form(drv: CoreDriver) -> None:
    owner, eve = room(drv)
    drv.send(eve, "JOIN #room")
    drv.send(owner, "MODE #room +b eve!*@*")
    drv.drain()
    assert commands(drv.send(eve, "PRIVMSG #room :still here")) == [n.ERR_CANNOTSENDTOCHAN]
    assert drv.send(eve, "NOTICE #room :psst") == []
    drv.send(eve, "NICK eve_")  # a nick ban is evaded by a new nick: use a host ban for that
    drv.send(owner, "MODE #room +b *!eve@*")
    drv.drain()
    assert commands(drv.send(eve, "PRIVMSG #room :and now?")) == [n.ERR_CANNOTSENDTOCHAN]
    assert not [m for m in drv.take(owner) if m.command in ("PRIVMSG", "NOTICE")]


# -- +m and +n -----------------------------------------------------------------------


def test_moderated_room_refuses_notice_and_tagmsg_from_unvoiced(drv: CoreDriver) -> None:
    owner, eve = room(drv, "+m")
    drv.send(eve, "CAP REQ message-tags")
    drv.send(eve, "JOIN #room")
    drv.drain()
    drv.send(eve, "NOTICE #room :quiet please")
    drv.send(eve, "@+typing=active TAGMSG #room")
    drv.send(eve, "PRIVMSG #room :\x01ACTION shouts\x01")
    assert [m.command for m in drv.take(owner)] == []
    drv.send(owner, "MODE #room +v eve")
    drv.drain()
    drv.send(eve, "PRIVMSG #room :now I may")
    assert only(drv.take(owner), "PRIVMSG").params[-1] == "now I may"


def test_outsider_cannot_send_tagmsg_into_plus_n(drv: CoreDriver) -> None:
    owner, eve = room(drv)
    drv.send(eve, "CAP REQ message-tags")
    drv.send(eve, "@+typing=active TAGMSG #room")
    assert drv.take(owner) == []


def test_minus_n_plus_m_still_needs_voice_from_outside(drv: CoreDriver) -> None:
    owner, eve = room(drv, "-n", "+m")
    assert commands(drv.send(eve, "PRIVMSG #room :hi")) == [n.ERR_CANNOTSENDTOCHAN]
    assert drv.take(owner) == []


# -- +s ------------------------------------------------------------------------------


def test_secret_room_is_absent_from_who_whois_mode_and_list(drv: CoreDriver) -> None:
    """ "A channel that is set to secret will not show up in responses to the
    LIST or NAMES command unless the client sending the command is joined to the
    channel"; nor in WHO, WHOIS or MODE."""
    _owner, eve = room(drv, "+s")
    assert commands(drv.send(eve, "WHO #room")) == [n.RPL_ENDOFWHO]
    whois = drv.send(eve, "WHOIS owner")
    assert n.RPL_WHOISCHANNELS not in commands(whois)
    assert commands(drv.send(eve, "MODE #room")) == [n.ERR_NOSUCHCHANNEL]
    assert commands(drv.send(eve, "LIST #room")) == [n.RPL_LISTSTART, n.RPL_LISTEND]
    names = drv.send(eve, "NAMES #room")
    assert n.RPL_NAMREPLY not in commands(names)
    who_all = drv.send(eve, "WHO *")
    assert all("#room" not in m.params for m in who_all)


def test_secret_room_members_see_it(drv: CoreDriver) -> None:
    """The same queries work for members (so the hiding test can fail)."""
    owner, _eve = room(drv, "+s")
    assert n.RPL_WHOREPLY in commands(drv.send(owner, "WHO #room"))
    assert n.RPL_LIST in commands(drv.send(owner, "LIST #room"))


# -- history from outside -------------------------------------------------------------


@pytest.fixture
def hist(tmp_path: Path) -> CoreDriver:
    """A driver whose core keeps history in a SQLite file."""
    driver = CoreDriver(CoreConfig(autojoin=()))
    driver.core = ChatCore(
        driver.config, clock=driver.clock, history=SQLiteHistory(tmp_path / "h.sqlite3")
    )
    return driver


def history_of(drv: CoreDriver, conn: int, line: str) -> list[str]:
    """The PRIVMSG texts a CHATHISTORY request returns, or ['FAIL <code>']."""
    drv.take(conn)  # only the answer, not what arrived live before
    out = drv.send(conn, line)
    fails = [m for m in out if m.command == "FAIL"]
    if fails:
        return [f"FAIL {fails[0].params[1]}"]
    return [m.params[-1] for m in out if m.command == "PRIVMSG"]


@pytest.mark.parametrize("modes", [(), ("+s",), ("+m",), ("+b eve!*@*",)])
def test_a_kicked_member_cannot_read_on(hist: CoreDriver, modes: tuple[str, ...]) -> None:
    """History is for current members: after KICK, no more reading, whatever the modes."""
    owner = hist.register("owner", "#room")
    eve = hist.register("eve", "#room")
    hist.send(eve, "CAP REQ :draft/chathistory batch message-tags server-time")
    hist.send(owner, "PRIVMSG #room :before")
    assert history_of(hist, eve, "CHATHISTORY LATEST #room * 10") == ["before"]
    hist.send(owner, "KICK #room eve")
    for mode in modes:
        hist.send(owner, f"MODE #room {mode}")
    hist.send(owner, "PRIVMSG #room :after")
    assert history_of(hist, eve, "CHATHISTORY LATEST #room * 10") == ["FAIL INVALID_TARGET"]
    assert history_of(
        hist, eve, "CHATHISTORY AROUND #room timestamp=2000-01-01T00:00:00.000Z 10"
    ) == ["FAIL INVALID_TARGET"]


def test_targets_does_not_list_rooms_one_has_left(hist: CoreDriver) -> None:
    owner = hist.register("owner", "#room")
    eve = hist.register("eve", "#room")
    hist.send(eve, "CAP REQ :draft/chathistory batch message-tags server-time")
    hist.send(owner, "PRIVMSG #room :hello")
    window = "timestamp=2000-01-01T00:00:00.000Z timestamp=2100-01-01T00:00:00.000Z 10"

    def targets() -> list[str]:
        hist.take(eve)
        out = hist.send(eve, f"CHATHISTORY TARGETS {window}")
        return [m.params[1] for m in out if m.command == "CHATHISTORY"]

    assert targets() == ["#room"]
    hist.send(eve, "PART #room")
    assert targets() == []


def test_over_a_socket_outsider_gets_nothing_of_a_locked_room(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    server = make_server(CoreConfig(autojoin=()), history=SQLiteHistory(tmp_path / "s.sqlite3"))
    owner = server.client()
    owner.register("owner", autojoined=False)
    owner.send("JOIN #vault")
    owner.expect("366")
    owner.send("MODE #vault +siknm key")
    owner.expect("MODE")
    owner.send("PRIVMSG #vault :secret plans")
    eve = server.client()
    eve.register("eve", autojoined=False)
    eve.send("CAP REQ :draft/chathistory batch")
    eve.expect("CAP")
    for line in (
        "JOIN #vault",
        "JOIN #vault wrong",
        "PRIVMSG #vault :hi",
        "NAMES #vault",
        "WHO #vault",
        "TOPIC #vault",
        "CHATHISTORY LATEST #vault * 10",
    ):
        eve.send(line)
    eve.send("PING done")
    seen = eve.until("PONG")
    assert not [m for m in seen if "secret plans" in m.params]
    assert not [m for m in seen if m.command in ("353", "352", "332", "JOIN")]
    owner.close()
    eve.close()


def test_plus_c_refuses_ctcp_but_not_action(drv: CoreDriver) -> None:
    """+C (no CTCP, as ergo and InspIRCd have it): a CTCP to the room is 404
    and reaches nobody; ACTION (/me) and plain text still pass."""
    owner, eve = room(drv, "+C")
    drv.send(eve, "JOIN #room")
    drv.drain()
    assert commands(drv.send(eve, "PRIVMSG #room :\x01VERSION\x01")) == [n.ERR_CANNOTSENDTOCHAN]
    drv.send(eve, "NOTICE #room :\x01PING 1\x01")
    assert drv.take(owner) == []
    drv.send(eve, "PRIVMSG #room :\x01ACTION waves\x01")
    drv.send(eve, "PRIVMSG #room :hello")
    texts = [m.params[-1] for m in drv.take(owner) if m.command == "PRIVMSG"]
    assert texts == ["\x01ACTION waves\x01", "hello"]
    assert only(drv.send(owner, "MODE #room"), n.RPL_CHANNELMODEIS).params[2].startswith("+C")


def test_ban_and_invite_exceptions() -> None:
    """Modern IRC's EXCEPTS and INVEX: a ban exception (+e) lets a matching
    client join and speak despite a ban; an invite exception (+I) lets it into
    a +i room without an invitation. The lists answer 348/349 and 346/347."""
    drv = CoreDriver(unlimited(autojoin=()))
    owner, eve = room(drv, "+b *!*@*", "+e eve!*@*")
    assert "JOIN" in commands(drv.send(eve, "JOIN #room"))
    drv.send(eve, "PRIVMSG #room :let in by +e")
    assert only(drv.take(owner), "PRIVMSG").params[-1] == "let in by +e"
    listed = drv.send(owner, "MODE #room e")
    assert commands(listed) == [n.RPL_EXCEPTLIST, n.RPL_ENDOFEXCEPTLIST]
    assert listed[0].params[2] == "eve!*@*"
    carol = drv.register("carol")
    assert commands(drv.send(carol, "JOIN #room")) == [n.ERR_BANNEDFROMCHAN]

    drv.send(owner, "MODE #room -b *!*@*")
    drv.send(owner, "MODE #room +iI carol!*@*")
    drv.drain()
    assert "JOIN" in commands(drv.send(carol, "JOIN #room"))
    dave = drv.register("dave")
    assert commands(drv.send(dave, "JOIN #room")) == [n.ERR_INVITEONLYCHAN]
    listed = drv.send(owner, "MODE #room I")
    assert commands(listed) == [n.RPL_INVITELIST, n.RPL_ENDOFINVITELIST]
    assert listed[0].params[2] == "carol!*@*"


def test_mute_extban_lets_in_but_silences() -> None:
    """Modern IRC's EXTBAN: "the server supports extended ban masks", here one
    type, `m` with no prefix (`EXTBAN=,m`), as InspIRCd has it: `+b m:<mask>`
    lets a matching client join and read the room, and refuses what it says
    (404) unless it is voiced; `+e m:<mask>` excepts from the mute, and a
    plain exception does not."""
    drv = CoreDriver(unlimited(autojoin=()))
    owner, eve = room(drv, "+b m:eve")
    assert only(drv.send(owner, "MODE #room b"), n.RPL_BANLIST).params[2] == "m:eve!*@*"
    assert "JOIN" in commands(drv.send(eve, "JOIN #room"))
    refused = only(drv.send(eve, "PRIVMSG #room :hello?"), n.ERR_CANNOTSENDTOCHAN)
    assert "muted" in refused.params[-1]
    drv.send(owner, "PRIVMSG #room :you can read this")
    assert only(drv.take(eve), "PRIVMSG").params[-1] == "you can read this"
    assert "PRIVMSG" not in commands(drv.take(owner))

    drv.send(owner, "MODE #room +e eve!*@*")
    drv.drain()
    assert commands(drv.send(eve, "PRIVMSG #room :still?")) == [n.ERR_CANNOTSENDTOCHAN]
    drv.send(owner, "MODE #room +e m:eve")
    drv.drain()
    drv.send(eve, "PRIVMSG #room :excepted")
    assert only(drv.take(owner), "PRIVMSG").params[-1] == "excepted"

    drv.send(owner, "MODE #room -e m:eve!*@*")
    drv.send(owner, "MODE #room +v eve")
    drv.drain()
    drv.send(eve, "PRIVMSG #room :voiced")
    assert only(drv.take(owner), "PRIVMSG").params[-1] == "voiced"


def test_extban_is_advertised() -> None:
    """`EXTBAN=<prefix>,<types>`: no prefix, the mute type `m`."""
    drv = CoreDriver()
    conn = drv.open()
    drv.send(conn, "NICK zed")
    tokens = " ".join(
        " ".join(m.params) for m in drv.send(conn, "USER z 0 * :Z") if m.command == "005"
    )
    assert "EXTBAN=,m" in tokens.split()
