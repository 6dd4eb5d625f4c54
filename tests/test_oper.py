"""Server operators: --oper, OPER, KILL, KLINE/UNKLINE, WALLOPS, room-mode overrides, logging."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from easychat.chat.config import CoreConfig
from easychat.chat.core import ChatCore
from easychat.chat.identity.passwords import hash_password, verify_password
from easychat.chat.protection import access
from easychat.cli import main
from easychat.cli.commands import build_parser
from easychat.cli.serve import SERVE_OPTIONS, core_config
from easychat.cli.settings import SettingsError, resolve
from easychat.proto import numerics as n
from easychat.store.accounts import SQLiteAccounts
from tests.chatcore_harness import CoreDriver, FakeClock, commands, only
from tests.ircclient import RunningServer

OPER_PASSWORD = "operator secret"
OPER_HASH = hash_password(OPER_PASSWORD)
CONFIG = CoreConfig(oper=(("root", OPER_HASH),))


@pytest.fixture
def drv() -> CoreDriver:
    return CoreDriver(CONFIG)


def make_oper(drv: CoreDriver, nick: str = "admin", *rooms: str) -> int:
    conn = drv.register(nick, *rooms)
    reply = drv.send(conn, f"OPER root :{OPER_PASSWORD}")
    assert n.RPL_YOUREOPER in commands(reply)
    return conn


def test_oper_success_is_381_and_user_mode_o(drv: CoreDriver) -> None:
    """Modern IRC OPER: on success RPL_YOUREOPER, and the user mode +o."""
    conn = drv.register("admin")
    reply = drv.send(conn, f"OPER root :{OPER_PASSWORD}")
    assert (reply[0].command, reply[0].params) == ("MODE", ("admin", "+o"))
    assert reply[1].command == n.RPL_YOUREOPER
    assert drv.send(conn, "MODE admin")[0].params[-1] == "+o"


def test_oper_unknown_name_is_491_wrong_password_464(drv: CoreDriver) -> None:
    """ "If the client is not connecting from a valid host for the given name, the
    server replies with an ERR_NOOPERHOST ... If the supplied password is incorrect,
    the server replies with an ERR_PASSWDMISMATCH"."""
    conn = drv.register("admin")
    assert commands(drv.send(conn, "OPER nobody x")) == [n.ERR_NOOPERHOST]
    assert commands(drv.send(conn, "OPER root wrong")) == [n.ERR_PASSWDMISMATCH]
    assert "o" not in drv.core.clients[conn].modes


def test_oper_failures_are_throttled(drv: CoreDriver) -> None:
    conn = drv.register("admin")
    for _ in range(access.LOGIN_ATTEMPTS):
        drv.send(conn, "OPER root wrong")
    reply = drv.send(conn, f"OPER root :{OPER_PASSWORD}")
    assert commands(reply) == [n.ERR_PASSWDMISMATCH]
    assert "try again" in reply[0].params[-1]
    drv.clock.advance(access.LOGIN_WINDOW)
    assert n.RPL_YOUREOPER in commands(drv.send(conn, f"OPER root :{OPER_PASSWORD}"))


@pytest.mark.parametrize(
    "line", ["KILL bob :bye", "KLINE 10.0.0.1 0 :x", "UNKLINE x", "WALLOPS hi"]
)
def test_commands_need_oper_481(drv: CoreDriver, line: str) -> None:
    """ERR_NOPRIVILEGES: "Any command requiring operator privileges to operate
    MUST return this error to indicate the attempt was unsuccessful." """
    drv.register("bob")
    conn = drv.register("eve")
    assert commands(drv.send(conn, line)) == [n.ERR_NOPRIVILEGES]


def test_kill_disconnects_and_tells_the_room(
    drv: CoreDriver, caplog: pytest.LogCaptureFixture
) -> None:
    admin = make_oper(drv)
    bob = drv.register("bob")
    watcher = drv.register("carol")
    with caplog.at_level(logging.WARNING, logger="easychat.oper"):
        drv.send(admin, "KILL bob :spamming")
    assert bob in drv.closed
    error = only(drv.take(bob), "ERROR")
    assert "Killed (admin (spamming))" in error.params[0]
    quit_msg = only(drv.take(watcher), "QUIT")
    assert quit_msg.params[0] == "Killed (admin (spamming))"
    assert "KILL bob!bob@127.0.0.1 (spamming)" in caplog.text
    assert commands(drv.send(admin, "KILL nobody")) == [n.ERR_NOSUCHNICK]


