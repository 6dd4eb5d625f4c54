"""Chat-core tests for registration: CAP, NICK, USER, PASS, PING, QUIT, timers.

No sockets: each test drives ChatCore through `CoreDriver` with a fake clock.
"""

from __future__ import annotations

import re

import pytest

from easychat.chat.config import CoreConfig
from easychat.chat.core import ChatCore
from easychat.chat.handlers import registration
from easychat.proto import numerics as n
from easychat.proto.message import Message
from tests.chatcore_harness import CoreDriver, FakeClock, commands, only

SERVER = CoreConfig().server_name


@pytest.fixture
def drv() -> CoreDriver:
    """A core on its defaults (autojoin #lobby, no MOTD)."""
    return CoreDriver()


def isupport(burst: list[Message]) -> dict[str, str]:
    """The RPL_ISUPPORT tokens of a burst as a dict (valueless tokens map to '')."""
    tokens: dict[str, str] = {}
    for msg in burst:
        if msg.command == n.RPL_ISUPPORT:
            assert msg.params[-1] == "are supported by this server"
            for token in msg.params[1:-1]:
                key, _, value = token.partition("=")
                tokens[key] = value
    return tokens


# -- the welcome burst --------------------------------------------------------


def test_welcome_counts_customers(drv: CoreDriver) -> None:
    """001 says "Welcome to Easy Chat! You are customer number N", N counting
    the clients welcomed since the server started, in the order they
    registered; a connection that never registers takes no number."""
    first = drv.open()
    drv.open()  # connects, never registers
    third = drv.open()
    drv.send(third, "NICK carol")
    burst = drv.send(third, "USER carol 0 * :Carol")
    welcome = burst[0]
    assert welcome.command == n.RPL_WELCOME
    assert welcome.source == SERVER
    assert welcome.params == ("carol", "Welcome to Easy Chat! You are customer number 1")
    drv.send(first, "NICK alice")
    burst = drv.send(first, "USER alice 0 * :Alice")
    assert burst[0].params[-1] == "Welcome to Easy Chat! You are customer number 2"


def test_burst_order(drv: CoreDriver) -> None:
    """ "Upon successful completion of the registration process, the server MUST
    send, in this order, the RPL_WELCOME, RPL_YOURHOST, RPL_CREATED, RPL_MYINFO,
    and at least one RPL_ISUPPORT numeric to the client. ... The server MUST then
    respond as though the client sent it the MOTD command"."""
    conn = drv.open()
    drv.send(conn, "NICK alice")
    burst = drv.send(conn, "USER alice 0 * :Alice")
    cmds = commands(burst)
    assert cmds[:5] == ["001", "002", "003", "004", "005"]
    assert n.RPL_LUSERCLIENT in cmds
    assert cmds.index(n.ERR_NOMOTD) > cmds.index(n.RPL_LUSERME)
    assert all(m.params[0] == "alice" for m in burst if m.command.isdigit())
    yourhost = burst[1].params[-1]
    assert yourhost.startswith(f"Your host is {SERVER}, running version ")
    myinfo = burst[3].params
    assert myinfo[1] == SERVER
    assert len(myinfo) >= 5


def test_isupport_tokens(drv: CoreDriver) -> None:
    """005 advertises CASEMAPPING=ascii, CHANTYPES, PREFIX, NICKLEN, CHANNELLEN,
    TOPICLEN and NETWORK, each RPL_ISUPPORT with 1-13 tokens."""
    conn = drv.open()
    drv.send(conn, "NICK alice")
    burst = drv.send(conn, "USER alice 0 * :Alice")
    for msg in burst:
        if msg.command == n.RPL_ISUPPORT:
            assert 1 <= len(msg.params) - 2 <= 13
    tokens = isupport(burst)
    assert tokens["CASEMAPPING"] == "ascii"
    assert tokens["CHANTYPES"] == "#"
    assert tokens["PREFIX"] == "(ov)@+"
    assert tokens["NICKLEN"] == "30"
    assert tokens["CHANNELLEN"] == "50"
    assert tokens["TOPICLEN"] == "390"
    assert tokens["NETWORK"] == "EasyChat"


def test_isupport_follows_config() -> None:
    """The advertised lengths and network name are the configured ones."""
    drv = CoreDriver(CoreConfig(nicklen=12, channellen=20, topiclen=100, network="TestNet"))
    conn = drv.open()
    drv.send(conn, "NICK alice")
    tokens = isupport(drv.send(conn, "USER alice 0 * :Alice"))
    assert tokens["NICKLEN"] == "12"
    assert tokens["CHANNELLEN"] == "20"
    assert tokens["TOPICLEN"] == "100"
    assert tokens["NETWORK"] == "TestNet"


