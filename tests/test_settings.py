"""Settings: a flag beats its EASYCHAT_* variable, which beats the TOML file."""

from __future__ import annotations

from pathlib import Path

import pytest

from easychat.cli import main
from easychat.cli.commands import build_parser
from easychat.cli.serve import SERVE_OPTIONS, core_config
from easychat.cli.settings import SettingsError, resolve


def settings_for(argv: list[str], environ: dict[str, str] | None = None) -> dict[str, object]:
    args = build_parser().parse_args(["serve", *argv])
    return resolve(args, SERVE_OPTIONS, environ or {})


def test_defaults() -> None:
    values = settings_for([])
    assert values["host"] == "0.0.0.0"
    assert values["port"] == 6667
    assert values["autojoin"] == "#lobby"
    assert values["max_clients"] == 1024


def test_every_option_has_a_variable_named_after_its_flag() -> None:
    names = {opt.name: opt.env for opt in SERVE_OPTIONS}
    assert names["port"] == "EASYCHAT_PORT"
    assert names["max-clients"] == "EASYCHAT_MAX_CLIENTS"
    assert names["registration-timeout"] == "EASYCHAT_REGISTRATION_TIMEOUT"


def test_precedence_flag_then_env_then_file_then_default(tmp_path: Path) -> None:
    toml = tmp_path / "easychat.toml"
    toml.write_text('port = 7000\nhost = "127.0.0.1"\nmax-clients = 5\nnetwork = "FromFile"\n')
    env = {"EASYCHAT_PORT": "7001", "EASYCHAT_HOST": "::1", "EASYCHAT_CONFIG": str(toml)}
    values = settings_for(["--port", "7002"], env)
    assert values["port"] == 7002  # flag
    assert values["host"] == "::1"  # variable
    assert values["max_clients"] == 5  # file, dashed key
    assert values["network"] == "FromFile"  # file
    assert values["server_name"] == "easychat.local"  # default


def test_config_flag_wins_over_config_variable(tmp_path: Path) -> None:
    first = tmp_path / "a.toml"
    first.write_text("port = 1\n")
    second = tmp_path / "b.toml"
    second.write_text("port = 2\n")
    values = settings_for(["--config", str(second)], {"EASYCHAT_CONFIG": str(first)})
    assert values["port"] == 2


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--port", "abc"], {}, "--port"),
        (["--port", "70000"], {}, "between 0 and 65535"),
        ([], {"EASYCHAT_MAX_CLIENTS": "0"}, "EASYCHAT_MAX_CLIENTS"),
        ([], {"EASYCHAT_PING_TIMEOUT": "-1"}, "above zero"),
    ],
)
def test_bad_values_are_explained(argv: list[str], environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_for(argv, environ)


def test_bad_toml_is_explained(tmp_path: Path) -> None:
    toml = tmp_path / "bad.toml"
    toml.write_text("port = [\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        settings_for(["--config", str(toml)])
    toml.write_text("prot = 6667\n")
    with pytest.raises(SettingsError, match="unknown setting 'prot'"):
        settings_for(["--config", str(toml)])
    toml.write_text('port = "6667x"\n')
    with pytest.raises(SettingsError, match="port"):
        settings_for(["--config", str(toml)])
    with pytest.raises(SettingsError, match="cannot read config file"):
        settings_for(["--config", str(tmp_path / "missing.toml")])


def test_autojoin_and_motd_reach_the_core(tmp_path: Path) -> None:
    motd = tmp_path / "motd.txt"
    motd.write_text("Be kind.\nHave fun.\n")
    cfg = core_config(settings_for(["--autojoin", "#a, #b", "--motd", str(motd)]))
    assert cfg.autojoin == ("#a", "#b")
    assert cfg.motd == ("Be kind.", "Have fun.")
    assert core_config(settings_for(["--autojoin", ""])).autojoin == ()


def test_missing_motd_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read MOTD file"):
        core_config(settings_for(["--motd", str(tmp_path / "nope")]))


def test_main_exits_2_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--port", "nope"])
    assert exc.value.code == 2
    assert "--port: invalid value 'nope'" in capsys.readouterr().err


def test_flag_and_repeated_options() -> None:
    """A bare switch reads 1/0 from its variable; a repeated option collects a tuple."""
    import argparse

    from easychat.cli.settings import Option, add_options, boolean

    options = (
        Option("tls-self-signed", boolean, False, "switch", flag=True),
        Option("oper", str, (), "repeatable", repeat=True),
    )
    parser = argparse.ArgumentParser()
    add_options(parser, options)
    args = parser.parse_args(["--tls-self-signed", "--oper", "a:1", "--oper", "b:2"])
    assert resolve(args, options, {}) == {"tls_self_signed": True, "oper": ("a:1", "b:2")}
    args = parser.parse_args([])
    env = {"EASYCHAT_TLS_SELF_SIGNED": "false", "EASYCHAT_OPER": "c:3,d:4"}
    assert resolve(args, options, env) == {"tls_self_signed": False, "oper": ("c:3", "d:4")}
    with pytest.raises(SettingsError, match="true or false"):
        resolve(args, options, {"EASYCHAT_TLS_SELF_SIGNED": "maybe"})


def test_limits_exempt_flag_env_and_file(tmp_path: Path) -> None:
    """--limits-exempt takes addresses and networks, comma-separated or
    repeated; its default is loopback, and an empty value exempts nothing."""
    assert core_config(settings_for([])).limits_exempt == ("127.0.0.0/8", "::1")
    argv = ["--limits-exempt", "10.0.0.0/8, 192.0.2.7", "--limits-exempt", "2001:db8::/32"]
    assert core_config(settings_for(argv)).limits_exempt == (
        "10.0.0.0/8",
        "192.0.2.7/32",
        "2001:db8::/32",
    )
    assert core_config(settings_for(["--limits-exempt", ""])).limits_exempt == ()
    env = {"EASYCHAT_LIMITS_EXEMPT": "127.0.0.1,::1"}
    assert core_config(settings_for([], env)).limits_exempt == ("127.0.0.1/32", "::1/128")
    assert core_config(settings_for([], {"EASYCHAT_LIMITS_EXEMPT": ""})).limits_exempt == ()
    toml = tmp_path / "easychat.toml"
    toml.write_text('limits-exempt = ["10.1.0.0/16"]\n')
    env = {"EASYCHAT_CONFIG": str(toml)}
    assert core_config(settings_for([], env)).limits_exempt == ("10.1.0.0/16",)
    with pytest.raises(SettingsError, match="--limits-exempt: invalid value"):
        settings_for(["--limits-exempt", "not-an-address"])


def test_the_shortest_account_password_reaches_the_core() -> None:
    assert core_config(settings_for([])).password_min_length == 8
    assert core_config(settings_for(["--password-min-length", "12"])).password_min_length == 12
    env = {"EASYCHAT_PASSWORD_MIN_LENGTH": "10"}
    assert core_config(settings_for([], env)).password_min_length == 10
    with pytest.raises(SettingsError, match="password-min-length"):
        settings_for(["--password-min-length", "0"])
