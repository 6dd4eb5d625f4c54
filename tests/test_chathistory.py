"""IRCv3 tags, echo-message and CHATHISTORY through real sockets, on a SQLite history file.

Spec: https://ircv3.net/specs/extensions/chathistory. No sleeps: to show that
something did *not* arrive, a test sends PING and reads up to its PONG; the
server answers in order, so anything it would have sent comes before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from easychat.chat.config import CoreConfig
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.proto.servertime import parse_time
from easychat.store.history import SQLiteHistory
from tests.ircclient import IRCClient, RunningServer
from tests.nolimits import unlimited

HISTORY_CAPS = "batch server-time message-tags echo-message draft/chathistory"
EVER = "timestamp=2000-01-01T00:00:00.000Z"
NEVER = "timestamp=2100-01-01T00:00:00.000Z"

Start = Callable[..., RunningServer]
Join = Callable[..., IRCClient]


@pytest.fixture
def history_server(make_server: Start, tmp_path: Path) -> Callable[..., RunningServer]:
    """Starts a server keeping history in tmp_path/h.db, with the given CoreConfig."""

    def start(config: CoreConfig | None = None) -> RunningServer:
        # Without a config, abuse limits off: these tests fill rooms with
        # hundreds of messages as fast as the socket takes them.
        config = config or unlimited()
        return make_server(config, history=SQLiteHistory(tmp_path / "h.db"))

    return start


@pytest.fixture
def clients() -> Iterator[list[IRCClient]]:
    """Clients to close after the test."""
    opened: list[IRCClient] = []
    yield opened
    for client in opened:
        client.close()


@pytest.fixture
def lobby(history_server: Callable[..., RunningServer], clients: list[IRCClient]) -> Join:
    """Registers clients (with capabilities) on a history server that autojoins #lobby."""
    server = history_server()

    def join(nick: str, caps: str = HISTORY_CAPS) -> IRCClient:
        return register(server, clients, nick, caps)

    return join


def register(
    server: RunningServer,
    opened: list[IRCClient],
    nick: str,
    caps: str = HISTORY_CAPS,
    *,
    autojoined: bool = True,
) -> IRCClient:
    """A client that requested `caps`, registered, past its burst (and autojoin)."""
    client = server.client()
    opened.append(client)
    client.nick = nick
    if caps:
        client.send(f"CAP REQ :{caps}")
    client.send(f"NICK {nick}")
    client.send(f"USER {nick.lower()} 0 * :{nick}")
    if caps:
        ack = client.expect("CAP")
        assert ack.params[1] == "ACK", ack
        client.send("CAP END")
    client.expect(n.RPL_ENDOFNAMES if autojoined else (n.RPL_ENDOFMOTD, n.ERR_NOMOTD))
    sync(client)
    return client


def sync(client: IRCClient) -> list[Message]:
    """Everything the server sends `client` up to the answer to a fresh PING."""
    client.send("PING :sync")
    return client.until("PONG")[:-1]


def history(client: IRCClient, request: str) -> tuple[Message, list[Message]]:
    """Sends a CHATHISTORY request; returns the batch opener and the lines inside it."""
    client.send(request)
    opener = client.expect("BATCH")
    assert opener.params[0].startswith("+"), opener
    ref = opener.params[0][1:]
    lines: list[Message] = []
    while True:
        msg = client.read()
        assert msg is not None, "connection closed inside a batch"
        if msg.command == "BATCH":
            assert msg.params == (f"-{ref}",), msg
            return opener, lines
        assert msg.tags.get("batch") == ref, f"line outside the batch: {msg}"
        lines.append(msg)


def texts(lines: list[Message]) -> list[str]:
    """The texts of the PRIVMSG/NOTICE lines."""
    return [m.params[1] for m in lines if m.command in ("PRIVMSG", "NOTICE")]


def say(client: IRCClient, target: str, *lines: str) -> list[Message]:
    """Sends each line as PRIVMSG; returns their echoes (needs echo-message)."""
    client.send_raw("".join(f"PRIVMSG {target} :{line}\r\n" for line in lines).encode())
    return [
        client.expect("PRIVMSG", lambda m, t=text: m.nick == client.nick and m.params[1] == t)
        for text in lines
    ]