def test_nicklen_is_enforced() -> None:
    """A nick longer than the advertised NICKLEN is refused with 432."""
    drv = CoreDriver(CoreConfig(nicklen=5))
    conn = drv.open()
    reply = only(drv.send(conn, "NICK abcdef"), n.ERR_ERRONEUSNICKNAME)
    assert reply.params[:2] == ("*", "abcdef")
    assert n.ERR_ERRONEUSNICKNAME not in commands(drv.send(conn, "NICK abcde"))


def test_motd_configured() -> None:
    """ "it must send either the successful Message of the Day numerics or the
    ERR_NOMOTD numeric": 375, one 372 per line, 376."""
    drv = CoreDriver(CoreConfig(motd=("Be nice.", "Have fun."), autojoin=()))
    conn = drv.open()
    drv.send(conn, "NICK alice")
    burst = drv.send(conn, "USER alice 0 * :Alice")
    cmds = commands(burst)
    assert n.ERR_NOMOTD not in cmds
    start = cmds.index(n.RPL_MOTDSTART)
    assert cmds[start:] == [n.RPL_MOTDSTART, n.RPL_MOTD, n.RPL_MOTD, n.RPL_ENDOFMOTD]
    lines = [m.params[-1] for m in burst if m.command == n.RPL_MOTD]
    assert lines == ["- Be nice.", "- Have fun."]


def test_motd_missing(drv: CoreDriver) -> None:
    """Without a MOTD the burst carries ERR_NOMOTD (422) and no 375/372/376."""
    conn = drv.open()
    drv.send(conn, "NICK alice")
    cmds = commands(drv.send(conn, "USER alice 0 * :Alice"))
    assert n.ERR_NOMOTD in cmds
    assert not {n.RPL_MOTDSTART, n.RPL_MOTD, n.RPL_ENDOFMOTD} & set(cmds)


def test_autojoin_lobby(drv: CoreDriver) -> None:
    """Right after registration every client is joined to #lobby."""
    conn = drv.open()
    drv.send(conn, "NICK alice")
    burst = drv.send(conn, "USER alice 0 * :Alice")
    cmds = commands(burst)
    assert cmds.index("JOIN") > cmds.index(n.ERR_NOMOTD)
    join = only(burst, "JOIN")
    assert join.params == ("#lobby",)
    assert join.source == "alice!alice@127.0.0.1"
    assert cmds[-1] == n.RPL_ENDOFNAMES
    channel = drv.core.find_channel("#lobby")
    assert channel is not None
    assert [c.nick for c in channel.members] == ["alice"]


def test_autojoin_disabled() -> None:
    """CoreConfig(autojoin=()) makes a plain IRC server: no JOIN after welcome."""
    drv = CoreDriver(CoreConfig(autojoin=()))
    conn = drv.open()
    drv.send(conn, "NICK alice")
    burst = drv.send(conn, "USER alice 0 * :Alice")
    assert "JOIN" not in commands(burst)
    assert commands(burst)[-1] == n.ERR_NOMOTD
    assert drv.core.channels == {}


# -- CAP ----------------------------------------------------------------------


def test_cap_ls_suspends_registration(drv: CoreDriver) -> None:
    """ "If a client issues an LS subcommand, registration must be suspended
    until an END subcommand is received.\""""
    conn = drv.open()
    ls = only(drv.send(conn, "CAP LS 302"), "CAP")
    assert ls.source == SERVER
    assert ls.params[:2] == ("*", "LS")
    assert len(ls.params) == 3  # the list, possibly empty
    drv.send(conn, "NICK alice")
    assert drv.send(conn, "USER alice 0 * :Alice") == []
    assert not drv.core.clients[conn].registered
    burst = drv.send(conn, "CAP END")
    assert burst[0].command == n.RPL_WELCOME


def test_cap_req_suspends_registration(drv: CoreDriver) -> None:
    """ "If a client issues a REQ subcommand, registration must be suspended
    until an END subcommand is received.\""""
    conn = drv.open()
    drv.send(conn, "CAP REQ :example.org/no-such-cap")
    drv.send(conn, "NICK alice")
    assert n.RPL_WELCOME not in commands(drv.send(conn, "USER alice 0 * :Alice"))
    assert commands(drv.send(conn, "CAP END"))[0] == n.RPL_WELCOME


def test_cap_end_without_negotiation_is_harmless(drv: CoreDriver) -> None:
    """ "Clients that support capabilities but do not wish to enter negotiation
    SHOULD send CAP END upon connection to the server.\""""
    conn = drv.open()
    assert drv.send(conn, "CAP END") == []
    drv.send(conn, "NICK alice")
    assert commands(drv.send(conn, "USER alice 0 * :Alice"))[0] == n.RPL_WELCOME


