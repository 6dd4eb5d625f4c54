"""Registration, PING/PONG, QUIT and timers over real loopback sockets.

No sleeps: every wait is a read with the client's timeout. To show that
something did *not* arrive, a test sends PING and reads up to its PONG: the
server answers in order, so whatever it would have sent is in between.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from easychat.chat.config import CoreConfig
from easychat.proto import numerics as n
from easychat.proto.message import Message
from tests.ircclient import IRCClient, RunningServer

Connect = Callable[[], IRCClient]


def sync(client: IRCClient) -> list[Message]:
    """Everything the server sends `client` up to the answer to a fresh PING."""
    client.send("PING :sync")
    return client.until("PONG")


def commands(messages: list[Message]) -> list[str]:
    """The commands of `messages`, in order."""
    return [m.command for m in messages]


@pytest.fixture
def opened() -> Iterator[list[IRCClient]]:
    """Clients opened by hand on custom servers; closed after the test."""
    clients: list[IRCClient] = []
    yield clients
    for client in clients:
        client.close()


def open_on(server: RunningServer, opened: list[IRCClient]) -> IRCClient:
    """A new client on `server`, closed after the test."""
    client = server.client()
    opened.append(client)
    return client


# -- the welcome burst --------------------------------------------------------


def test_burst(connect: Connect) -> None:
    """001 to 005 in order, the customer number, ISUPPORT tokens, ERR_NOMOTD,
    then the autojoin of #lobby with its NAMES."""
    alice = connect()
    burst = alice.register("alice")
    cmds = commands(burst)
    assert cmds[:5] == ["001", "002", "003", "004", "005"]
    assert burst[0].params == ("alice", "Welcome to Easy Chat! You are customer number 1")
    tokens = " ".join(" ".join(m.params[1:-1]) for m in burst if m.command == "005").split()
    for token in ("CASEMAPPING=ascii", "CHANTYPES=#", "PREFIX=(ov)@+", "NETWORK=EasyChat"):
        assert token in tokens
    for key in ("NICKLEN=", "CHANNELLEN=", "TOPICLEN="):
        assert any(t.startswith(key) for t in tokens), key
    assert n.ERR_NOMOTD in cmds
    join = burst[cmds.index("JOIN")]
    assert join.params == ("#lobby",)
    assert join.source == "alice!alice@127.0.0.1"
    assert cmds.index("JOIN") > cmds.index(n.ERR_NOMOTD)
    assert cmds[-1] == n.RPL_ENDOFNAMES


def test_customer_number_counts_customers(connect: Connect) -> None:
    """N counts the customers welcomed, not connections: a port probe that
    never registers takes no number, so the first to log in is number 1."""
    probe = connect()
    probe.close()  # a port check: connects and goes, never a line
    idle = connect()
    idle.send("PING :here")  # make sure the server has accepted it first
    idle.expect("PONG")
    idle.close()
    bob = connect()
    assert bob.register("bob")[0].params[-1] == "Welcome to Easy Chat! You are customer number 1"
    carol = connect()
    assert carol.register("carol")[0].params[-1].endswith("customer number 2")


def test_motd(make_server: Callable[..., RunningServer], opened: list[IRCClient]) -> None:
    """A configured MOTD comes as 375, one 372 per line, 376."""
    server = make_server(CoreConfig(motd=("Hello there.", "Be kind."), autojoin=()))
    client = open_on(server, opened)
    burst = client.register("alice", autojoined=False)
    cmds = commands(burst)
    assert cmds[-4:] == [n.RPL_MOTDSTART, n.RPL_MOTD, n.RPL_MOTD, n.RPL_ENDOFMOTD]
    assert [m.params[-1] for m in burst if m.command == n.RPL_MOTD] == [
        "- Hello there.",
        "- Be kind.",
    ]


def test_no_autojoin(make_server: Callable[..., RunningServer], opened: list[IRCClient]) -> None:
    """With CoreConfig(autojoin=()) nobody is put in a room."""
    server = make_server(CoreConfig(autojoin=()))
    client = open_on(server, opened)
    burst = client.register("alice", autojoined=False)
    assert commands(burst)[-1] == n.ERR_NOMOTD
    assert "JOIN" not in commands(burst + sync(client))


# -- CAP ----------------------------------------------------------------------