def fail(client: IRCClient, request: str) -> Message:
    """Sends a request that must fail; returns the FAIL (nothing else may come first)."""
    client.send(request)
    reply = client.read()
    assert reply is not None
    assert reply.command == "FAIL", reply
    return reply


def cap_ls(client: IRCClient) -> set[str]:
    """The capability names of a CAP LS 302 (all continuation lines)."""
    client.send("CAP LS 302")
    names: set[str] = set()
    while True:
        reply = client.expect("CAP")
        more = reply.params[2] == "*"
        names.update(name.split("=")[0] for name in reply.params[-1].split())
        if not more:
            return names


# -- capabilities and ISUPPORT ----------------------------------------------


def test_cap_ls_offers_history_caps_only_with_history(
    make_server: Start, history_server: Callable[..., RunningServer], clients: list[IRCClient]
) -> None:
    """Capabilities are "advertised in CAP LS": the chathistory ones only when history is kept."""
    base = {"batch", "echo-message", "message-tags", "server-time"}
    with_history = history_server().client()
    without = make_server(CoreConfig()).client()
    clients += [with_history, without]
    assert cap_ls(with_history) >= base | {"draft/chathistory", "draft/event-playback"}
    plain = cap_ls(without)
    assert plain >= base
    assert not plain & {"draft/chathistory", "draft/event-playback"}


def test_isupport_advertises_chathistory_limit(
    make_server: Start, history_server: Callable[..., RunningServer], clients: list[IRCClient]
) -> None:
    """ "An ISUPPORT token MUST be sent to the client to state the maximum number of messages
    a client can request in a single command." MSGREFTYPES lists the selectors accepted."""

    def tokens(server: RunningServer) -> set[str]:
        client = server.client()
        clients.append(client)
        burst = client.register("someone")
        return {t for m in burst if m.command == n.RPL_ISUPPORT for t in m.params[1:-1]}

    on = tokens(history_server())
    assert "CHATHISTORY=100" in on
    assert "MSGREFTYPES=msgid,timestamp" in on
    off = tokens(make_server(CoreConfig()))
    assert not {t for t in off if t.startswith(("CHATHISTORY", "MSGREFTYPES"))}


def test_chathistory_without_history_is_refused(make_server: Start) -> None:
    """Without a store, CHATHISTORY fails rather than answering an empty batch."""
    client = make_server(CoreConfig()).client()
    client.register("alice")
    reply = fail(client, "CHATHISTORY LATEST #lobby * 10")
    assert reply.params[:2] == ("CHATHISTORY", "UNKNOWN_COMMAND")
    client.close()


# -- tags, echo-message, TAGMSG ---------------------------------------------


def test_echo_message_carries_msgid_and_time(lobby: Join) -> None:
    """echo-message: the sender gets its own message back, with the msgid others get."""
    alice, bob = lobby("alice"), lobby("bob")
    alice.expect("JOIN", lambda m: m.nick == "bob")
    (echo,) = say(alice, "#lobby", "hello")
    assert echo.params == ("#lobby", "hello")
    assert len(echo.tags["msgid"]) >= 8
    parse_time(echo.tags["time"])
    relayed = bob.expect("PRIVMSG")
    assert relayed.tags["msgid"] == echo.tags["msgid"]
    assert relayed.tags["time"] == echo.tags["time"]


def test_no_echo_without_echo_message(lobby: Join) -> None:
    """Without echo-message the sender gets nothing back."""
    alice = lobby("alice", "message-tags")
    alice.send("PRIVMSG #lobby :quiet")
    assert "PRIVMSG" not in [m.command for m in sync(alice)]


def test_tags_follow_each_recipients_capabilities(lobby: Join) -> None:
    """server-time gives only `time`; message-tags gives msgid and client-only tags."""
    plain, timed, tagged = (
        lobby("plain", ""),
        lobby("timed", "server-time"),
        lobby("tagged", "message-tags"),
    )
    sender = lobby("sender", "message-tags")
    for client in (plain, timed, tagged):
        client.expect("JOIN", lambda m: m.nick == "sender")
    sender.send("@+draft/react=yes;-notclient=1 PRIVMSG #lobby :tagged text")
    assert plain.expect("PRIVMSG").tags == {}
    assert set(timed.expect("PRIVMSG").tags) == {"time"}
    got = tagged.expect("PRIVMSG").tags
    assert set(got) == {"msgid", "+draft/react"}
    assert got["+draft/react"] == "yes"


