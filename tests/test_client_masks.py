"""Tests the masks of /ban and /ignore and the ignore list's matching."""

from __future__ import annotations

import pytest

from easychat.client.masks import MAX_IGNORES, IgnoreList, ban_mask, matches_everyone


@pytest.mark.parametrize(
    ("word", "userhost", "mask"),
    [
        ("bob", None, "bob!*@*"),
        ("bob", "~bob@10.0.0.1", "*!~bob@10.0.0.1"),
        ("*@spam.example", "ignored@x", "*!*@spam.example"),
        ("bob!*@*", None, "bob!*@*"),
        ("b?b", None, "b?b!*@*"),
    ],
)
def test_ban_mask(word: str, userhost: str | None, mask: str) -> None:
    assert ban_mask(word, userhost) == mask


@pytest.mark.parametrize(
    ("mask", "everyone"),
    [("*", True), ("*!*@*", True), ("**!*@**", True), ("*!*@h", False), ("bob", False)],
)
def test_matches_everyone(mask: str, everyone: bool) -> None:
    assert matches_everyone(mask) is everyone


def test_ignore_list_matches_case_insensitively_and_keeps_order() -> None:
    ignores = IgnoreList(["doe", "*!*@Spam.Example"])
    assert ignores.masks == ("doe!*@*", "*!*@Spam.Example")
    assert ignores.ignores("DOE!x@y")
    assert ignores.ignores("eve!e@spam.example")
    assert not ignores.ignores("bob!b@h")
    assert not ignores.ignores(None)
    assert not ignores.add("Doe")  # already there, in another case
    assert ignores.remove("DOE!*@*")
    assert not ignores.remove("doe")
    assert ignores.masks == ("*!*@Spam.Example",)


def test_ignore_list_is_bounded() -> None:
    ignores = IgnoreList(f"n{i}" for i in range(MAX_IGNORES))
    assert not ignores.add("one-more")
    assert len(ignores.masks) == MAX_IGNORES
