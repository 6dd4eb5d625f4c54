"""Tests the console's message lines as a real `easychat serve` writes them to its stdout.

The seed's view (`<nick> #room: text`) up to a rate, then a count per room
a second; `--log-messages summary|off`; and a private message's text never
on the console, at any log level.
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from easychat.chat.config import CoreConfig
from easychat.cli.commands import build_parser
from easychat.cli.serve import SERVE_OPTIONS
from easychat.cli.settings import SettingsError, resolve
from easychat.net.messagelog import MessageLogMode
from tests.chatcore_harness import CoreDriver
from tests.ircclient import TIMEOUT, IRCClient
from tests.nolimits import NO_ABUSE_FLAGS
from tests.serverproc import ServerProcess, clean_env, server_process
from tests.unreadserver import free_port, wait_listening

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO    "
SUMMARY = re.compile(r"#lobby: ([\d,]+) messages in the last second(?:, (\d+) of them shown)?$")
ROOM_LINE = re.compile(r"<alice> #lobby: ")


def stopped_output(server: ServerProcess) -> list[str]:
    """Stops the server with SIGTERM (it shuts down cleanly) and returns all it wrote."""
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(TIMEOUT * 4) == 0
    while (line := server.lines.get(timeout=TIMEOUT)) is not None:
        server.output.append(line)
    return server.output


Pair = tuple[ServerProcess, IRCClient, IRCClient]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Pair]]:
    """Starts `easychat serve EXTRA...` with alice and bob in #lobby; all closed at the end."""
    with contextlib.ExitStack() as stack:

        def started(*extra: str) -> Pair:
            server = stack.enter_context(server_process(tmp_path / "h.sqlite3", *extra))
            alice, bob = IRCClient(server.port), IRCClient(server.port)
            stack.callback(alice.close)
            stack.callback(bob.close)
            alice.register("alice")
            bob.register("bob")
            return server, alice, bob

        yield started


def relay(alice: IRCClient, bob: IRCClient, lines: list[str]) -> None:
    """Alice sends `lines` in one write; returns once bob has every one of them."""
    alice.send_raw("".join(f"{line}\r\n" for line in lines).encode())
    for _ in lines:
        bob.expect(("PRIVMSG", "NOTICE"))


def test_a_room_message_shows_as_the_seed_showed_it(start: Callable[..., Pair]) -> None:
    """`<nick> #room: text` after the log's timestamp, from the fast and the general path."""
    server, alice, bob = start()
    relay(alice, bob, ["PRIVMSG #lobby :hello there", "PRIVMSG #lobby,#LOBBY :general path"])
    server.wait_for(re.compile(rf"^{STAMP}<alice> #lobby: hello there$"))
    server.wait_for(re.compile(rf"^{STAMP}<alice> #lobby: general path$"))


def test_control_characters_do_not_reach_the_console(start: Callable[..., Pair]) -> None:
    """Chat text is untrusted: an escape sequence shows as '?', not as a terminal command."""
    server, alice, bob = start()
    relay(alice, bob, ["PRIVMSG #lobby :red \x1b[31mtext\x07 \u009b2J"])
    line = server.wait_for(re.compile(r"<alice> #lobby: red")).string
    assert line.endswith("<alice> #lobby: red ?[31mtext? ?2J")


def test_control_characters_in_log_records_do_not_reach_the_console(
    start: Callable[..., Pair],
) -> None:
    """The log's own records carry untrusted text too (a topic, a quit
    reason): their control characters show as '?', as in message lines."""
    server, alice, _bob = start()
    alice.send("TOPIC #lobby :\x1b[2Jcleared")
    alice.expect("TOPIC")
    alice.send("QUIT :bye\x1b]0;owned\x07\u009b")
    server.wait_for(re.compile(r"alice disconnected"))
    output = stopped_output(server)
    text = "\n".join(output)
    assert "set the topic of #lobby to" in text
    assert "bye?]0;owned??" in text
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text), output


def test_private_text_is_never_on_the_console(start: Callable[..., Pair]) -> None:
    """Only that a private message passed is shown, on either path, at the debug level."""
    server, alice, bob = start("--log-level", "debug")
    relay(
        alice,
        bob,
        [
            "PRIVMSG bob :secret-one",  # the fast path
            "NOTICE bob :secret-two",
            "@+draft/reply=x PRIVMSG bob :secret-three",  # the general path
            "PRIVMSG bob,nobody :secret-four",
        ],
    )
    bob.send("AWAY :out")
    bob.expect("306")
    alice.send("PRIVMSG bob :secret-five")  # an away peer: the general path
    alice.expect("301")
    bob.expect("PRIVMSG")
    output = stopped_output(server)
    passed = [line for line in output if line.endswith("<alice> -> bob (private)")]
    assert len(passed) == 5, output
    assert not [line for line in output if "secret" in line.lower()]


