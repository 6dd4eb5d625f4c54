"""How a line looks: dates on old lines, day changes, IRC formatting as styles, links."""

from __future__ import annotations

import time

from rich.console import Console
from rich.style import Style
from rich.text import Text

from easychat.client.events import Line, LineKind
from easychat.tui.render import day_changed, render_entry

CONSOLE = Console()
# Noon, local time, on a fixed day: a day before or after is another date.
NOW = time.mktime((2026, 12, 3, 12, 0, 0, 0, 0, -1))
DAY = 86400.0


def message(text: str, when: float = NOW, *, own: bool = False) -> Line:
    return Line("#lobby", LineKind.MESSAGE, "Doe", text, when, own)


def style_at(text: Text, needle: str) -> Style:
    """The style of the first character of `needle` in `text`."""
    return text.get_style_at_offset(CONSOLE, text.plain.index(needle))


def test_lines_of_today_show_the_time_older_ones_the_date_too() -> None:
    """Item 22: a line older than today has its date, so history is unambiguous."""
    today, _ = render_entry(message("hi"), now=NOW)
    assert today.plain == "12:00 <Doe> hi"
    old, prefix = render_entry(message("hi", NOW - 2 * DAY), now=NOW)
    assert old.plain == "12-01 12:00 <Doe> hi"
    assert prefix == len("12-01 12:00 <Doe> ")


def test_a_day_changed_line_between_lines_of_different_days() -> None:
    """Item 22: consecutive lines of different local days get a "Day changed" line."""
    assert day_changed(None, NOW) is None
    assert day_changed(NOW - 60, NOW) is None
    note = day_changed(NOW - DAY, NOW)
    assert note is not None
    assert note.plain == "Day changed to 03 Dec 2026"


def test_irc_formatting_becomes_styles_and_the_codes_go() -> None:
    """Item 23: bold, colours, italics, underline, strikethrough, reverse and reset show."""
    raw = (
        "\x02bold\x02 \x0304,01red\x03 \x1ditalic\x1d \x1funder\x1f"
        " \x1estruck\x1e \x16rev\x16 \x02\x0312both\x0f plain \x0399ext\x03 \x1152mono"
    )
    text, _ = render_entry(message(raw), now=NOW)
    assert text.plain == "12:00 <Doe> bold red italic under struck rev both plain ext 52mono"
    assert style_at(text, "bold").bold
    red = style_at(text, "red")
    assert red.color is not None
    assert red.color.triplet is not None
    assert red.color.triplet.hex == "#ff0000"
    assert red.bgcolor is not None
    assert red.bgcolor.triplet is not None
    assert red.bgcolor.triplet.hex == "#000000"
    assert style_at(text, "italic").italic
    assert style_at(text, "under").underline
    assert style_at(text, "struck").strike
    assert style_at(text, "rev").reverse
    both = style_at(text, "both")
    assert both.bold
    assert both.color is not None
    plain = style_at(text, "plain")
    assert not plain.bold
    assert plain.color is None
    assert style_at(text, "ext").color is None  # 99: the default colour


def test_extended_colours_map_to_a_colour() -> None:
    text, _ = render_entry(message("\x0352orange\x0398"), now=NOW)
    colour = style_at(text, "orange").color
    assert colour is not None
    assert colour.triplet is not None
    assert colour.triplet.hex == "#ff0000"


def test_formatting_is_never_markup() -> None:
    """Chat text stays plain text: rich markup in it is shown as typed."""
    text, _ = render_entry(message("\x02[red]x[/red]\x02 [link=http://evil]y[/link]"), now=NOW)
    assert text.plain == "12:00 <Doe> [red]x[/red] [link=http://evil]y[/link]"
    assert style_at(text, "[link").link is None


def test_urls_are_links() -> None:
    """Item 23: a URL in a message carries a link style (clickable, OSC 8)."""
    text, _ = render_entry(
        message("see https://example.org/a?b=1, and (http://x.test/p)."), now=NOW
    )
    assert style_at(text, "https://").link == "https://example.org/a?b=1"
    assert style_at(text, "http://x").link == "http://x.test/p"
    assert style_at(text, "see").link is None


def test_own_actions_are_marked_like_own_messages() -> None:
    """Item 23: your own /me line has the ▶ marker too."""
    own = Line("#lobby", LineKind.ACTION, "John", "waves", NOW, own=True)
    text, prefix = render_entry(own, now=NOW)
    assert text.plain == "12:00 ▶ * John waves"
    assert text.plain[prefix:] == "waves"