def test_cap_end_after_registration_is_ignored(drv: CoreDriver) -> None:
    """ "If the client is already registered, this command MUST be ignored by
    the server.\""""
    conn = drv.register("alice")
    assert drv.send(conn, "CAP END") == []


def test_cap_req_unknown_is_nak(drv: CoreDriver) -> None:
    """ "The NAK subcommand designates that the requested capability change was
    rejected. The server MUST NOT make any change to any capabilities"."""
    conn = drv.open()
    nak = only(drv.send(conn, "CAP REQ :example.org/no-such-cap"), "CAP")
    assert nak.params == ("*", "NAK", "example.org/no-such-cap")
    listed = only(drv.send(conn, "CAP LIST"), "CAP")
    assert listed.params == ("*", "LIST", "")


def test_cap_req_ack_and_list(monkeypatch: pytest.MonkeyPatch, drv: CoreDriver) -> None:
    """A supported capability is ACKed, shows in CAP LIST, and `-cap` drops it."""
    monkeypatch.setitem(registration.SUPPORTED_CAPS, "example.org/test-cap", "")
    conn = drv.open()
    ack = only(drv.send(conn, "CAP REQ :example.org/test-cap"), "CAP")
    assert ack.params == ("*", "ACK", "example.org/test-cap")
    listed = only(drv.send(conn, "CAP LIST"), "CAP")
    assert "example.org/test-cap" in listed.params[-1].split()
    ack = only(drv.send(conn, "CAP REQ :-example.org/test-cap"), "CAP")
    assert ack.params[1] == "ACK"
    listed = only(drv.send(conn, "CAP LIST"), "CAP")
    assert "example.org/test-cap" not in listed.params[-1].split()


def test_cap_req_is_all_or_nothing(monkeypatch: pytest.MonkeyPatch, drv: CoreDriver) -> None:
    """ "The capability identifier set must be accepted as a whole, or rejected
    entirely.\""""
    monkeypatch.setitem(registration.SUPPORTED_CAPS, "example.org/test-cap", "")
    conn = drv.open()
    nak = only(drv.send(conn, "CAP REQ :example.org/test-cap example.org/nope"), "CAP")
    assert nak.params[1] == "NAK"
    assert drv.core.clients[conn].caps == set()


def test_cap_values_only_for_302(monkeypatch: pytest.MonkeyPatch, drv: CoreDriver) -> None:
    """ "If a client has not indicated support for CAP LS 302 features, the server
    MUST NOT send these new features to the client such as cap values\"."""
    monkeypatch.setitem(registration.SUPPORTED_CAPS, "example.org/valued", "a,b")
    conn = drv.open()
    plain = only(drv.send(conn, "CAP LS"), "CAP").params[-1].split()
    assert "example.org/valued" in plain
    v302 = only(drv.send(conn, "CAP LS 302"), "CAP").params[-1].split()
    assert "example.org/valued=a,b" in v302


def test_cap_unknown_subcommand(drv: CoreDriver) -> None:
    """ "If a client sends a subcommand which is not in the list above or
    otherwise issues an invalid command, then numeric 410 (ERR_INVALIDCAPCMD)
    should be sent.\""""
    conn = drv.open()
    reply = only(drv.send(conn, "CAP FOO"), n.ERR_INVALIDCAPCMD)
    assert reply.params[:2] == ("*", "FOO")


@pytest.mark.parametrize("line", ["CAP :", "CAP :a b", "CAP ::x"])
def test_cap_odd_subcommand_gets_410(drv: CoreDriver, line: str) -> None:
    """An empty or space-holding subcommand still gets a well-formed 410."""
    conn = drv.open()
    only(drv.send(conn, line), n.ERR_INVALIDCAPCMD)
    assert conn not in drv.closed


def test_cap_without_subcommand(drv: CoreDriver) -> None:
    """CAP with no subcommand is ERR_NEEDMOREPARAMS."""
    conn = drv.open()
    assert only(drv.send(conn, "CAP"), n.ERR_NEEDMOREPARAMS).params[:2] == ("*", "CAP")


def test_cap_after_registration_uses_nick(drv: CoreDriver) -> None:
    """ "The client MUST be able to use the CAP command anytime, even after
    registration." Replies carry the nick as the client identifier."""
    conn = drv.register("alice")
    ls = only(drv.send(conn, "CAP LS 302"), "CAP")
    assert ls.params[:2] == ("alice", "LS")


# -- NICK ---------------------------------------------------------------------


@pytest.mark.parametrize("line", ["NICK", "NICK :"])
def test_nick_none_given(drv: CoreDriver, line: str) -> None:
    """ "If the server does not receive the <nickname> parameter with the NICK
    command, it should issue an ERR_NONICKNAMEGIVEN numeric\"."""
    conn = drv.open()
    assert only(drv.send(conn, line), n.ERR_NONICKNAMEGIVEN).params[0] == "*"


