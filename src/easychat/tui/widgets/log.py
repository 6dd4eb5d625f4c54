"""Provides the message log: a virtual list of lines wrapped lazily at the current width."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

# Lines the log holds; older ones fall off the top (the conversation model
# and the local log still have them). A busy room's afternoon, at ~200 bytes
# a line about 1 MB, where holding every line of a 100,000-line burst took
# hundreds of MB.
MAX_ENTRIES = 5000

# Lines whose wrapped rows are kept: several screens, so scrolling back and
# forth does not wrap the same lines again.
ROW_CACHE_ENTRIES = 1024

# Below this many columns left for the text, continuation rows start at the
# left edge instead of under the text (a long nick on a narrow log).
MIN_TEXT_COLUMNS = 12

# How long appends wait to be drawn: every line written within one frame
# (1/60 s) costs one layout and one repaint, not one each.
FLUSH_DELAY = 1 / 60


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where the top of the view is, counted from the newest line: kept across a redraw."""

    from_end: int  # lines after the top one
    row: int  # the top row's place within its line


class ChatLog(ScrollView, can_focus=True):
    """The message log; only the rows in view are ever wrapped and drawn.

    Each line is a rich `Text` with a prefix (time and nick) whose width is
    its hanging indent: continuation rows start under the text. Row counts
    of lines never shown are estimated from their length and made exact
    when the line comes into view. The view follows the newest line while
    it is scrolled to the bottom and stays put otherwise.

    It posts `ReachedTop` when the user scrolls (wheel, Up, PageUp, Home)
    until the top is reached, or tries to scroll up while already there,
    including when the log is too short to scroll at all. Scrolling by the
    program (redraws, new lines) never posts it.
    """

    class ReachedTop(Message):
        """The user scrolled to the top of the log."""

    _user_scroll = False  # an upward scroll by the user is under way

    def __init__(
        self,
        *,
        max_entries: int = MAX_ENTRIES,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.max_entries = max_entries
        self._texts: list[Text] = []
        self._splits: list[int] = []  # characters of each line's prefix
        self._heights: list[int] = []  # rows at self._width (estimated until exact)
        self._exact: list[bool] = []
        self._starts: list[int] = []  # first row of each line, counted since the last clear
        self._total = 0  # rows written since the last clear
        self._dropped = 0  # lines removed from the top since the last clear
        self._width = 0
        self._rows: LRUCache[int, list[Strip]] = LRUCache(ROW_CACHE_ENTRIES)
        self._follow = True
        self._flush_pending = False
        self._shift = 0  # rows dropped above the view since the last sync
        self.last_time: float | None = None  # of the newest line written, for day changes
        self.wraps = 0  # lines wrapped so far: tells a test what was drawn
        self.flushes = 0  # frames that drew new lines: tells a test they coalesce

    # -- contents ----------------------------------------------------------

    @property
    def line_count(self) -> int:
        """The lines held."""
        return len(self._texts)

    @property
    def row_count(self) -> int:
        """The rows of all lines held (lines never in view estimated)."""
        return self._total - (self._starts[0] if self._starts else 0)

    def clear(self) -> ChatLog:
        """Removes every line; the next lines are followed from the top."""
        self._user_scroll = False  # a redraw jumps to the top without the user
        for store in (self._texts, self._splits, self._heights, self._exact, self._starts):
            store.clear()
        self._total = self._dropped = self._shift = 0
        self._rows.clear()
        self._follow = True
        self.last_time = None
        self._schedule()
        return self

    def write(self, text: Text, prefix: int = 0) -> ChatLog:
        """Adds a line at the bottom; drawn with the others written in the same frame.

        Args:
            text: The line; it is drawn as given, never parsed for markup.
            prefix: How many of its characters are the prefix (time, nick)
                that continuation rows are indented by.
        """
        self._texts.append(text)
        self._splits.append(prefix)
        height = self._estimate(text, prefix) if self._width else 1
        self._heights.append(height)
        self._exact.append(False)
        self._starts.append(self._total)
        self._total += height
        if len(self._texts) > self.max_entries:
            # A quarter at a time, so dropping costs O(1) a line.
            self._drop(len(self._texts) - self.max_entries + self.max_entries // 4)
        self._schedule()
        return self

    def _drop(self, count: int) -> None:
        """Removes the oldest `count` lines."""
        removed = self._starts[count] - self._starts[0]
        for store in (self._texts, self._splits, self._heights, self._exact, self._starts):
            del store[:count]
        self._dropped += count
        if not self._follow:
            self._shift += removed  # the view stays on its lines, now fewer rows down

    def rows_text(self) -> list[str]:
        """Every row of every line at the current width, as plain text (for tests)."""
        self._relayout()
        out: list[str] = []
        for index in range(len(self._texts)):
            out.extend(strip.text.rstrip() for strip in self._wrap(index))
        return out

    # -- layout ------------------------------------------------------------

    def _text_width(self) -> int:
        return max(1, self.scrollable_content_region.width)

    def _indent(self, index: int) -> int:
        """The hanging indent of line `index`, 0 when too little room would be left."""
        indent = cell_len(self._texts[index].plain[: self._splits[index]])
        return indent if self._width - indent >= MIN_TEXT_COLUMNS else 0

    def _estimate(self, text: Text, prefix: int) -> int:
        """Rows of a line, guessed from its length (words make it a little more)."""
        plain = text.plain
        if "\n" in plain:
            return plain.count("\n") + 1
        indent = cell_len(plain[:prefix])
        if self._width - indent < MIN_TEXT_COLUMNS:
            indent = 0
        return max(1, math.ceil((cell_len(plain) - indent) / (self._width - indent)))

    def _wrap(self, index: int) -> list[Strip]:
        """The rows of line `index` at the current width, cached."""
        key = self._dropped + index
        cached = self._rows.get(key)
        if cached is not None:
            return cached
        self.wraps += 1
        text, split = self._texts[index], self._splits[index]
        console = self.app.console
        width = self._width
        indent = self._indent(index)
        style = self.rich_style
        strips: list[Strip] = []
        if indent:
            body = text[split:]
            rows = body.wrap(console, width - indent)
            for n, row in enumerate(rows):
                lead = text[:split] if n == 0 else Text(" " * indent)
                strips.append(self._strip(lead + row, width, style))
            if not rows:
                strips.append(self._strip(text[:split], width, style))
        else:
            strips = [self._strip(row, width, style) for row in text.wrap(console, width)]
        strips = strips or [Strip.blank(width, style)]
        self._rows[key] = strips
        self._settle(index, len(strips))
        return strips

    def _strip(self, row: Text, width: int, style: Style) -> Strip:
        row.rstrip()
        segments = list(row.render(self.app.console))
        return Strip(segments).crop_extend(0, width, None).apply_style(style)

    def _settle(self, index: int, height: int) -> None:
        """Makes line `index`'s row count exact; the lines below it move."""
        self._exact[index] = True
        delta = height - self._heights[index]
        if not delta:
            return
        self._heights[index] = height
        starts = self._starts
        for i in range(index + 1, len(starts)):
            starts[i] += delta
        self._total += delta

    def _relayout(self) -> None:
        """After a width change: every row count estimated again, cached rows dropped."""
        width = self._text_width()
        if width == self._width:
            return
        self._width = width
        self._rows.clear()
        total = 0
        for i, (text, split) in enumerate(zip(self._texts, self._splits, strict=True)):
            height = self._estimate(text, split)
            self._heights[i] = height
            self._exact[i] = False
            self._starts[i] = total
            total += height
        self._total = total

    def _line_at(self, y: int) -> tuple[int, int]:
        """The line at row `y` of the view's content and the row within it."""
        absolute = y + (self._starts[0] if self._starts else 0)
        index = bisect.bisect_right(self._starts, absolute) - 1
        return index, absolute - self._starts[index]

    def _settle_view(self) -> None:
        """Wraps the lines in view (the newest when following) so their row counts are exact."""
        if not self._texts:
            return
        height = max(1, self.scrollable_content_region.height)
        if self._follow:
            rows = 0
            for index in range(len(self._texts) - 1, -1, -1):
                self._wrap(index)
                rows += self._heights[index]
                if rows >= height:
                    break
            return
        top = int(self.scroll_y)
        index, _ = self._line_at(top)
        while 0 <= index < len(self._texts):
            self._wrap(index)
            if self._starts[index] + self._heights[index] - self._starts[0] >= top + height:
                break
            index += 1

    # -- drawing -------------------------------------------------------------

    def _schedule(self) -> None:
        if not self._flush_pending and self.is_attached:
            self._flush_pending = True
            self.set_timer(FLUSH_DELAY, self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        self.flushes += 1
        self._sync()
        self.refresh()

    def _sync(self) -> None:
        """Brings the layout, the scroll range and (when following) the position up to date."""
        self._relayout()
        self._settle_view()
        self.virtual_size = Size(self._width, self.row_count)
        if self._follow:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
        elif self._shift:
            y = max(0.0, self.scroll_y - self._shift)
            self._shift = 0
            self.scroll_to(y=y, animate=False, immediate=True)

    def on_resize(self, event: events.Resize) -> None:
        anchor = None if self._follow else self._top()  # where it was, at the old width
        self._sync()
        if anchor is not None:
            self.restore_view(anchor)
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._rows.clear()

    def render_line(self, y: int) -> Strip:
        if self._text_width() != self._width:
            self._sync()
        width = self._width
        row = int(self.scroll_y) + y
        if not self._texts or row < 0 or row >= self.row_count:
            return Strip.blank(width, self.rich_style)
        index, within = self._line_at(row)
        strips = self._wrap(index)
        strip = strips[within] if within < len(strips) else Strip.blank(width, self.rich_style)
        selection = self.text_selection
        span = selection.get_span(row) if selection is not None else None
        if span is not None:
            strip = self._highlight(strip, span)
        return strip.apply_offsets(0, row)

    def _highlight(self, strip: Strip, span: tuple[int, int]) -> Strip:
        """`strip` with the selected cells in the selection's style."""
        start, end = span
        end = self._width if end == -1 else end
        selected = self.screen.get_component_rich_style("screen--selection")
        middle = [
            Segment(text, (style + selected) if style else selected, control)
            for text, style, control in strip.crop(start, end)
        ]
        return Strip.join([strip.crop(0, start), Strip(middle), strip.crop(end, self._width)])

    # -- selecting text --------------------------------------------------------

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text: rows as shown, one a line (what Textual copies)."""
        return selection.extract("\n".join(self.rows_text())), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    # -- where the view is -------------------------------------------------

    def view_anchor(self) -> Anchor:
        """The top of the view, to find again after the lines above it change."""
        self._sync()
        return self._top()

    def _top(self) -> Anchor:
        if not self._texts:
            return Anchor(0, 0)
        index, within = self._line_at(int(self.scroll_y))
        return Anchor(len(self._texts) - 1 - index, within)

    def restore_view(self, anchor: Anchor) -> None:
        """Scrolls so that the line at `anchor` is at the top again."""
        self._sync()
        index = len(self._texts) - 1 - anchor.from_end
        if index < 0 or not self._texts:
            self.scroll_home(animate=False)
            return
        y = self._starts[index] - self._starts[0] + anchor.row
        self._follow = False
        self.scroll_to(y=y, animate=False, immediate=True)
        self._settle_view()
        self.virtual_size = Size(self._width, self.row_count)

    def show_top(self) -> None:
        """Scrolls to the first line (after a redraw that wrote lines above)."""
        self._follow = False
        self._sync()
        self.scroll_to(y=0, animate=False, immediate=True)
        self._settle_view()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._follow = new_value >= self.max_scroll_y
        if not self._follow:
            self._settle_view()
            self.virtual_size = Size(self._width, self.row_count)
        # User scrolls here jump (no animation), so the flag is spent on the
        # one change they cause.
        if self._user_scroll:
            self._user_scroll = False
            if new_value <= 0 < old_value:
                self.post_message(self.ReachedTop())

    # -- links ---------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        """A click on a link opens it (terminals with OSC 8 links also open them)."""
        link = event.style.link
        if link:
            event.stop()
            self.app.open_url(link)

    # -- the user scrolling up ----------------------------------------------

    def _upward(self) -> bool:
        """Before an upward scroll: at the top already, posts ReachedTop (True)."""
        if self.scroll_y <= 0:
            self.post_message(self.ReachedTop())
            return True
        self._user_scroll = True
        return False

    def action_scroll_up(self) -> None:
        if not self._upward():
            self.scroll_up(animate=False)

    def action_page_up(self) -> None:
        if not self._upward():
            self.scroll_page_up(animate=False)

    def action_scroll_home(self) -> None:
        if not self._upward():
            self.scroll_home(animate=False)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if event.ctrl or event.shift:  # sideways
            super()._on_mouse_scroll_up(event)
        elif self._upward():
            event.stop()
        else:
            super()._on_mouse_scroll_up(event)
