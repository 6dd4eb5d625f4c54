"""The search index over a real SQLite history file: steps, retention, reused places.

Spec: https://codeberg.org/emersion/soju/src/branch/master/doc/ext/search.md
("The actual algorithm used for matching the text is implementation
defined"); here, every word of the text, as FTS5's unicode61 splits words.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from easychat.chat.history import Record
from easychat.chat.search import SearchQuery, words_of
from easychat.proto.message import Message
from easychat.store.history import SQLiteHistory
from easychat.store.history_search import HistorySearch

START_MS = 1_700_000_000_000


@pytest.fixture
def history(tmp_path: Path) -> SQLiteHistory:
    return SQLiteHistory(tmp_path / "h.db")


class Writer:
    """Appends PRIVMSGs with growing msgids and times, committing like loop turns."""

    def __init__(self, history: SQLiteHistory) -> None:
        self.history = history
        self.count = 0

    def say(self, nick: str, target: str, text: str, key: str | None = None) -> Record:
        self.count += 1
        record = Record(
            f"abcdefabcdef{self.count:x}",
            START_MS + self.count,
            key or target.lower(),
            Message("PRIVMSG", (target, text), f"{nick}!{nick.lower()}@127.0.0.1"),
        )
        self.history.append(record)
        return record


def find(search: HistorySearch, text: str, *keys: str, **kwargs: object) -> list[str]:
    query = SearchQuery(keys=keys, words=words_of(text), **kwargs)  # type: ignore[arg-type]
    return [r.message.params[1] for r in search.search(query)]


def test_small_steps_index_every_message_once(history: SQLiteHistory) -> None:
    """Steps stop inside a block and go on from there: nothing is indexed twice or skipped."""
    writer = Writer(history)
    for turn in range(3):
        for n in range(7):
            writer.say("alice", "#lobby", f"word {turn}-{n}")
        writer.say("bob", "#other", f"word other {turn}")
        history.commit()
    search = HistorySearch(history)
    steps = 0
    while search.index_some(4):
        steps += 1
    assert steps >= 5
    (rows,) = history.db.execute("SELECT COUNT(*) FROM search_text").fetchone()
    assert rows == 24
    assert len(find(search, "word", "#lobby", limit=100)) == 21
    assert not search.index_some(4)  # nothing left: a cheap no-op


def test_action_text_is_searched_other_ctcp_is_not(history: SQLiteHistory) -> None:
    """A /me is searched by what it says; a CTCP request is not a message to search."""
    writer = Writer(history)
    writer.say("alice", "#lobby", "\x01ACTION waves hello\x01")
    writer.say("alice", "#lobby", "\x01VERSION hello\x01")
    history.commit()
    search = HistorySearch(history)
    search.index_some(100)
    assert find(search, "hello", "#lobby") == ["\x01ACTION waves hello\x01"]
    assert find(search, "ACTION", "#lobby") == []


def test_only_the_keys_asked_for(history: SQLiteHistory) -> None:
    """Only the conversations named in the query are searched."""
    writer = Writer(history)
    writer.say("alice", "#lobby", "secret plan")
    writer.say("alice", "#ops", "secret ops plan")
    writer.say("alice", "bob", "secret private plan", key="alice\0bob")
    history.commit()
    search = HistorySearch(history)
    search.index_some(100)
    assert find(search, "secret", "#lobby") == ["secret plan"]
    assert find(search, "secret", "alice\0bob", "#ops") == [
        "secret ops plan",
        "secret private plan",
    ]
    assert find(search, "secret") == []


def test_pruned_records_are_not_found(history: SQLiteHistory) -> None:
    """Retention removes a record from its block; the index then finds nothing there."""
    writer = Writer(history)
    writer.say("alice", "#lobby", "old news")
    history.commit()
    writer.say("alice", "#lobby", "new news")
    history.commit()
    search = HistorySearch(history)
    search.index_some(100)
    history.prune(START_MS + 2)
    assert find(search, "news", "#lobby") == ["new news"]


def test_places_of_a_dropped_room_taken_again(history: SQLiteHistory) -> None:
    """DROP deletes a room's blocks; ids SQLite hands out again are indexed,
    and what the old index said of them is not believed."""
    writer = Writer(history)
    writer.say("alice", "#lobby", "hello lobby")
    history.commit()
    writer.say("alice", "#gone", "apple pie")
    history.commit()
    search = HistorySearch(history)
    search.index_some(100)
    history.forget("#gone")
    search.index_some(100)
    writer.say("bob", "#lobby", "banana split")
    history.commit()
    search.index_some(100)
    assert find(search, "apple", "#lobby", "#gone") == []
    assert find(search, "banana", "#lobby") == ["banana split"]
    assert find(search, "split", "#lobby", sender="bob") == ["banana split"]
    assert find(search, "split", "#lobby", sender="alice") == []


def test_index_survives_reopening(tmp_path: Path) -> None:
    """The index and how far it got are kept in the file, on their own schema track."""
    history = SQLiteHistory(tmp_path / "h.db")
    writer = Writer(history)
    writer.say("alice", "#lobby", "kept words")
    history.commit()
    HistorySearch(history).index_some(100)
    history.close()
    reopened = SQLiteHistory(tmp_path / "h.db")
    search = HistorySearch(reopened)
    assert not search.index_some(100)
    assert find(search, "kept", "#lobby") == ["kept words"]
    (version,) = reopened.db.execute("SELECT version FROM search_schema").fetchone()
    assert version == 1
    reopened.close()