@pytest.mark.parametrize("nick", ["#lobby", "a!b", "a@b", "a,b", "-dash", "x" * 31])
def test_nick_erroneous(drv: CoreDriver, nick: str) -> None:
    """ "If the server does not accept the new nickname supplied by the client as
    valid (for instance, due to containing invalid characters), it should issue
    an ERR_ERRONEUSNICKNAME numeric and ignore the NICK command.\""""
    conn = drv.open()
    reply = only(drv.send(conn, f"NICK {nick}"), n.ERR_ERRONEUSNICKNAME)
    assert reply.params[:2] == ("*", nick)
    assert drv.core.clients[conn].nick is None


@pytest.mark.parametrize("line", ["NICK :a b", "NICK ::colon", "NICK :"])
def test_nick_unsendable_param_still_gets_reply(drv: CoreDriver, line: str) -> None:
    """A nick that could not be echoed as a middle parameter still gets a
    well-formed error (the harness fails on a line that cannot be sent)."""
    conn = drv.open()
    reply = drv.send(conn, line)
    assert commands(reply) in ([n.ERR_ERRONEUSNICKNAME], [n.ERR_NONICKNAMEGIVEN])


def test_nick_allows_specials(drv: CoreDriver) -> None:
    """ "Servers MUST allow at least all alphanumerical characters, square and
    curly brackets ([]{}), backslashes (\\), and pipe (|) characters in
    nicknames\"."""
    conn = drv.open()
    drv.send(conn, "NICK [a]{b}\\c|9")
    burst = drv.send(conn, "USER a 0 * :A")
    assert burst[0].command == n.RPL_WELCOME
    assert burst[0].params[0] == "[a]{b}\\c|9"


def test_nick_in_use_case_insensitively(drv: CoreDriver) -> None:
    """ "If the server receives a NICK command from a client where the desired
    nickname is already in use on the network, it should issue an
    ERR_NICKNAMEINUSE numeric and ignore the NICK command." Nicks compare
    under CASEMAPPING=ascii."""
    drv.register("Alice")
    conn = drv.open()
    reply = only(drv.send(conn, "NICK aLICE"), n.ERR_NICKNAMEINUSE)
    assert reply.params[:2] == ("*", "aLICE")
    assert drv.core.clients[conn].nick is None


def test_nick_held_by_unregistered_connection(drv: CoreDriver) -> None:
    """A nick set by a connection still registering is taken too."""
    first = drv.open()
    drv.send(first, "NICK alice")
    second = drv.open()
    only(drv.send(second, "NICK ALICE"), n.ERR_NICKNAMEINUSE)


def test_nick_in_use_after_registration(drv: CoreDriver) -> None:
    """A registered client cannot take another's nick; its own nick stays."""
    drv.register("alice")
    bob = drv.register("bob")
    reply = only(drv.send(bob, "NICK Alice"), n.ERR_NICKNAMEINUSE)
    assert reply.params[:2] == ("bob", "Alice")
    assert drv.core.find_client("bob") is drv.core.clients[bob]


def test_nick_change_seen_once_by_neighbours_and_self() -> None:
    """ "servers notify all clients that are in the same channels with an
    appropriate NICK message": once each, even when sharing several rooms;
    the NICK's source is the old `nick!user@host`."""
    drv = CoreDriver(CoreConfig(autojoin=()))
    alice = drv.register("alice", "#a", "#b")
    bob = drv.register("bob", "#a", "#b")
    carol = drv.register("carol", "#a")
    dave = drv.register("dave")  # shares nothing with alice
    drv.drain()
    mine = drv.send(alice, "NICK alicia")
    assert mine == [only(mine, "NICK")]
    assert mine[0].source == "alice!alice@127.0.0.1"
    assert mine[0].params == ("alicia",)
    for peer in (bob, carol):
        got = drv.take(peer)
        assert commands(got) == ["NICK"], got
        assert got[0] == mine[0]
    assert drv.take(dave) == []


def test_nick_change_frees_old_nick() -> None:
    """After a change the old nick is free and the new one reaches the client."""
    drv = CoreDriver(CoreConfig(autojoin=()))
    alice = drv.register("alice")
    drv.send(alice, "NICK alicia")
    other = drv.open()
    assert drv.send(other, "NICK alice") == []
    assert drv.core.find_client("ALICIA") is drv.core.clients[alice]


