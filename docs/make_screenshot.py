"""Renders docs/screenshot.svg: the seed's conversation in a real client and server, at 80x24.

Run from the repository root: `.venv/bin/python docs/make_screenshot.py`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ircclient import IRCClient, RunningServer  # noqa: E402

from easychat.tui.app import ClientSettings, EasyChatApp  # noqa: E402
from easychat.tui.screens.chat import ChatScreen  # noqa: E402


async def until(pilot: Pilot[None], done: Callable[[], bool]) -> None:
    """Lets the app run until `done()` holds (at most 10 s)."""
    for _ in range(200):
        if done():
            return
        await pilot.pause(0.05)
    raise TimeoutError("the conversation did not happen")


def lobby_has(app: EasyChatApp, text: str) -> bool:
    """Whether the current conversation shows a line containing `text`."""
    screen = app.screen
    return isinstance(screen, ChatScreen) and any(
        text in line.text for line in screen.conversations.current.lines
    )


async def main() -> None:
    """John logs in, Doe greets him, John answers, Doe packs."""
    server = RunningServer()
    with tempfile.TemporaryDirectory() as logs:
        settings = ClientSettings(
            nick="John", server=f"127.0.0.1:{server.port}", log_dir=Path(logs)
        )
        app = EasyChatApp(settings)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("enter")
            await until(pilot, lambda: lobby_has(app, "You joined #lobby"))
            doe = IRCClient(server.port)  # after John, so he is customer number 1
            await asyncio.to_thread(doe.register, "Doe")
            doe.send(
                "PRIVMSG #lobby :Hello John, how are you? I heard you are going on a trip"
                " next week, tell me everything!"
            )
            await until(pilot, lambda: lobby_has(app, "Hello John"))
            chat = app.screen
            assert isinstance(chat, ChatScreen)
            chat.prefill("Fine. Let's go to San Francisco")
            await pilot.press("enter")
            await asyncio.to_thread(doe.expect, "PRIVMSG")
            doe.send("PRIVMSG #lobby :\x01ACTION packs a suitcase\x01")
            await until(pilot, lambda: lobby_has(app, "suitcase"))
            for field in chat.query("Input"):
                field.cursor_blink = False  # type: ignore[attr-defined]
            await pilot.pause(0.2)
            app.save_screenshot("screenshot.svg", str(ROOT / "docs"))
            doe.close()
    server.stop()


if __name__ == "__main__":
    asyncio.run(main())
