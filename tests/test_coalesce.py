"""The server coalesces a turn's messages to a room; every member still sees them in order."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.ircclient import IRCClient, RunningServer
from tests.nolimits import unlimited

LINES = 50


@pytest.mark.parametrize("with_echo", [False, True], ids=["same-caps", "one-echo-client"])
def test_bursts_into_a_room_arrive_whole_and_in_order(
    make_server: Callable[..., RunningServer], with_echo: bool
) -> None:
    """Four members each send 50 lines in one write: each member gets the other
    three's lines, each sender's in its order, and none of its own (no echo);
    a member with echo-message also gets its own, in order."""
    server = make_server(unlimited())
    clients = [IRCClient(server.port) for _ in range(4)]
    try:
        echo = clients[3] if with_echo else None
        if echo is not None:  # a different capability class: the per-class path
            echo.send("CAP REQ :echo-message")
            echo.send("CAP END")
        for i, client in enumerate(clients):
            client.register(f"user{i}")
        for i, client in enumerate(clients):
            for j in range(i + 1, len(clients)):
                client.expect("JOIN", lambda m, nick=f"user{j}": m.nick == nick)
        for i, client in enumerate(clients):
            burst = "".join(f"PRIVMSG #lobby :{i}:{n}\r\n" for n in range(LINES))
            client.send_raw(burst.encode())
        for i, client in enumerate(clients):
            expected = 3 * LINES + (LINES if client is echo else 0)
            got: dict[str, list[int]] = {}
            for _ in range(expected):
                msg = client.expect("PRIVMSG")
                sender, number = msg.params[1].split(":")
                got.setdefault(sender, []).append(int(number))
            senders = {str(j) for j in range(4) if j != i or client is echo}
            assert set(got) == senders
            assert all(numbers == list(range(LINES)) for numbers in got.values())
    finally:
        for client in clients:
            client.close()


def test_private_bursts_between_three_people_arrive_whole_and_in_order(
    make_server: Callable[..., RunningServer],
) -> None:
    """Private lines are coalesced per recipient too: two people each write 50
    lines to a third and 50 to each other in one write; everyone gets what was
    addressed to them, each sender's lines in order, interleaved runs intact."""
    server = make_server(unlimited())
    clients = [IRCClient(server.port) for _ in range(3)]
    try:
        for i, client in enumerate(clients):
            client.register(f"user{i}")
        for i in (0, 1):
            other = 1 - i
            burst = "".join(
                f"PRIVMSG user2 :{i}:{n}\r\nPRIVMSG user{other} :{i}:{n}\r\n" for n in range(LINES)
            )
            clients[i].send_raw(burst.encode())
        for i, client in enumerate(clients):
            senders = ["0", "1"] if i == 2 else [str(1 - i)]
            got: dict[str, list[int]] = {}
            for _ in range(LINES * len(senders)):
                msg = client.expect("PRIVMSG")
                assert msg.params[0] == f"user{i}"
                sender, number = msg.params[1].split(":")
                got.setdefault(sender, []).append(int(number))
            assert sorted(got) == senders
            assert all(numbers == list(range(LINES)) for numbers in got.values())
    finally:
        for client in clients:
            client.close()
