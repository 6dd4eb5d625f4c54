"""The layering check: the protocol and chat cores stay sans-IO."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "easychat"
CORE_PACKAGES = ("proto", "chat", "client")
BANNED = {"socket", "selectors", "asyncio", "sqlite3", "textual", "ssl", "threading"}


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module `path` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


CORE_FILES = sorted(p for pkg in CORE_PACKAGES for p in (SRC / pkg).rglob("*.py"))


def test_core_files_exist() -> None:
    """Guards the check itself: it must be looking at real files."""
    assert len(CORE_FILES) >= 8


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_core_imports_no_io(path: Path) -> None:
    """No core module imports sockets, selectors, asyncio, sqlite3 or textual."""
    assert imported_modules(path) & BANNED == set()


def test_checker_catches_a_banned_import(tmp_path: Path) -> None:
    """The checker sees imports anywhere in a file, not only at the top."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from socket import socket\n    import asyncio.streams\n")
    assert imported_modules(bad) >= {"socket", "asyncio"}