def test_kline_by_ip_kills_and_refuses_then_expires(drv: CoreDriver) -> None:
    admin = make_oper(drv)
    victim_conn = drv.open("10.0.0.7")
    drv.send(victim_conn, "NICK spammer")
    drv.send(victim_conn, "USER s 0 * :S")
    drv.send(admin, "KLINE 10.0.0.7 1h :go away")
    assert victim_conn in drv.closed
    again = drv.open("10.0.0.7")
    drv.send(again, "NICK spammer2")
    reply = drv.send(again, "USER s 0 * :S")
    assert commands(reply) == [n.ERR_YOUREBANNEDCREEP, "ERROR"]
    assert "go away" in reply[1].params[0]
    assert again in drv.closed
    other_ip = drv.open("10.0.0.8")
    drv.send(other_ip, "NICK fine")
    assert n.RPL_WELCOME in commands(drv.send(other_ip, "USER f 0 * :F"))
    drv.clock.advance(3601)
    late = drv.open("10.0.0.7")
    drv.send(late, "NICK back")
    assert n.RPL_WELCOME in commands(drv.send(late, "USER b 0 * :B"))


def restarted(path: Path, clock: FakeClock | None = None) -> CoreDriver:
    """A fresh core (a server restart) whose K-lines are in the SQLite file `path`."""
    driver = CoreDriver(CONFIG)
    if clock is not None:
        driver.clock = clock
    driver.core = ChatCore(CONFIG, clock=driver.clock, klines=SQLiteAccounts.open(path))
    return driver


def refused(drv: CoreDriver, host: str, user: str = "u") -> bool:
    """Whether a new connection from `host` is refused with 465 when it registers."""
    conn = drv.open(host)
    drv.send(conn, "NICK someone")
    return commands(drv.send(conn, f"USER {user} 0 * :S"))[:1] == [n.ERR_YOUREBANNEDCREEP]


def test_klines_outlive_a_restart_until_unkline_or_expiry(tmp_path: Path) -> None:
    """K-lines are stored: a restarted server still refuses what they match; UNKLINE and
    expiry remove them from the store too, so they do not come back after the next one."""
    path = tmp_path / "server.sqlite3"
    first = restarted(path)
    admin = make_oper(first)
    first.send(admin, "KLINE 10.0.0.7 0 :for good")
    first.send(admin, "KLINE 10.0.0.8 1h :for an hour")
    first.send(admin, "KLINE 10.0.0.9 0 :lifted soon")
    second = restarted(path, first.clock)
    assert refused(second, "10.0.0.7")
    assert refused(second, "10.0.0.8")
    assert refused(second, "10.0.0.9")
    assert not refused(second, "10.0.0.10")
    admin = make_oper(second)
    second.send(admin, "UNKLINE 10.0.0.9")
    second.clock.advance(3601)
    assert not refused(second, "10.0.0.8")  # expired: dropped from memory and store
    third = restarted(path, second.clock)
    assert refused(third, "10.0.0.7")
    assert not refused(third, "10.0.0.8")
    assert not refused(third, "10.0.0.9")
    assert [k.mask for k in SQLiteAccounts.open(path).load_klines()] == ["*!*@10.0.0.7"]


def test_kline_by_mask_and_unkline(drv: CoreDriver) -> None:
    admin = make_oper(drv)
    reply = drv.send(admin, "KLINE *!baduser@* 0 :no")
    assert "permanent" in only(reply, "NOTICE").params[-1]
    conn = drv.open()
    drv.send(conn, "NICK x")
    assert commands(drv.send(conn, "USER baduser 0 * :B")) == [n.ERR_YOUREBANNEDCREEP, "ERROR"]
    assert "removed" in only(drv.send(admin, "UNKLINE *!baduser@*"), "NOTICE").params[-1]
    assert "No K-line" in only(drv.send(admin, "UNKLINE *!baduser@*"), "NOTICE").params[-1]
    conn = drv.open()
    drv.send(conn, "NICK x")
    assert n.RPL_WELCOME in commands(drv.send(conn, "USER baduser 0 * :B"))


