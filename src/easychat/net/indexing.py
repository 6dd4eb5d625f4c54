"""Provides Indexing: when the selector server feeds the search index, off the relay path."""

from __future__ import annotations

from easychat.chat.search import SearchIndex

# Records the search index takes in one step. A record costs about 12 us
# (splitting its line, then the FTS5 insert; benchmarks/history_throughput.py
# prints the figures), so a step of 500 holds the loop for about 6 ms: a
# line that arrives meanwhile waits no longer than behind a neighbour's
# burst. Idle turns come often, so this still indexes tens of thousands of
# records a second when the server is not saturated.
INDEX_STEP_RECORDS = 500


class Indexing:
    """Decides, turn by turn, when the search index takes a step.

    A turn that read something may have stored history: the index is then
    due, and the next turn that finds nothing to read (the loop's select
    does not wait while it is due) indexes one bounded step, after the
    turn's output has left. Under a load that never leaves a turn idle,
    each tick takes a step all the same, so the index cannot starve.
    """

    def __init__(self, search: SearchIndex | None) -> None:
        self.search = search
        self.due = search is not None  # a history opened with records not yet indexed

    def after_turn(self, *, idle: bool, ticked: bool) -> None:
        """Called at the end of every loop turn, its output flushed."""
        search = self.search
        if search is None:
            return
        if (idle and self.due) or ticked:
            self.due = search.index_some(INDEX_STEP_RECORDS)
        elif not idle:
            self.due = True