def test_nick_case_only_change(drv: CoreDriver) -> None:
    """A client may change the case of its own nick (it is not "in use")."""
    alice = drv.register("alice")
    got = drv.send(alice, "NICK Alice")
    change = only(got, "NICK")
    assert change.source is not None
    assert change.source.startswith("alice!")
    assert change.params == ("Alice",)
    assert drv.core.clients[alice].nick == "Alice"


def test_nick_same_is_noop(drv: CoreDriver) -> None:
    """NICK to exactly the current nick changes nothing and tells no one."""
    alice = drv.register("alice")
    drv.register("bob")
    assert drv.send(alice, "NICK alice") == []
    assert drv.inbox == {}


def test_nick_before_registration_can_change(drv: CoreDriver) -> None:
    """Before registration NICK may be repeated; the last one is used and the
    earlier one is released."""
    conn = drv.open()
    drv.send(conn, "NICK first")
    drv.send(conn, "NICK second")
    burst = drv.send(conn, "USER u 0 * :U")
    assert burst[0].params[0] == "second"
    other = drv.open()
    assert drv.send(other, "NICK first") == []


# -- USER and PASS ------------------------------------------------------------


def test_user_then_nick_registers(drv: CoreDriver) -> None:
    """NICK and USER may come in either order."""
    conn = drv.open()
    assert drv.send(conn, "USER alice 0 * :Alice") == []
    assert drv.send(conn, "NICK alice")[0].command == n.RPL_WELCOME


def test_user_needs_four_params(drv: CoreDriver) -> None:
    """ "If a command is sent from a client to a server with less parameters than
    the command requires to be processed, the server will reply with an
    ERR_NEEDMOREPARAMS numeric and the command will fail.\""""
    conn = drv.open()
    reply = only(drv.send(conn, "USER alice 0 *"), n.ERR_NEEDMOREPARAMS)
    assert reply.params[:2] == ("*", "USER")
    assert drv.core.clients[conn].user is None


def test_user_empty_username(drv: CoreDriver) -> None:
    """ "The minimum length of <username> is 1, ie. it MUST NOT be empty. If it is
    empty, the server SHOULD reject the command with ERR_NEEDMOREPARAMS\"."""
    conn = drv.open()
    drv.send(conn, "NICK alice")
    reply = only(drv.send(conn, "USER : 0 * :Alice"), n.ERR_NEEDMOREPARAMS)
    assert reply.params[1] == "USER"
    assert not drv.core.clients[conn].registered


def test_user_empty_realname(drv: CoreDriver) -> None:
    """An empty realname is refused as an empty username is: "the server SHOULD
    reject the command with ERR_NEEDMOREPARAMS (even an empty parameter is
    provided)" (irctest testEmptyRealname); nothing is kept and a USER with a
    realname then registers."""
    conn = drv.open()
    drv.send(conn, "NICK alice")
    reply = only(drv.send(conn, "USER alice 0 * :"), n.ERR_NEEDMOREPARAMS)
    assert reply.params[:2] == ("alice", "USER")
    assert drv.core.clients[conn].user is None
    assert not drv.core.clients[conn].registered
    assert drv.send(conn, "USER alice 0 * :Alice")[0].command == n.RPL_WELCOME


def test_user_truncated_to_userlen(drv: CoreDriver) -> None:
    """ "If this length is advertised, the username MUST be silently truncated to
    the given length before being used.\""""
    conn = drv.open()
    drv.send(conn, "NICK alice")
    burst = drv.send(conn, "USER " + "u" * 40 + " 0 * :Alice")
    userlen = int(isupport(burst)["USERLEN"])
    assert drv.core.clients[conn].user == "u" * userlen


def test_user_after_registration(drv: CoreDriver) -> None:
    """ "If a client tries to send the USER command after they have already
    completed registration with the server, the ERR_ALREADYREGISTERED reply
    should be sent and the attempt should fail.\""""
    conn = drv.register("alice")
    reply = only(drv.send(conn, "USER other 0 * :Other"), n.ERR_ALREADYREGISTERED)
    assert reply.params[0] == "alice"
    assert drv.core.clients[conn].user == "alice"


def test_pass_before_and_after_registration(drv: CoreDriver) -> None:
    """PASS before registration is accepted (no password is configured);
    it "may not be changed once the client has been registered" (462)."""
    conn = drv.open()
    assert drv.send(conn, "PASS secret") == []
    assert only(drv.send(conn, "PASS"), n.ERR_NEEDMOREPARAMS).params[1] == "PASS"
    drv.send(conn, "NICK alice")
    assert drv.send(conn, "USER alice 0 * :Alice")[0].command == n.RPL_WELCOME
    only(drv.send(conn, "PASS secret"), n.ERR_ALREADYREGISTERED)


# -- commands before and after registration -----------------------------------


