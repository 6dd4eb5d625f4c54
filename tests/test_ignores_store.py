"""Tests the ignore list's file: masks kept in order, private modes, atomic replacement."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from easychat.client.masks import MAX_IGNORES
from easychat.store.ignores import MAX_IGNORES_BYTES, ignores_path, load_ignores, save_ignores


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_missing_file_is_an_empty_list(tmp_path: Path) -> None:
    assert load_ignores(ignores_path(tmp_path / "nowhere")) == []


def test_saved_masks_load_back_in_order(tmp_path: Path) -> None:
    path = ignores_path(tmp_path)
    save_ignores(path, ["doe!*@*", "*!*@spam.example", "ünï!*@*"])
    assert load_ignores(path) == ["doe!*@*", "*!*@spam.example", "ünï!*@*"]
    save_ignores(path, ["doe!*@*"])
    assert load_ignores(path) == ["doe!*@*"]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left


def test_file_is_0600_in_0700_directories_whatever_the_umask(tmp_path: Path) -> None:
    """Issue 10, item 3: every file 0600, every directory 0700, with the usual umask 022."""
    old = os.umask(0o022)
    try:
        path = ignores_path(tmp_path / "data" / "easychat")
        save_ignores(path, ["doe!*@*"])
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700


def test_hand_edited_file_skips_comments_and_blanks(tmp_path: Path) -> None:
    path = ignores_path(tmp_path)
    path.write_text("# people I hide\n\n  doe!*@*  \nbob!*@*\n", encoding="utf-8")
    assert load_ignores(path) == ["doe!*@*", "bob!*@*"]


def test_oversized_or_overlong_files(tmp_path: Path) -> None:
    path = ignores_path(tmp_path)
    path.write_bytes(b"x" * (MAX_IGNORES_BYTES + 1))
    with pytest.raises(OSError, match="not an ignore list"):
        load_ignores(path)
    path.write_text("".join(f"n{i}!*@*\n" for i in range(MAX_IGNORES + 10)), encoding="utf-8")
    assert len(load_ignores(path)) == MAX_IGNORES
