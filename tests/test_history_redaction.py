"""The history store's side of message redaction: a redacted record is gone from every query.

IRCv3 draft/message-redaction: "After a message is redacted, chathistory
responses SHOULD either: exclude it entirely [...]". EasyChat excludes it:
its entry is emptied in its block, and the file notes who redacted it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from easychat.store.history import SQLiteHistory
from tests.test_history_store import ROOM, T0, at, numbers, say


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteHistory]:
    """A store holding messages m1..m10 of #lobby, committed."""
    history = SQLiteHistory(tmp_path / "h.db")
    for n in range(1, 11):
        history.append(say(n))
    history.commit()
    yield history
    history.db.close()


def test_redacted_record_leaves_every_query(store: SQLiteHistory) -> None:
    """ "exclude it entirely": no page has it, and it is no longer a selector."""
    assert store.redact(ROOM, "m5", T0 + 99_000, "alice!alice@host")
    store.commit()
    assert numbers(store.latest(ROOM, 100)) == [1, 2, 3, 4, 6, 7, 8, 9, 10]
    assert numbers(store.before(ROOM, at(7), 3)) == [3, 4, 6]
    assert numbers(store.after(ROOM, at(3), 3)) == [4, 6, 7]
    assert store.around(ROOM, at(5), 1) == []
    assert not store.redact(ROOM, "m5", T0 + 99_000, "alice!alice@host")
    assert not store.redact("#elsewhere", "m6", T0 + 99_000, "alice!alice@host")


def test_redaction_is_durable_with_the_commit(tmp_path: Path, store: SQLiteHistory) -> None:
    """A redaction is part of the turn's transaction: after the commit it
    survives a reopen, together with a message appended in the same turn."""
    store.append(say(11))
    assert store.redact(ROOM, "m11", T0 + 99_000, "alice!alice@host")
    assert store.redact(ROOM, "m2", T0 + 99_000, "op!op@host")
    store.commit()
    store.db.close()
    again = SQLiteHistory(tmp_path / "h.db")
    assert numbers(again.latest(ROOM, 100)) == [1, 3, 4, 5, 6, 7, 8, 9, 10]
    noted = again.db.execute("SELECT msgid, source FROM redactions ORDER BY msgid").fetchall()
    assert noted == [("m11", "alice!alice@host"), ("m2", "op!op@host")]
    assert again.forget(ROOM) == 9
    assert again.db.execute("SELECT COUNT(*) FROM redactions").fetchone() == (0,)
    again.db.close()