@pytest.mark.parametrize("line", ["JOIN #lobby", "PRIVMSG #lobby :hi", "FOO bar", "WHOIS x"])
def test_not_registered(drv: CoreDriver, line: str) -> None:
    """ERR_NOTREGISTERED: "Returned when a client command cannot be parsed as
    they are not yet registered." Only CAP, PASS, NICK, USER, PING, PONG and
    QUIT are allowed before."""
    conn = drv.open()
    reply = only(drv.send(conn, line), n.ERR_NOTREGISTERED)
    assert reply.params[0] == "*"
    assert drv.core.channels == {}


def test_unknown_command(drv: CoreDriver) -> None:
    """ERR_UNKNOWNCOMMAND (421): "<client> <command> :Unknown command"."""
    conn = drv.register("alice")
    reply = only(drv.send(conn, "FROBNICATE now"), n.ERR_UNKNOWNCOMMAND)
    assert reply.params[:2] == ("alice", "FROBNICATE")


def test_need_more_params(drv: CoreDriver) -> None:
    """ERR_NEEDMOREPARAMS (461): "<client> <command> :Not enough parameters"."""
    conn = drv.register("alice")
    assert only(drv.send(conn, "JOIN"), n.ERR_NEEDMOREPARAMS).params[:2] == ("alice", "JOIN")


def test_invalid_utf8(drv: CoreDriver) -> None:
    """A line that is not UTF-8 gets `FAIL <cmd> INVALID_UTF8` and the
    connection stays (IRCv3 UTF8ONLY)."""
    conn = drv.register("alice")
    fail = only(drv.send(conn, b"PRIVMSG #lobby :caf\xe9"), "FAIL")
    assert fail.params[:2] == ("PRIVMSG", "INVALID_UTF8")
    assert fail.source == SERVER
    assert conn not in drv.closed
    assert drv.inbox == {}  # nobody got the broken text
    fail = only(drv.send(conn, b"\xff\xfe"), "FAIL")
    assert fail.params[:2] == ("*", "INVALID_UTF8")
    assert only(drv.send(conn, "PING x"), "PONG")


def test_input_too_long(drv: CoreDriver) -> None:
    """ERR_INPUTTOOLONG (417): "Returned when a message is too long for the
    server to process"; the connection stays."""
    conn = drv.register("alice")
    only(drv.send(conn, "PRIVMSG #lobby :" + "x" * 600), n.ERR_INPUTTOOLONG)
    drv.apply(drv.core.line_too_long(conn))
    only(drv.take(conn), n.ERR_INPUTTOOLONG)
    assert conn not in drv.closed


# -- PING / PONG ----------------------------------------------------------------


def test_ping_gets_pong(drv: CoreDriver) -> None:
    """ "When receiving a PING message, clients or servers must reply to it with a
    PONG message with the same <token> value." "Servers MUST send a <server>
    parameter"."""
    conn = drv.open()  # "servers may accept it" during registration
    pong = only(drv.send(conn, "PING :abc def"), "PONG")
    assert pong.source == SERVER
    assert pong.params == (SERVER, "abc def")
    conn = drv.register("alice")
    assert only(drv.send(conn, "PING 12345"), "PONG").params == (SERVER, "12345")


def test_ping_without_token(drv: CoreDriver) -> None:
    """PING needs its token: ERR_NEEDMOREPARAMS."""
    conn = drv.register("alice")
    assert only(drv.send(conn, "PING"), n.ERR_NEEDMOREPARAMS).params[1] == "PING"


def test_pong_gets_no_reply(drv: CoreDriver) -> None:
    """PONG: "Numeric Replies: None"."""
    conn = drv.register("alice")
    assert drv.send(conn, "PONG :whatever") == []


# -- QUIT and disconnects -------------------------------------------------------


def test_quit_with_reason() -> None:
    """ "The server acknowledges this by replying with an ERROR message and
    closing the connection to the client." Others sharing a channel see
    `Quit: <reason>` from the quitter."""
    drv = CoreDriver(CoreConfig(autojoin=()))
    alice = drv.register("alice", "#room")
    bob = drv.register("bob", "#room")
    carol = drv.register("carol")
    drv.drain()
    got = drv.send(alice, "QUIT :Gone to lunch")
    assert commands(got) == ["ERROR"]
    assert drv.closed[alice]
    quit_msg = only(drv.take(bob), "QUIT")
    assert quit_msg.source == "alice!alice@127.0.0.1"
    assert quit_msg.params == ("Quit: Gone to lunch",)
    assert drv.take(carol) == []
    assert drv.core.find_client("alice") is None
    channel = drv.core.find_channel("#room")
    assert channel is not None
    assert [c.nick for c in channel.members] == ["bob"]