def test_client_tags_dropped_from_sender_without_message_tags(lobby: Join) -> None:
    """A sender that did not negotiate message-tags cannot attach client-only tags."""
    tagged = lobby("tagged", "message-tags")
    sender = lobby("sender", "")
    tagged.expect("JOIN", lambda m: m.nick == "sender")
    sender.send("@+draft/react=yes PRIVMSG #lobby :hi")
    assert "+draft/react" not in tagged.expect("PRIVMSG").tags


def test_tagmsg_only_reaches_message_tags_clients(lobby: Join) -> None:
    """TAGMSG is relayed, with its tags, only to clients that negotiated message-tags."""
    plain, timed, tagged = (
        lobby("plain", ""),
        lobby("timed", "server-time"),
        lobby("tagged", "message-tags"),
    )
    sender = lobby("sender", "message-tags")
    for client in (plain, timed, tagged):
        client.expect("JOIN", lambda m: m.nick == "sender")
    sender.send("@+typing=active TAGMSG #lobby")
    got = tagged.expect("TAGMSG")
    assert got.params == ("#lobby",)
    assert got.tags["+typing"] == "active"
    for client in (plain, timed):
        assert "TAGMSG" not in [m.command for m in sync(client)]


# -- the subcommands ---------------------------------------------------------


@pytest.fixture
def ten(lobby: Join) -> tuple[IRCClient, list[str]]:
    """alice in #lobby after saying "msg 1".."msg 10"; returns her and their msgids."""
    alice = lobby("alice")
    echoes = say(alice, "#lobby", *(f"msg {i}" for i in range(1, 11)))
    return alice, [e.tags["msgid"] for e in echoes]


def msgs(*numbers: int) -> list[str]:
    """The texts "msg i" for the given numbers."""
    return [f"msg {i}" for i in numbers]


def test_latest_is_a_chathistory_batch(ten: tuple[IRCClient, list[str]]) -> None:
    """ "The returned messages MUST be in ascending time order", in a `chathistory` batch
    whose lines carry the batch tag and the msgid "as originally sent by the IRC server"."""
    alice, ids = ten
    opener, lines = history(alice, "CHATHISTORY LATEST #lobby * 3")
    assert opener.params[1:] == ("chathistory", "#lobby")
    assert texts(lines) == msgs(8, 9, 10)
    assert [m.tags["msgid"] for m in lines] == ids[7:]
    assert all(m.nick == "alice" and m.params[0] == "#lobby" for m in lines)
    times = [parse_time(m.tags["time"]) for m in lines]
    assert times == sorted(times)


def test_latest_after_a_msgid(ten: tuple[IRCClient, list[str]]) -> None:
    """LATEST with a selector: "the most recent messages that have been sent after and
    excluding the given timestamp or msgid"."""
    alice, ids = ten
    assert texts(history(alice, f"CHATHISTORY LATEST #lobby msgid={ids[6]} 100")[1]) == msgs(
        8, 9, 10
    )
    assert texts(history(alice, f"CHATHISTORY LATEST #lobby msgid={ids[9]} 100")[1]) == []


def test_before_and_after(ten: tuple[IRCClient, list[str]]) -> None:
    """BEFORE and AFTER: up to `limit` messages on one side of the point, excluding it."""
    alice, ids = ten
    assert texts(history(alice, f"CHATHISTORY BEFORE #lobby msgid={ids[4]} 2")[1]) == msgs(3, 4)
    assert texts(history(alice, f"CHATHISTORY AFTER #lobby msgid={ids[4]} 2")[1]) == msgs(6, 7)
    assert texts(history(alice, f"CHATHISTORY BEFORE #lobby {NEVER} 2")[1]) == msgs(9, 10)
    assert texts(history(alice, f"CHATHISTORY AFTER #lobby {EVER} 2")[1]) == msgs(1, 2)
    assert texts(history(alice, "CHATHISTORY BEFORE #lobby msgid=unknown 2")[1]) == []


def test_around(ten: tuple[IRCClient, list[str]]) -> None:
    """AROUND: "messages before and after the timestamp or msgid with the total number of
    returned messages not exceeding limit"."""
    alice, ids = ten
    assert texts(history(alice, f"CHATHISTORY AROUND #lobby msgid={ids[4]} 3")[1]) == msgs(4, 5, 6)
    assert texts(history(alice, f"CHATHISTORY AROUND #lobby msgid={ids[4]} 1")[1]) == msgs(5)