def test_cap_negotiation_holds_registration(connect: Connect) -> None:
    """ "If a client issues an LS subcommand, registration must be suspended
    until an END subcommand is received.\""""
    client = connect()
    client.send("CAP LS 302")
    ls = client.expect("CAP")
    assert ls.params[:2] == ("*", "LS")
    client.send("NICK alice")
    client.send("USER alice 0 * :Alice")
    assert n.RPL_WELCOME not in commands(sync(client))
    client.send("CAP REQ :example.org/no-such-cap")
    # Replies name the client by its nick once it has one, registered or not.
    assert client.expect("CAP").params == ("alice", "NAK", "example.org/no-such-cap")
    client.send("CAP LIST")
    assert client.expect("CAP").params == ("alice", "LIST", "")
    client.send("CAP END")
    assert client.expect("001").params[0] == "alice"
    client.expect(n.RPL_ENDOFNAMES)


def test_cap_invalid_subcommand(connect: Connect) -> None:
    """ "If a client sends a subcommand which is not in the list above ... then
    numeric 410 (ERR_INVALIDCAPCMD) should be sent.\""""
    client = connect()
    client.send("CAP FOO")
    assert client.expect(n.ERR_INVALIDCAPCMD).params[:2] == ("*", "FOO")
    client.send("CAP :two words")  # cannot be echoed as is: still an answer, no drop
    client.expect(n.ERR_INVALIDCAPCMD)
    client.register("alice")


# -- NICK ---------------------------------------------------------------------


def test_nick_errors(connect: Connect) -> None:
    """431 for no nick, 432 for an invalid one, 433 for one in use (compared
    case-insensitively); the connection stays and can then register."""
    connect().register("Alice")
    client = connect()
    client.send("NICK")
    assert client.expect(n.ERR_NONICKNAMEGIVEN).params[0] == "*"
    client.send("NICK #lobby")
    assert client.expect(n.ERR_ERRONEUSNICKNAME).params[:2] == ("*", "#lobby")
    client.send("NICK ::colon")
    client.expect(n.ERR_ERRONEUSNICKNAME)
    client.send("NICK aLiCe")
    assert client.expect(n.ERR_NICKNAMEINUSE).params[:2] == ("*", "aLiCe")
    assert client.register("bob")[0].params[0] == "bob"


def test_nick_change_seen_once(connect: Connect) -> None:
    """The NICK change reaches the changer and each client sharing a room with
    it exactly once, even when they share two rooms."""
    alice = connect()
    alice.register("alice")
    bob = connect()
    bob.register("bob")
    for client in (alice, bob):
        client.send("JOIN #extra")
        client.expect("366")
    alice.expect("JOIN", lambda m: m.nick == "bob" and m.params[0] == "#extra")
    alice.send("NICK alicia")
    mine = alice.expect("NICK")
    assert mine.source == "alice!alice@127.0.0.1"
    assert mine.params == ("alicia",)
    seen = bob.expect("NICK")
    assert seen.source == "alice!alice@127.0.0.1"
    assert seen.params == ("alicia",)
    assert "NICK" not in commands(sync(bob))
    assert "NICK" not in commands(sync(alice))


def test_nick_case_change(connect: Connect) -> None:
    """A client may change only the case of its own nick."""
    alice = connect()
    alice.register("alice")
    alice.send("NICK ALICE")
    change = alice.expect(("NICK", n.ERR_NICKNAMEINUSE))
    assert change.command == "NICK"
    assert change.params == ("ALICE",)


# -- USER, PASS, registration gate ----------------------------------------------


def test_user_errors(connect: Connect) -> None:
    """461 for too few USER parameters or an empty realname, 462 for USER
    after registration."""
    client = connect()
    client.send("USER alice 0 *")
    assert client.expect(n.ERR_NEEDMOREPARAMS).params[:2] == ("*", "USER")
    client.send("USER alice 0 * :")  # an empty realname: "<client> <command> :..."
    assert client.expect(n.ERR_NEEDMOREPARAMS).params[:2] == ("*", "USER")
    client.register("alice")
    client.send("USER again 0 * :Again")
    assert client.expect(n.ERR_ALREADYREGISTERED).params[0] == "alice"


def test_pass_is_accepted(connect: Connect) -> None:
    """PASS before NICK/USER is accepted (no password configured)."""
    client = connect()
    client.send("PASS whatever")
    assert client.register("alice")[0].command == n.RPL_WELCOME
    client.send("PASS again")
    client.expect(n.ERR_ALREADYREGISTERED)


def test_commands_before_registration(connect: Connect) -> None:
    """Other commands before registration get 451 and do nothing."""
    client = connect()
    client.send("JOIN #lobby")
    assert client.expect(n.ERR_NOTREGISTERED).params[0] == "*"
    client.send("PRIVMSG #lobby :hi")
    client.expect(n.ERR_NOTREGISTERED)
    client.register("alice")


