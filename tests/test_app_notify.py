"""The client uses away-notify, setname and invite-notify from our server, visibly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.apphelpers import SIZE, Peer, has_text, log_in, make_app, send_text, wait_for
from tests.ircclient import RunningServer


async def test_away_names_and_invitations_of_others_are_shown(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """A peer going away marks it in the member list (away-notify, no polling),
    its new realname is a line in the room (setname), and an invitation it
    sends into our room is shown there (invite-notify)."""
    doe = peers("Doe")
    await doe.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        assert app.session is not None
        assert {"away-notify", "setname", "invite-notify"} <= app.session.caps
        lobby = screen.conversations.current

        def doe_away() -> bool:
            return any(m.nick == "Doe" and m.away for m in screen.members["#lobby"])

        await wait_for(pilot, lambda: any(m.nick == "Doe" for m in screen.members["#lobby"]))
        assert not doe_away()
        await doe.send("AWAY :lunch")
        await wait_for(pilot, doe_away)
        await doe.send("AWAY")
        await wait_for(pilot, lambda: not doe_away())

        await doe.send("SETNAME :Jane Doe")
        await wait_for(pilot, lambda: has_text(lobby, "Doe is now called Jane Doe"))

        roe = peers("Roe")
        await roe.register()
        await send_text(pilot, "/join #team")
        await doe.send("JOIN #team")
        await wait_for(pilot, lambda: any(m.nick == "Doe" for m in screen.members["#team"]))
        await doe.send("INVITE Roe #team")
        await roe.expect("INVITE")
        team = screen.conversations.current
        await wait_for(pilot, lambda: has_text(team, "Doe invited Roe"))