def test_between_both_ways(ten: tuple[IRCClient, list[str]]) -> None:
    """BETWEEN: messages between the two points, "forwards or backwards in time", the
    result still ascending."""
    alice, ids = ten
    forward = f"CHATHISTORY BETWEEN #lobby msgid={ids[1]} msgid={ids[6]}"
    backward = f"CHATHISTORY BETWEEN #lobby msgid={ids[6]} msgid={ids[1]}"
    assert texts(history(alice, f"{forward} 100")[1]) == msgs(3, 4, 5, 6)
    assert texts(history(alice, f"{forward} 2")[1]) == msgs(3, 4)
    assert texts(history(alice, f"{backward} 100")[1]) == msgs(3, 4, 5, 6)
    assert texts(history(alice, f"{backward} 2")[1]) == msgs(5, 6)
    everything = f"CHATHISTORY BETWEEN #lobby {EVER} {NEVER} 100"
    assert texts(history(alice, everything)[1]) == msgs(*range(1, 11))


def test_paging_1000_messages_without_gaps_or_duplicates(lobby: Join) -> None:
    """Paging BEFORE the oldest msgid seen, then AFTER the newest, yields every message once.

    "The returned messages MUST be in ascending time order."
    """
    alice = lobby("alice")
    sent = [f"line {i}" for i in range(1000)]
    say(alice, "#lobby", *sent)
    got: list[str] = []
    _, page = history(alice, "CHATHISTORY LATEST #lobby * 100")
    pages = 0
    while page:
        assert len(page) <= 100
        got = texts(page) + got
        pages += 1
        _, page = history(alice, f"CHATHISTORY BEFORE #lobby msgid={page[0].tags['msgid']} 100")
    assert got == sent
    assert pages == 10
    got = []
    _, page = history(alice, f"CHATHISTORY AFTER #lobby {EVER} 100")
    while page:
        assert len(page) <= 100
        got += texts(page)
        _, page = history(alice, f"CHATHISTORY AFTER #lobby msgid={page[-1].tags['msgid']} 100")
    assert got == sent


def test_limit_above_the_advertised_maximum_is_capped(lobby: Join) -> None:
    """A request above CHATHISTORY=100 gets at most 100 messages (the newest)."""
    alice = lobby("alice")
    say(alice, "#lobby", *(f"line {i}" for i in range(150)))
    _, page = history(alice, "CHATHISTORY LATEST #lobby * 1000")
    assert texts(page) == [f"line {i}" for i in range(50, 150)]


@pytest.mark.parametrize(
    "request_line",
    [
        "CHATHISTORY",
        "CHATHISTORY FETCH #lobby * 10",
        "CHATHISTORY LATEST",
        "CHATHISTORY LATEST #lobby",
        "CHATHISTORY LATEST #lobby *",
        "CHATHISTORY LATEST #lobby * 0",
        "CHATHISTORY LATEST #lobby * -5",
        "CHATHISTORY LATEST #lobby * ten",
        "CHATHISTORY BEFORE #lobby * 10",
        "CHATHISTORY BEFORE #lobby id=abc 10",
        "CHATHISTORY BEFORE #lobby msgid= 10",
        "CHATHISTORY AFTER #lobby timestamp=yesterday 10",
        "CHATHISTORY AFTER #lobby timestamp=2020-01-01T00:00:00 10",
        "CHATHISTORY BETWEEN #lobby msgid=a 10",
        "CHATHISTORY TARGETS timestamp=2020-01-01T00:00:00.000Z 10",
        "CHATHISTORY TARGETS msgid=a msgid=b 10",
    ],
)
def test_invalid_params(lobby: Join, request_line: str) -> None:
    """ "If the server receives a CHATHISTORY command with invalid parameters" it answers
    FAIL CHATHISTORY INVALID_PARAMS, never a batch or a crash."""
    alice = lobby("alice")
    reply = fail(alice, request_line)
    assert reply.params[:2] == ("CHATHISTORY", "INVALID_PARAMS")
    assert "BATCH" not in [m.command for m in sync(alice)]


# -- privacy ------------------------------------------------------------------