def test_quit_without_reason() -> None:
    """ "This applies even if <reason> is empty, in which case the reason sent to
    other clients SHOULD be just this "Quit: " string.\""""
    drv = CoreDriver()
    alice = drv.register("alice")
    bob = drv.register("bob")
    drv.drain()
    drv.send(alice, "QUIT")
    assert only(drv.take(bob), "QUIT").params == ("Quit: ",)


def test_quit_frees_nick_and_empty_room() -> None:
    """After QUIT the nick is free and a room left empty is gone."""
    drv = CoreDriver(CoreConfig(autojoin=()))
    alice = drv.register("alice", "#solo")
    drv.send(alice, "QUIT :bye")
    assert drv.core.find_channel("#solo") is None
    conn = drv.open()
    assert drv.send(conn, "NICK alice") == []


def test_quit_before_registration(drv: CoreDriver) -> None:
    """QUIT works before registration: ERROR, close, nick released."""
    conn = drv.open()
    drv.send(conn, "NICK alice")
    assert commands(drv.send(conn, "QUIT")) == ["ERROR"]
    assert conn in drv.closed
    assert "alice" not in drv.core.nicks


def test_disconnect_tells_neighbours(drv: CoreDriver) -> None:
    """ "If a client connection is closed without the client issuing a QUIT
    command to the server, the server MUST distribute a QUIT message to other
    clients informing them of this\"."""
    alice = drv.register("alice")
    bob = drv.register("bob")
    drv.drain()
    drv.apply(drv.core.disconnect(alice, "Connection closed"))
    assert drv.take(alice) == []  # the socket is already gone
    assert only(drv.take(bob), "QUIT").params == ("Connection closed",)
    assert alice not in drv.core.clients
    assert drv.core.receive(alice, b"PING x") == []


# -- timers -------------------------------------------------------------------


def test_registration_timeout() -> None:
    """A connection that does not register in time gets ERROR and is closed."""
    drv = CoreDriver(CoreConfig(registration_timeout=30.0))
    conn = drv.open()
    drv.send(conn, "NICK alice")
    drv.advance(29.5)
    assert conn not in drv.closed
    drv.advance(0.5)
    error = only(drv.take(conn), "ERROR")
    assert "Registration timed out" in error.params[0]
    assert conn in drv.closed
    assert conn not in drv.core.clients
    assert "alice" not in drv.core.nicks


def test_timeouts_follow_the_timer_not_a_jumping_wall_clock() -> None:
    """The wall clock jumps an hour (NTP, a resumed VM): nobody is timed out for it.
    Timeouts run on the core's timer; only its passing time counts."""
    wall, timer = FakeClock(), FakeClock(0.0)
    drv = CoreDriver(CoreConfig(registration_timeout=30.0, ping_interval=60.0))
    drv.clock = wall
    drv.core = ChatCore(drv.config, clock=wall, timer=timer)
    pending = drv.open()
    drv.send(pending, "NICK slow")
    member = drv.register("alice")
    wall.advance(3600)
    drv.tick()
    assert pending not in drv.closed
    assert drv.take(member) == []  # no keepalive PING either: no time has passed
    timer.advance(30)
    drv.tick()
    assert "Registration timed out" in only(drv.take(pending), "ERROR").params[0]
    timer.advance(30)
    drv.tick()
    assert only(drv.take(member), "PING")


def test_registration_timeout_counts_cap_negotiation(drv: CoreDriver) -> None:
    """Holding registration open with CAP LS does not escape the timeout."""
    conn = drv.open()
    drv.send(conn, "CAP LS 302")
    drv.advance(drv.config.registration_timeout / 2)
    drv.send(conn, "CAP LIST")
    drv.advance(drv.config.registration_timeout / 2)
    assert conn in drv.closed


def test_registered_client_has_no_registration_timeout(drv: CoreDriver) -> None:
    """Registration timeout only applies before registration."""
    conn = drv.register("alice")
    drv.advance(drv.config.registration_timeout + 1)
    assert conn not in drv.closed
    assert drv.take(conn) == []


def test_ping_interval_sends_ping() -> None:
    """An idle registered client is sent PING after the ping interval."""
    drv = CoreDriver(CoreConfig(ping_interval=120.0, ping_timeout=60.0))
    conn = drv.register("alice")
    drv.advance(119.0)
    assert drv.take(conn) == []
    drv.advance(1.0)
    ping = only(drv.take(conn), "PING")
    assert ping.params == (SERVER,)
    drv.advance(10.0)
    assert drv.take(conn) == []  # one PING per silence, not one per tick


def test_activity_postpones_ping() -> None:
    """Any line from the client counts as a sign of life."""
    drv = CoreDriver(CoreConfig(ping_interval=120.0, ping_timeout=60.0))
    conn = drv.register("alice")
    drv.advance(100.0)
    drv.send(conn, "AWAY")
    drv.advance(100.0)
    assert "PING" not in commands(drv.take(conn))
    drv.advance(20.0)
    only(drv.take(conn), "PING")