def test_a_busy_room_is_summarised_once_a_second(start: Callable[..., Pair]) -> None:
    """Beyond the rate, lines are counted: each message is a line or in a count, once."""
    server, alice, bob = start("--log-messages-rate", "5")
    relay(alice, bob, [f"PRIVMSG #lobby :line {i}" for i in range(300)])
    output = stopped_output(server)
    shown = [line for line in output if ROOM_LINE.search(line)]
    summaries = [m for line in output if (m := SUMMARY.search(line))]
    assert summaries, output
    counted = sum(int(m.group(1).replace(",", "")) - int(m.group(2)) for m in summaries)
    assert all(m.group(2) == "5" for m in summaries)
    assert len(shown) + counted == 300
    assert len(shown) <= 5 * len(summaries) + 5  # at most the rate in each second


def test_summary_shows_counts_only(start: Callable[..., Pair]) -> None:
    """`--log-messages summary`: no message line, only a count per room a second."""
    server, alice, bob = start("--log-messages", "summary")
    relay(alice, bob, [f"PRIVMSG #lobby :line {i}" for i in range(30)])
    output = stopped_output(server)
    assert not [line for line in output if ROOM_LINE.search(line)]
    summaries = [m for line in output if (m := SUMMARY.search(line))]
    assert sum(int(m.group(1)) for m in summaries) == 30
    assert all(m.group(2) is None for m in summaries)


def test_off_shows_no_messages(start: Callable[..., Pair]) -> None:
    """`--log-messages off`: neither lines nor counts, while the rest of the log stays."""
    server, alice, bob = start("--log-messages", "off")
    relay(alice, bob, [f"PRIVMSG #lobby :line {i}" for i in range(30)])
    relay(alice, bob, ["PRIVMSG bob :hi"])
    output = stopped_output(server)
    assert not [line for line in output if "<alice>" in line or "in the last second" in line]
    assert [line for line in output if line.endswith("bob joined #lobby")]


def test_log_level_warning_keeps_message_text_off(tmp_path: Path) -> None:
    """Message lines are at the info level: `--log-level warning` shows none (SECURITY.md).

    Without info lines there is no "listening on" line to learn the port
    from, so the server gets a free port and is polled until it listens.
    """
    port = free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "easychat", "serve", "--host", "127.0.0.1"),
            *("--port", str(port), "--db", str(tmp_path / "h.sqlite3"), *NO_ABUSE_FLAGS),
            *("--log-level", "warning"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=clean_env(),
    )
    try:
        wait_listening(proc, port, TIMEOUT * 4)
        alice, bob = IRCClient(port), IRCClient(port)
        try:
            alice.register("alice")
            bob.register("bob")
            relay(alice, bob, [f"PRIVMSG #lobby :line {i}" for i in range(30)])
        finally:
            alice.close()
            bob.close()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=TIMEOUT * 4)
    finally:
        proc.kill()
        proc.wait()
    assert b"Waiting for a connection..." in output
    assert b"<alice>" not in output
    assert b"in the last second" not in output


def test_the_settings_come_from_env_and_toml_too(tmp_path: Path) -> None:
    """Like every setting: EASYCHAT_LOG_MESSAGES, EASYCHAT_LOG_MESSAGES_RATE, or the TOML file."""
    args = build_parser().parse_args(["serve"])
    assert resolve(args, SERVE_OPTIONS, {})["log_messages"] is MessageLogMode.ON
    env = {"EASYCHAT_LOG_MESSAGES": "off", "EASYCHAT_LOG_MESSAGES_RATE": "7"}
    values = resolve(args, SERVE_OPTIONS, env)
    assert values["log_messages"] is MessageLogMode.OFF
    assert values["log_messages_rate"] == 7
    toml = tmp_path / "easychat.toml"
    toml.write_text('log-messages = "summary"\nconsole-buffer = 65536\n')
    values = resolve(args, SERVE_OPTIONS, {"EASYCHAT_CONFIG": str(toml)})
    assert values["log_messages"] is MessageLogMode.SUMMARY
    assert values["console_buffer"] == 65536
    with pytest.raises(SettingsError, match="off, summary or on"):
        resolve(args, SERVE_OPTIONS, {"EASYCHAT_LOG_MESSAGES": "loud"})


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "general path"])
def test_the_core_notes_who_spoke_where_and_never_private_text(fast: bool) -> None:
    """The sans-IO core's note of each relayed message: room text as bytes, private without."""
    drv = CoreDriver(CoreConfig(autojoin=()))
    drv.core.fast_relay = fast
    alice = drv.register("Alice", "#Room")
    drv.register("bob", "#room")
    drv.core.relayed = []
    drv.send(alice, "PRIVMSG #room :hi there")
    drv.send(alice, "NOTICE #ROOM :note")
    drv.send(alice, "PRIVMSG BOB :secret")
    drv.send(alice, "NOTICE bob :secret")
    assert drv.core.relayed == [
        ("Alice", "#Room", b"hi there"),
        ("Alice", "#Room", b"note"),
        ("Alice", "bob", None),
        ("Alice", "bob", None),
    ]


def test_nothing_is_noted_without_a_console() -> None:
    """`relayed` None (a core without a console's message log) notes nothing."""
    drv = CoreDriver(CoreConfig(autojoin=()))
    alice = drv.register("alice", "#room")
    drv.send(alice, "PRIVMSG #room :hi")
    assert drv.core.relayed is None