@pytest.fixture
def rooms(history_server: Callable[..., RunningServer], clients: list[IRCClient]) -> Join:
    """Registers clients on a history server without autojoin."""
    server = history_server(CoreConfig(autojoin=()))

    def join(nick: str, caps: str = HISTORY_CAPS) -> IRCClient:
        return register(server, clients, nick, caps, autojoined=False)

    return join


def enter(client: IRCClient, room: str) -> None:
    """`client` joins `room` and reads to the end of NAMES."""
    client.send(f"JOIN {room}")
    client.expect(n.RPL_ENDOFNAMES)


def test_non_member_cannot_read_a_room(rooms: Join) -> None:
    """ "Secure identification of users and clients MUST exist in order to ensure that users
    cannot obtain history they are not authorised to view": a room is for its members."""
    alice, carol = rooms("alice"), rooms("carol")
    enter(alice, "#secret")
    say(alice, "#secret", "the plan")
    for room in ("#secret", "#nowhere"):
        reply = fail(carol, f"CHATHISTORY LATEST {room} * 10")
        assert reply.params[:4] == ("CHATHISTORY", "INVALID_TARGET", "LATEST", room)
    carol.send("CHATHISTORY BEFORE #secret timestamp=2100-01-01T00:00:00.000Z 10")
    assert carol.expect("FAIL").params[1] == "INVALID_TARGET"
    alice.send("PART #secret")
    alice.expect("PART")
    assert fail(alice, "CHATHISTORY LATEST #secret * 10").params[1] == "INVALID_TARGET"


@pytest.mark.parametrize("mode", ["+i", "+k sesame"])
def test_protected_room_history_is_for_members(rooms: Join, mode: str) -> None:
    """In a +i or +k room, only members read history; a member who got in reads it all."""
    alice, bob = rooms("alice"), rooms("bob")
    enter(alice, "#vault")
    alice.send(f"MODE #vault {mode}")
    alice.expect("MODE")
    say(alice, "#vault", "inside")
    assert fail(bob, "CHATHISTORY LATEST #vault * 10").params[1] == "INVALID_TARGET"
    if mode == "+i":
        alice.send("INVITE bob #vault")
        bob.expect("INVITE")
        enter(bob, "#vault")
    else:
        enter(bob, "#vault sesame")
    assert texts(history(bob, "CHATHISTORY LATEST #vault * 10")[1]) == ["inside"]


def test_private_history_is_for_its_two_people(rooms: Join) -> None:
    """A private conversation is read by its two people; a third person, asking for either
    of them, gets only their own conversation with that person."""
    alice, bob, carol = rooms("alice"), rooms("bob"), rooms("carol")
    say(alice, "bob", "for bob only")
    bob.expect("PRIVMSG")
    say(bob, "Alice", "for alice only")
    opener, lines = history(alice, "CHATHISTORY LATEST bob * 10")
    assert opener.params[1:] == ("chathistory", "bob")
    assert texts(lines) == ["for bob only", "for alice only"]
    assert texts(history(bob, "CHATHISTORY LATEST ALICE * 10")[1]) == [
        "for bob only",
        "for alice only",
    ]
    for peer in ("alice", "bob"):
        assert history(carol, f"CHATHISTORY LATEST {peer} * 10")[1] == []
        assert history(carol, f"CHATHISTORY AFTER {peer} {EVER} 10")[1] == []
    say(carol, "alice", "carol here")
    assert texts(history(carol, "CHATHISTORY LATEST alice * 10")[1]) == ["carol here"]
    assert "carol here" not in texts(history(bob, "CHATHISTORY LATEST alice * 10")[1])


def test_mixed_case_room_names_share_history(rooms: Join) -> None:
    """CASEMAPPING=ascii: #MixedCase and #mixedcase are one room with one history."""
    alice, bob = rooms("alice"), rooms("bob")
    enter(alice, "#MixedCase")
    say(alice, "#MixedCase", "first")
    enter(bob, "#mixedcase")
    say(bob, "#MIXEDCASE", "second")
    for client, name in ((alice, "#mixedCASE"), (bob, "#mixedcase")):
        opener, lines = history(client, f"CHATHISTORY LATEST {name} * 10")
        assert opener.params[2].lower() == "#mixedcase"
        assert texts(lines) == ["first", "second"]


# -- events, replay, targets ---------------------------------------------------


