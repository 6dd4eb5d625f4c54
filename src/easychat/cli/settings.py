"""Provides settings: a flag, else its EASYCHAT_* variable, else TOML, else the default."""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_PREFIX = "EASYCHAT_"


class SettingsError(Exception):
    """A setting has a value that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: its flag name, type, default and help."""

    name: str
    kind: Callable[[str], Any]
    default: Any
    help: str
    flag: bool = False  # a bare `--name` switch; its variable takes 1/0, true/false
    repeat: bool = False  # may be given several times; the value is a tuple

    @property
    def env(self) -> str:
        """The variable named after the flag: `--max-clients` is EASYCHAT_MAX_CLIENTS."""
        return ENV_PREFIX + self.name.upper().replace("-", "_")

    @property
    def dest(self) -> str:
        """The attribute name argparse uses."""
        return self.name.replace("-", "_")


def add_options(parser: argparse.ArgumentParser, options: Sequence[Option]) -> None:
    """Adds each option as a flag whose help names its variable and default."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help=f"TOML file with the same settings (env: {ENV_PREFIX}CONFIG)",
    )
    for opt in options:
        shown = "none" if opt.default is None else repr(opt.default)
        text = f"{opt.help} (env: {opt.env}, default: {shown})"
        if opt.flag:
            parser.add_argument(
                f"--{opt.name}",
                dest=opt.dest,
                default=None,
                action="store_const",
                const="1",
                help=text,
            )
        elif opt.repeat:
            parser.add_argument(
                f"--{opt.name}", dest=opt.dest, default=None, action="append", type=str, help=text
            )
        else:
            parser.add_argument(f"--{opt.name}", dest=opt.dest, default=None, type=str, help=text)


def resolve(
    args: argparse.Namespace, options: Sequence[Option], environ: Mapping[str, str] = os.environ
) -> dict[str, Any]:
    """Picks each option's value: flag, else variable, else TOML file, else default.

    Raises:
        SettingsError: a value does not convert, or the TOML file is unreadable
            or names a setting that does not exist.
    """
    config_path = args.config or environ.get(ENV_PREFIX + "CONFIG")
    from_file = _read_toml(Path(config_path), options) if config_path else {}
    values: dict[str, Any] = {}
    for opt in options:
        raw: Any = getattr(args, opt.dest)
        origin = f"--{opt.name}"
        if raw is None and opt.env in environ:
            raw, origin = environ[opt.env], opt.env
        if raw is None and opt.dest in from_file:
            raw, origin = from_file[opt.dest], f"{config_path}: {opt.name}"
        if raw is None:
            values[opt.dest] = opt.default
            continue
        try:
            if opt.repeat:
                # Comma-separated in the variable, in each flag and in a
                # TOML string or list alike.
                items = [raw] if isinstance(raw, str) else raw
                parts = [part for item in items for part in str(item).split(",")]
                values[opt.dest] = tuple(opt.kind(part) for part in parts if part.strip())
                continue
            if opt.flag and isinstance(raw, bool):
                raw = "1" if raw else "0"
            values[opt.dest] = opt.kind(raw) if isinstance(raw, str) else _check_type(opt, raw)
        except (ValueError, TypeError) as exc:
            raise SettingsError(f"{origin}: invalid value {raw!r} ({exc})") from None
    return values


def _check_type(opt: Option, value: Any) -> Any:
    if opt.kind in (int, float) and isinstance(value, bool):
        raise TypeError("expected a number")
    if opt.kind is float and isinstance(value, int):
        return float(value)
    if opt.kind in (int, float, str) and not isinstance(value, opt.kind):
        raise TypeError(f"expected {opt.kind.__name__}")
    return opt.kind(str(value)) if opt.kind not in (int, float, str) else value


def _read_toml(path: Path, options: Sequence[Option]) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    known = {opt.dest for opt in options}
    out: dict[str, Any] = {}
    for key, value in data.items():
        dest = key.replace("-", "_")
        if dest not in known:
            raise SettingsError(f"config file {path}: unknown setting {key!r}")
        out[dest] = value
    return out


def positive_int(text: str) -> int:
    """An integer of at least 1."""
    value = int(text)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def port_number(text: str) -> int:
    """A TCP port, 0 to 65535 (0 lets the system pick)."""
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError("must be between 0 and 65535")
    return value


def positive_float(text: str) -> float:
    """A number of seconds above zero."""
    value = float(text)
    if not value > 0:
        raise ValueError("must be above zero")
    return value


def non_negative_int(text: str) -> int:
    """An integer of at least 0."""
    value = int(text)
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def non_negative_float(text: str) -> float:
    """A number of at least 0."""
    value = float(text)
    if not value >= 0:
        raise ValueError("must be 0 or more")
    return value


def boolean(text: str) -> bool:
    """`1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off`."""
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("must be true or false")
