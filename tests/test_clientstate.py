"""Tests for what the client keeps per server (the state file) and its join-filter setting."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from easychat.cli.commands import build_parser
from easychat.cli.join import JOIN_OPTIONS
from easychat.cli.settings import SettingsError, resolve
from easychat.store.clientstate import ClientState, ReadMark, StateError, state_path


def test_state_round_trips_and_is_private(tmp_path: Path) -> None:
    """Rooms with keys, private chats and read marks survive a reload; 0600 in 0700."""
    old_umask = os.umask(0o022)
    try:
        path = state_path(tmp_path / "data" / "logs", "::1", 6667)
        state = ClientState(path)
        state.joined("#Room")
        state.joined("#keyed", "sesame")
        state.joined("#gone")
        state.left("#GONE")
        state.opened_private("Doe")
        state.set_read("#room", ReadMark(12.5, "m1"))
        state.set_read("#room", ReadMark(3.0, "older"))  # never moves back
    finally:
        os.umask(old_umask)
    assert path.name == "__1_6667.state.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again = ClientState(path)
    assert again.rooms() == [("#Room", None), ("#keyed", "sesame")]
    assert again.private() == ["Doe"]
    assert again.read_mark("#ROOM") == ReadMark(12.5, "m1")
    again.closed("doe")
    assert ClientState(path).private() == []


def test_unreadable_state_is_reported_and_replaced(tmp_path: Path) -> None:
    """A damaged file raises StateError with its name; the state starts empty."""
    path = tmp_path / "x.state.json"
    path.write_text("{not json")
    with pytest.raises(StateError, match=r"x\.state\.json"):
        ClientState(path)
    problems: list[str] = []
    state = ClientState(path, on_error=problems.append)
    assert state.rooms() == []
    assert "x.state.json" in problems[0]
    state.joined("#a")
    assert ClientState(path).rooms() == [("#a", None)]


def test_parted_rooms_are_remembered_until_joined_again(tmp_path: Path) -> None:
    """Item 16: a room the user left stays left across runs until they join it again."""
    path = tmp_path / "s.state.json"
    state = ClientState(path)
    state.joined("#lobby")
    state.left("#lobby")
    assert ClientState(path).was_left("#LOBBY")
    state.joined("#lobby")
    assert not ClientState(path).was_left("#lobby")


def test_joins_setting_by_flag_variable_and_check() -> None:
    """Item 18: --joins / EASYCHAT_JOINS picks the join filter; other values are refused."""
    parser = build_parser()
    assert resolve(parser.parse_args(["join"]), JOIN_OPTIONS, {})["joins"] == "smart"
    args = parser.parse_args(["join", "--joins", "all"])
    assert resolve(args, JOIN_OPTIONS, {})["joins"] == "all"
    env = {"EASYCHAT_JOINS": "None"}
    assert resolve(parser.parse_args(["join"]), JOIN_OPTIONS, env)["joins"] == "none"
    with pytest.raises(SettingsError, match="must be one of smart, all, none"):
        resolve(parser.parse_args(["join"]), JOIN_OPTIONS, {"EASYCHAT_JOINS": "some"})