def test_event_playback_only_for_clients_that_asked(rooms: Join) -> None:
    """draft/event-playback clients get JOIN/PART/TOPIC in history; others only messages,
    and the limit still counts messages only."""
    watcher = rooms("watcher", f"{HISTORY_CAPS} draft/event-playback")
    plain = rooms("plain")
    carol = rooms("carol")
    for client in (watcher, plain):
        enter(client, "#room")
    say(watcher, "#room", "before")
    enter(carol, "#room")
    watcher.send("TOPIC #room :new topic")  # the room's operator: +t
    carol.expect("TOPIC")
    carol.send("PART #room :bye")
    carol.expect("PART")
    say(watcher, "#room", "after")
    _, events = history(watcher, "CHATHISTORY LATEST #room * 100")
    commands = [(m.command, m.nick) for m in events]
    assert ("JOIN", "carol") in commands
    assert ("TOPIC", "watcher") in commands
    assert ("PART", "carol") in commands
    assert commands.index(("JOIN", "carol")) < commands.index(("PART", "carol"))
    assert all("msgid" in m.tags and "time" in m.tags for m in events)
    _, only = history(plain, "CHATHISTORY LATEST #room * 2")
    assert [m.command for m in only] == ["PRIVMSG", "PRIVMSG"]
    assert texts(only) == ["before", "after"]


def test_tagmsg_history_only_for_message_tags_clients(rooms: Join) -> None:
    """History follows the live rule: TAGMSG only to clients with message-tags."""
    alice = rooms("alice")
    bare = rooms("bare", "batch server-time draft/chathistory")
    for client in (alice, bare):
        enter(client, "#room")
    alice.send("@+typing=active TAGMSG #room")
    say(alice, "#room", "text")
    assert [m.command for m in history(alice, "CHATHISTORY LATEST #room * 10")[1]] == [
        "TAGMSG",
        "PRIVMSG",
    ]
    assert [m.command for m in history(bare, "CHATHISTORY LATEST #room * 10")[1]] == ["PRIVMSG"]


Replay = tuple[Join, list[Message]]


@pytest.fixture
def replay(history_server: Callable[..., RunningServer], clients: list[IRCClient]) -> Replay:
    """A server without autojoin that replays 3 lines on JOIN, and the echoes of alice's
    "old 1".."old 5" in #room."""
    server = history_server(CoreConfig(autojoin=(), replay_lines=3))

    def join(nick: str, caps: str = HISTORY_CAPS) -> IRCClient:
        return register(server, clients, nick, caps, autojoined=False)

    alice = join("alice")
    enter(alice, "#room")
    return join, say(alice, "#room", *(f"old {i}" for i in range(1, 6)))


def joined(client: IRCClient, room: str) -> list[Message]:
    """What `client` receives after its NAMES for `room`, up to a PING's answer."""
    enter(client, room)
    return sync(client)


def test_replay_as_batch_for_batch_and_server_time(replay: Replay) -> None:
    """A client without chathistory but with batch and server-time gets the last N lines as a
    `chathistory` batch, with their original msgid and time."""
    join, echoes = replay
    dave = join("dave", "batch server-time message-tags")
    after = joined(dave, "#room")
    assert after[0].command == "BATCH"
    assert after[0].params[1:] == ("chathistory", "#room")
    ref = after[0].params[0][1:]
    lines = after[1:-1]
    assert after[-1].params == (f"-{ref}",)
    assert texts(lines) == ["old 3", "old 4", "old 5"]
    assert [m.tags["time"] for m in lines] == [e.tags["time"] for e in echoes[2:]]
    assert [m.tags["msgid"] for m in lines] == [e.tags["msgid"] for e in echoes[2:]]
    assert all(m.tags["batch"] == ref for m in lines)


def test_replay_as_notices_without_batch(replay: Replay) -> None:
    """A plain client gets the last N lines as server NOTICEs saying when each was written."""
    join, echoes = replay
    erin = join("erin", "")
    after = joined(erin, "#room")
    assert [m.command for m in after] == ["NOTICE"] * 3
    assert all(m.source == "easychat.local" and m.params[0] == "#room" for m in after)
    for notice, echo in zip(after, echoes[2:], strict=True):
        stamp = echo.tags["time"][:16].replace("T", " ")  # YYYY-MM-DD HH:MM
        assert notice.params[1] == f"[{stamp} UTC] <alice> {echo.params[1]}"