def test_unknown_command_and_missing_params(connect: Connect) -> None:
    """421 for an unknown command, 461 for too few parameters."""
    client = connect()
    client.register("alice")
    client.send("FROB a b")
    assert client.expect(n.ERR_UNKNOWNCOMMAND).params[:2] == ("alice", "FROB")
    client.send("JOIN")
    assert client.expect(n.ERR_NEEDMOREPARAMS).params[:2] == ("alice", "JOIN")


def test_invalid_utf8(connect: Connect) -> None:
    """Non-UTF-8 input gets `FAIL <cmd> INVALID_UTF8`; nothing is relayed and
    the connection stays."""
    alice = connect()
    alice.register("alice")
    bob = connect()
    bob.register("bob")
    alice.send_raw(b"PRIVMSG #lobby :caf\xe9\r\n")
    fail = alice.expect("FAIL")
    assert fail.params[:2] == ("PRIVMSG", "INVALID_UTF8")
    alice.send("PRIVMSG #lobby :still here")
    got = bob.expect("PRIVMSG")
    assert got.params == ("#lobby", "still here")


# -- PING / PONG ----------------------------------------------------------------


def test_client_ping(connect: Connect) -> None:
    """The server answers PING with PONG <server> <token>."""
    client = connect()
    client.send("PING :tok en")
    pong = client.expect("PONG")
    assert pong.params[-1] == "tok en"
    assert len(pong.params) == 2


def test_server_ping_answered_keeps_client(
    make_server: Callable[..., RunningServer], opened: list[IRCClient]
) -> None:
    """The server PINGs an idle client; answering (IRCClient answers every PING
    it reads) keeps it connected well past interval + timeout."""
    server = make_server(CoreConfig(ping_interval=0.2, ping_timeout=0.3))
    client = open_on(server, opened)
    client.register("alice")
    for _ in range(4):  # at least 4 * 0.2 s > 0.2 + 0.3 s
        ping = client.expect("PING")
        assert ping.params == (server.core.config.server_name,)
    client.send("PING :alive")
    assert client.expect("PONG").params[-1] == "alive"


def test_ping_timeout(make_server: Callable[..., RunningServer], opened: list[IRCClient]) -> None:
    """A client that does not answer PING is dropped: it gets ERROR and is
    closed, and others see QUIT "Ping timeout: N seconds"."""
    server = make_server(CoreConfig(ping_interval=0.3, ping_timeout=0.5))
    watcher = open_on(server, opened)
    watcher.register("watcher")
    victim = open_on(server, opened)
    victim.register("victim")
    watcher.expect("JOIN", lambda m: m.nick == "victim")
    # The watcher keeps reading (and so answering its own PINGs) while the
    # victim reads nothing and never answers.
    quit_msg = watcher.expect("QUIT", lambda m: m.nick == "victim")
    assert re.fullmatch(r"Ping timeout: \d+ seconds", quit_msg.params[0])
    raw: list[bytes] = []
    while (line := victim.read_line()) is not None:  # raw reads never answer PING
        raw.append(line)
    assert any(line.split(b" ")[1:2] == [b"PING"] or line.startswith(b"PING") for line in raw)
    assert raw[-1].startswith(b"ERROR ")
    assert b"Ping timeout" in raw[-1]


def test_registration_timeout(
    make_server: Callable[..., RunningServer], opened: list[IRCClient]
) -> None:
    """A connection that does not register in time gets ERROR and is closed."""
    server = make_server(CoreConfig(registration_timeout=0.3))
    client = open_on(server, opened)
    client.send("NICK slowpoke")
    got = client.expect_closed()
    assert commands(got)[-1] == "ERROR"
    assert "Registration timed out" in got[-1].params[0]


# -- QUIT -----------------------------------------------------------------------


def test_quit(connect: Connect) -> None:
    """ "The server acknowledges this by replying with an ERROR message and
    closing the connection to the client"; others see `Quit: <reason>`."""
    alice = connect()
    alice.register("alice")
    bob = connect()
    bob.register("bob")
    alice.expect("JOIN", lambda m: m.nick == "bob")
    bob.send("QUIT :see you")
    got = bob.expect_closed()
    assert commands(got) == ["ERROR"]
    quit_msg = alice.expect("QUIT")
    assert quit_msg.source == "bob!bob@127.0.0.1"
    assert quit_msg.params == ("Quit: see you",)
    again = connect()
    assert again.register("bob")[0].command == n.RPL_WELCOME  # the nick is free


def test_hang_up_tells_others(connect: Connect) -> None:
    """A connection closed without QUIT still makes the others see a QUIT."""
    alice = connect()
    alice.register("alice")
    bob = connect()
    bob.register("bob")
    alice.expect("JOIN", lambda m: m.nick == "bob")
    bob.close()
    quit_msg = alice.expect("QUIT")
    assert quit_msg.nick == "bob"
    assert quit_msg.params[0]