def test_ping_timeout_closes_and_tells_others() -> None:
    """No answer within the ping timeout: others see `QUIT :Ping timeout: N
    seconds` (N the silence) and the client gets ERROR and is closed."""
    drv = CoreDriver(CoreConfig(ping_interval=120.0, ping_timeout=60.0))
    alice = drv.register("alice")
    bob = drv.register("bob")
    drv.drain()
    drv.clock.advance(60.0)
    drv.send(bob, "PONG :keepalive")  # bob stays alive
    drv.advance(60.0)
    assert commands(drv.take(alice)) == ["PING"]
    drv.advance(59.0)
    assert alice not in drv.closed
    drv.advance(1.0)
    assert alice in drv.closed
    error = only(drv.take(alice), "ERROR")
    assert "Ping timeout: 180 seconds" in error.params[0]
    quit_msg = only(drv.take(bob), "QUIT")
    assert quit_msg.source == "alice!alice@127.0.0.1"
    assert re.fullmatch(r"Ping timeout: \d+ seconds", quit_msg.params[0])
    assert quit_msg.params == ("Ping timeout: 180 seconds",)
    assert bob not in drv.closed


def test_pong_resets_ping_timeout() -> None:
    """Answering the PING with PONG keeps the client connected, and the next
    PING comes one full interval after the answer."""
    drv = CoreDriver(CoreConfig(ping_interval=120.0, ping_timeout=60.0))
    conn = drv.register("alice")
    drv.advance(120.0)
    ping = only(drv.take(conn), "PING")
    drv.clock.advance(30.0)
    assert drv.send(conn, f"PONG :{ping.params[-1]}") == []
    drv.advance(60.0)
    assert conn not in drv.closed
    assert drv.take(conn) == []
    drv.advance(60.0)
    only(drv.take(conn), "PING")
    assert conn not in drv.closed


def test_short_timers_from_config() -> None:
    """The timer lengths come from CoreConfig."""
    drv = CoreDriver(CoreConfig(ping_interval=5.0, ping_timeout=2.0))
    conn = drv.register("alice")
    drv.advance(5.0)
    only(drv.take(conn), "PING")
    drv.advance(2.0)
    assert conn in drv.closed


def test_server_full() -> None:
    """Past max_clients a new connection gets ERROR and is closed, and is not
    counted as a customer."""
    drv = CoreDriver(CoreConfig(max_clients=1))
    drv.register("alice")
    conn = drv.open()
    assert commands(drv.take(conn)) == ["ERROR"]
    assert conn in drv.closed
    assert drv.core.connections_total == 1


@pytest.mark.parametrize(("version", "valued"), [("1000", True), ("31", False), ("x", False)])
def test_cap_ls_version_is_a_number(
    monkeypatch: pytest.MonkeyPatch, drv: CoreDriver, version: str, valued: bool
) -> None:
    """The CAP LS version compares as a number: 1000 is past 302, 31 is not."""
    monkeypatch.setitem(registration.SUPPORTED_CAPS, "example.org/valued", "a,b")
    conn = drv.open()
    offered = only(drv.send(conn, f"CAP LS {version}"), "CAP").params[-1].split()
    assert ("example.org/valued=a,b" in offered) is valued


def test_long_quit_reason_is_cut_to_fit() -> None:
    """A QUIT reason as long as the input allows is shortened so the relayed
    QUIT (with the quitter's prefix and "Quit: ") still fits in 512 bytes, and
    the harness sees no line the shell would have to cut."""
    drv = CoreDriver()
    alice = drv.register("a" * 30)
    bob = drv.register("bob")
    drv.drain()
    reason = "r" * (510 - len("QUIT :"))
    drv.send(alice, f"QUIT :{reason}")
    relayed = only(drv.take(bob), "QUIT").params[0]
    assert relayed.startswith("Quit: rrrr")
    assert reason.startswith(relayed.removeprefix("Quit: "))


def test_long_cap_nak_fits(drv: CoreDriver) -> None:
    """ "The argument of the NAK subcommand MUST consist of at least the first 100
    characters of the capability list in the REQ subcommand": a REQ as long as
    the input allows gets a NAK that still fits in one line."""
    conn = drv.open()
    drv.send(conn, "NICK " + "n" * 30)
    wanted = " ".join(["example.org/cap"] * 31)
    nak = only(drv.send(conn, f"CAP REQ :{wanted}"), "CAP")
    assert nak.params[1] == "NAK"
    assert wanted.startswith(nak.params[2])
    assert len(nak.params[2]) >= 100
