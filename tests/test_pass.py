"""Server password (`--password`, PASS): checked at registration, in constant time.

Modern IRC, PASS: "If the password supplied does not match the password
expected by the server, then the server SHOULD send ERR_PASSWDMISMATCH (464)
and MAY then close the connection with ERROR."
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from easychat.chat.config import CoreConfig
from easychat.chat.identity import accounts
from easychat.cli.commands import build_parser
from easychat.cli.serve import SERVE_OPTIONS, core_config
from easychat.cli.settings import SettingsError, resolve
from easychat.proto import numerics as n
from tests.chatcore_harness import CoreDriver, commands
from tests.ircclient import RunningServer

SECRET = "correct horse"


@pytest.fixture
def drv() -> CoreDriver:
    """A core that wants the password SECRET."""
    return CoreDriver(CoreConfig(password=SECRET))


def register(drv: CoreDriver, *lines: str) -> tuple[int, list[str]]:
    """Sends `lines` then NICK/USER; returns the connection and the replies' commands."""
    conn = drv.open()
    for line in lines:
        drv.send(conn, line)
    drv.send(conn, "NICK alice")
    return conn, commands(drv.send(conn, "USER alice 0 * :Alice"))


def test_right_password_registers(drv: CoreDriver) -> None:
    conn, replies = register(drv, f"PASS :{SECRET}")
    assert n.RPL_WELCOME in replies
    assert conn not in drv.closed


def test_wrong_password_gets_464_and_error_then_close(drv: CoreDriver) -> None:
    conn, replies = register(drv, "PASS wrong")
    assert replies == [n.ERR_PASSWDMISMATCH, "ERROR"]
    assert conn in drv.closed
    assert drv.core.find_client("alice") is None
    assert "alice" not in drv.core.nicks


def test_missing_password_gets_464(drv: CoreDriver) -> None:
    conn, replies = register(drv)
    assert replies == [n.ERR_PASSWDMISMATCH, "ERROR"]
    assert conn in drv.closed


def test_prefix_of_the_password_is_not_enough(drv: CoreDriver) -> None:
    _, replies = register(drv, f"PASS {SECRET[:-1]}")
    assert n.ERR_PASSWDMISMATCH in replies
    _, replies = register(drv, f"PASS :{SECRET}x")
    assert n.ERR_PASSWDMISMATCH in replies


def test_the_last_pass_counts(drv: CoreDriver) -> None:
    _, replies = register(drv, "PASS wrong", f"PASS :{SECRET}")
    assert n.RPL_WELCOME in replies


def test_pass_after_registration_is_462(drv: CoreDriver) -> None:
    """Modern IRC: "If the client sends a PASS command after registration, the server MUST
    reject it with ERR_ALREADYREGISTERED"."""
    conn, _ = register(drv, f"PASS :{SECRET}")
    assert commands(drv.send(conn, "PASS again")) == [n.ERR_ALREADYREGISTERED]


def test_pass_without_parameter_is_461(drv: CoreDriver) -> None:
    conn = drv.open()
    assert commands(drv.send(conn, "PASS")) == [n.ERR_NEEDMOREPARAMS]


def test_checked_after_cap_end_not_before(drv: CoreDriver) -> None:
    conn = drv.open()
    drv.send(conn, "CAP LS 302")
    drv.send(conn, "NICK alice")
    assert commands(drv.send(conn, "USER alice 0 * :Alice")) == []
    assert commands(drv.send(conn, "CAP END")) == [n.ERR_PASSWDMISMATCH, "ERROR"]


def test_no_password_configured_ignores_pass() -> None:
    drv = CoreDriver()
    _, replies = register(drv, "PASS anything")
    assert n.RPL_WELCOME in replies


def test_compare_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison goes through hmac.compare_digest, missing password included."""
    calls: list[tuple[bytes, bytes]] = []

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return a == b

    monkeypatch.setattr(accounts.hmac, "compare_digest", spy)
    assert accounts.password_matches("pw", "pw")
    assert not accounts.password_matches("pw", None)
    assert calls == [(b"pw", b"pw"), (b"pw", b"")]


def settings_for(argv: list[str], environ: dict[str, str] | None = None) -> dict[str, object]:
    args = build_parser().parse_args(["serve", *argv])
    return resolve(args, SERVE_OPTIONS, environ or {})


def test_password_option_reaches_the_core() -> None:
    assert core_config(settings_for([])).password is None
    assert core_config(settings_for(["--password", "s3"])).password == "s3"
    assert core_config(settings_for([], {"EASYCHAT_PASSWORD": "env"})).password == "env"
    with pytest.raises(SettingsError, match="--password"):
        settings_for(["--password", ""])


def test_over_a_socket(make_server: Callable[..., RunningServer]) -> None:
    server = make_server(CoreConfig(password=SECRET))
    good = server.client()
    good.send(f"PASS :{SECRET}")
    good.register("alice")
    bad = server.client()
    bad.send("PASS nope")
    bad.send("NICK mallory")
    bad.send("USER m 0 * :M")
    seen = bad.expect_closed()
    assert [m.command for m in seen] == [n.ERR_PASSWDMISMATCH, "ERROR"]
    good.send("PING still-here")
    assert good.expect("PONG").params[-1] == "still-here"
    good.close()
    bad.close()