def test_kline_bad_duration_and_opers_are_spared(drv: CoreDriver) -> None:
    admin = make_oper(drv)
    assert commands(drv.send(admin, "KLINE 127.0.0.1 soon :x")) == [n.ERR_NEEDMOREPARAMS]
    drv.send(admin, "KLINE 127.0.0.1 10m :everyone local")
    assert admin not in drv.closed


def test_wallops_reaches_plus_w_users_only(drv: CoreDriver) -> None:
    """ "The WALLOPS command is used to send a message to all currently connected
    users who have set the 'w' user mode for themselves." """
    admin = make_oper(drv)
    reader = drv.register("reader")
    drv.send(reader, "MODE reader +w")
    other = drv.register("other")
    drv.drain()
    drv.send(admin, "WALLOPS :maintenance at noon")
    assert only(drv.take(reader), "WALLOPS").params == ("maintenance at noon",)
    assert drv.take(other) == []


def test_oper_overrides_room_modes_and_it_is_logged(
    drv: CoreDriver, caplog: pytest.LogCaptureFixture
) -> None:
    owner = drv.register("owner", "#room")
    victim = drv.register("victim", "#room")
    admin = make_oper(drv, "admin", "#room")
    drv.drain()
    with caplog.at_level(logging.WARNING, logger="easychat.oper"):
        reply = drv.send(admin, "MODE #room +m")
        assert only(reply, "MODE").params[:2] == ("#room", "+m")
        drv.send(admin, "TOPIC #room :set by an oper")
        assert drv.core.find_channel("#room").topic == "set by an oper"  # type: ignore[union-attr]
        drv.send(admin, "KICK #room victim :bye")
    assert victim not in drv.core.find_channel("#room").members  # type: ignore[union-attr]
    assert "override MODE +m on #room" in caplog.text
    assert "override TOPIC on #room" in caplog.text
    assert "override KICK on #room" in caplog.text
    assert owner not in drv.closed
    # A plain member still cannot.
    plain = drv.register("plain", "#room")
    assert commands(drv.send(plain, "MODE #room -m")) == [n.ERR_CHANOPRIVSNEEDED]


# -- settings and the helper command --------------------------------------------


def settings_for(argv: list[str], environ: dict[str, str] | None = None) -> dict[str, object]:
    args = build_parser().parse_args(["serve", *argv])
    return resolve(args, SERVE_OPTIONS, environ or {})


def test_oper_option_is_repeatable() -> None:
    cfg = core_config(settings_for(["--oper", f"root:{OPER_HASH}", "--oper", f"b:{OPER_HASH}"]))
    assert cfg.oper == (("root", OPER_HASH), ("b", OPER_HASH))
    with pytest.raises(SettingsError, match="NAME:PASSWORD_HASH"):
        settings_for(["--oper", "nohash"])
    with pytest.raises(SettingsError, match="hash-password"):
        settings_for(["--oper", "root:plaintext"])


def test_hash_password_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret pass\n"))
    assert main(["hash-password"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("scrypt$")
    assert verify_password("s3cret pass", printed)
    assert not verify_password("s3cret pass\n", printed)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert main(["hash-password"]) == 1


def test_kline_over_a_socket(make_server: Callable[..., RunningServer]) -> None:
    server = make_server(CONFIG)
    admin = server.client()
    admin.register("admin")
    admin.send(f"OPER root :{OPER_PASSWORD}")
    admin.expect(n.RPL_YOUREOPER)
    admin.send("KLINE *!banned@* 0 :not welcome")
    admin.expect("NOTICE")
    banned = server.client()
    banned.send("NICK b")
    banned.send("USER banned 0 * :B")
    seen = banned.expect_closed()
    assert [m.command for m in seen] == [n.ERR_YOUREBANNEDCREEP, "ERROR"]
    admin.send("PING alive")
    assert admin.expect("PONG").params[-1] == "alive"
    admin.close()
    banned.close()