def test_replayed_action_reads_as_an_action(replay: Replay) -> None:
    """A /me (CTCP ACTION) replayed to a plain client reads `* nick does something`,
    without the CTCP delimiters or the word ACTION; a bare ACTION too."""
    join, _ = replay
    alice = join("alice2")
    enter(alice, "#room")
    echoes = say(alice, "#room", "\x01ACTION does something\x01", "\x01ACTION\x01")
    erin = join("erin", "")
    after = joined(erin, "#room")
    assert len(after) == 3
    stamps = [echo.tags["time"][:16].replace("T", " ") for echo in echoes]
    assert after[1].params[1] == f"[{stamps[0]} UTC] * alice2 does something"
    assert after[2].params[1] == f"[{stamps[1]} UTC] * alice2"
    assert all("\x01" not in m.params[1] for m in after)


def test_no_replay_for_chathistory_clients(replay: Replay) -> None:
    """A client with draft/chathistory asks for history itself: nothing is pushed."""
    frank = replay[0]("frank")
    assert [m.command for m in joined(frank, "#room")] == []


def test_no_replay_when_disabled(
    history_server: Callable[..., RunningServer], clients: list[IRCClient]
) -> None:
    """replay_lines=0 turns the replay off."""
    server = history_server(CoreConfig(autojoin=(), replay_lines=0))
    alice = register(server, clients, "alice", autojoined=False)
    enter(alice, "#room")
    say(alice, "#room", "old")
    erin = register(server, clients, "erin", "", autojoined=False)
    assert joined(erin, "#room") == []


def test_targets_lists_rooms_and_peers_with_activity(rooms: Join) -> None:
    """TARGETS lists the rooms the client is in and the people it talked with, each with the
    time of its latest message; never rooms it is not in or other people's conversations."""
    alice, bob, carol, dave = rooms("alice"), rooms("bob"), rooms("carol"), rooms("dave")
    for room in ("#one", "#two"):
        enter(alice, room)
    (last_one,) = say(alice, "#one", "in one")
    say(alice, "#two", "in two")
    enter(carol, "#carols")
    say(carol, "#carols", "not for alice")
    say(carol, "dave", "private to dave")
    dave.expect("PRIVMSG")
    (to_bob,) = say(alice, "Bob", "hi bob")
    bob.expect("PRIVMSG")
    opener, lines = history(alice, f"CHATHISTORY TARGETS {EVER} {NEVER} 10")
    assert opener.params[1:] == ("draft/chathistory-targets",)
    assert all(m.command == "CHATHISTORY" and m.params[0] == "TARGETS" for m in lines)
    found = {m.params[1].lower(): m.params[2] for m in lines}
    assert set(found) == {"#one", "#two", "bob"}
    assert found["#one"] == last_one.tags["time"]
    assert found["bob"] == to_bob.tags["time"]
    _, none = history(alice, f"CHATHISTORY TARGETS {NEVER} {NEVER} 10")
    assert none == []


def test_quit_is_in_the_history_of_every_room_of_the_quitter(rooms: Join) -> None:
    """One QUIT event (one msgid) is played back in each room the quitter was in."""
    bob = rooms("bob", f"{HISTORY_CAPS} draft/event-playback")
    carol = rooms("carol")
    for room in ("#a", "#b"):
        enter(bob, room)
        enter(carol, room)
    carol.send("QUIT :gone")
    bob.expect("QUIT")
    quits = [
        [m for m in history(bob, f"CHATHISTORY LATEST {room} * 10")[1] if m.command == "QUIT"]
        for room in ("#a", "#b")
    ]
    assert [len(q) for q in quits] == [1, 1]
    assert quits[0][0].nick == quits[1][0].nick == "carol"
    assert quits[0][0].tags["msgid"] == quits[1][0].tags["msgid"]


def test_a_later_holder_of_a_nick_cannot_read_its_private_history(rooms: Join) -> None:
    """ "The server MUST verify the current user's identity matches that of the desired
    content": a new connection that takes a freed nick is not the person who used it."""
    alice, bob = rooms("alice"), rooms("bob")
    say(alice, "bob", "between us")
    bob.expect("PRIVMSG")
    alice.send("QUIT")
    alice.expect_closed()
    mallory = rooms("alice")
    assert history(mallory, "CHATHISTORY LATEST bob * 10")[1] == []
