"""Room persistence: a protected room outlives its emptying and a restart (issue 10, item 2).

The rule under test (SECURITY.md, "Room persistence"): a room is kept once
it has a mode other than a new room's +nt, a key, a limit, a topic or a ban;
kept rooms stay when empty and are stored in the --db file, so JOIN still
checks their +i/+k/+l/+b, nobody becomes operator by being first back in
unless logged in to an account that was operator there, and so nobody reads
their history (replay on join, CHATHISTORY) without being let in. A room
with nothing of that vanishes when empty, as before. DROP forgets one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from easychat.chat import config as limits
from easychat.chat import rooms
from easychat.chat.config import CoreConfig
from easychat.chat.core import ChatCore
from easychat.chat.identity.passwords import hash_password
from easychat.chat.rooms import StoredRoom
from easychat.chat.state import Ban
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.store.accounts import SQLiteAccounts
from easychat.store.history import SQLiteHistory
from easychat.store.rooms import RoomsVersionError, SQLiteRooms
from tests.chatcore_harness import CoreDriver, FakeClock
from tests.ircclient import IRCClient, RunningServer, plain_token
from tests.nolimits import unlimited
from tests.serverproc import HISTORY_CAPS, history_client, server_process

PASSWORD = "correct horse battery"
OPER_PASSWORD = "oper secret"
SECRET = "the secret plans"


def join(client: IRCClient, line: str) -> list[Message]:
    """Sends a JOIN; returns what came up to its end (366) or its refusal."""
    client.send(line)
    start = len(client.received)
    client.expect(
        ("366", n.ERR_BADCHANNELKEY, n.ERR_INVITEONLYCHAN, n.ERR_BANNEDFROMCHAN, "FAIL", "403")
    )
    return client.received[start:]


def refusal(seen: list[Message]) -> str | None:
    """The numeric that refused a JOIN, or None when it succeeded."""
    last = seen[-1]
    return None if last.command == "366" else last.command


def names_of(seen: list[Message]) -> list[str]:
    """The names (with prefixes) of the 353 replies in `seen`."""
    return [name for m in seen if m.command == "353" for name in m.params[-1].split()]


def sync(client: IRCClient) -> list[Message]:
    """Everything the server sent `client` up to the answer to a PING."""
    client.send("PING sync")
    return client.until("PONG")


def no_history_reaches(client: IRCClient, room: str) -> None:
    """`client` (with chathistory) is refused the room's history, and saw no secret."""
    client.send(f"CHATHISTORY LATEST {room} * 50")
    fail = client.expect("FAIL")
    assert fail.params[:2] == ("CHATHISTORY", "INVALID_TARGET")
    seen = sync(client)
    assert not [m for m in client.received if SECRET in " ".join(m.params)], seen


def plain(server: RunningServer, nick: str) -> IRCClient:
    """A registered client without capabilities (so it would get the replay on join)."""
    client = server.client()
    client.register(nick, autojoined=False)
    return client


def with_history(server: RunningServer, nick: str) -> IRCClient:
    """A registered client with draft/chathistory."""
    client = server.client()
    client.send("CAP LS 302")
    client.send(f"CAP REQ :{' '.join(HISTORY_CAPS)}")
    client.expect("CAP", lambda m: m.params[1] == "ACK")
    client.send("CAP END")
    client.register(nick, autojoined=False)
    return client


@pytest.fixture
def server(make_server: Callable[..., RunningServer], tmp_path: Path) -> RunningServer:
    """An in-process server without autojoin, with history in a SQLite file and an oper."""
    config = CoreConfig(autojoin=(), oper=(("root", hash_password(OPER_PASSWORD)),))
    return make_server(config, history=SQLiteHistory(tmp_path / "h.sqlite3"))


@pytest.fixture
def clients() -> Iterator[list[IRCClient]]:
    """Clients to close after the test."""
    opened: list[IRCClient] = []
    yield opened
    for client in opened:
        client.close()


# -- (a) +k, everyone leaves ---------------------------------------------------------------


def test_a_keyed_room_that_empties_stays_locked(
    server: RunningServer, clients: list[IRCClient]
) -> None:
    """Before: the stranger's JOIN created #vault anew, made it operator and
    replayed the secret. Now: 475, no replay, no CHATHISTORY, no operator."""
    owner = plain(server, "owner")
    clients.append(owner)
    join(owner, "JOIN #vault")
    owner.send("MODE #vault +k sesame")
    owner.expect("MODE")
    owner.send(f"PRIVMSG #vault :{SECRET}")
    owner.send("PART #vault")
    owner.expect("PART")
    stranger = plain(server, "stranger")
    reader = with_history(server, "reader")
    clients += [stranger, reader]
    assert refusal(join(stranger, "JOIN #vault")) == n.ERR_BADCHANNELKEY
    assert refusal(join(reader, "JOIN #vault")) == n.ERR_BADCHANNELKEY
    sync(stranger)
    assert not [m for m in stranger.received if SECRET in " ".join(m.params)]
    no_history_reaches(reader, "#vault")
    # With the key one gets in, but not as operator: the room was not created.
    seen = join(stranger, "JOIN #vault sesame")
    assert refusal(seen) is None
    assert names_of(seen) == ["stranger"]
    stranger.send("MODE #vault -k *")
    assert stranger.expect(n.ERR_CHANOPRIVSNEEDED)


def test_an_invitation_outlives_the_room_emptying(
    server: RunningServer, clients: list[IRCClient]
) -> None:
    owner, guest, stranger = plain(server, "owner"), plain(server, "guest"), plain(server, "eve")
    clients += [owner, guest, stranger]
    join(owner, "JOIN #club")
    owner.send("MODE #club +i")
    owner.expect("MODE")
    owner.send("INVITE guest #club")
    owner.expect(n.RPL_INVITING)
    owner.send("PART #club")
    owner.expect("PART")
    assert refusal(join(stranger, "JOIN #club")) == n.ERR_INVITEONLYCHAN
    assert refusal(join(guest, "JOIN #club")) is None


# -- (e) an ordinary room still vanishes -------------------------------------------------------


def test_an_ordinary_room_vanishes_when_empty(
    server: RunningServer, clients: list[IRCClient]
) -> None:
    """A room with nothing but the defaults (and some history) is not kept, so
    typos do not pile up; the next to join creates it and is its operator."""
    alice = plain(server, "alice")
    clients.append(alice)
    join(alice, "JOIN #typo")
    alice.send("PRIVMSG #typo :oops")
    alice.send("MODE #typo +v alice")  # voice is not room state
    alice.expect("MODE")
    alice.send("PART #typo")
    alice.expect("PART")
    alice.send("LIST")
    assert [m for m in alice.until(n.RPL_LISTEND) if m.command == n.RPL_LIST] == []
    bob = plain(server, "bob")
    clients.append(bob)
    assert names_of(join(bob, "JOIN #typo")) == ["@bob"]


def test_a_room_whose_state_is_undone_vanishes(
    server: RunningServer, clients: list[IRCClient]
) -> None:
    alice = plain(server, "alice")
    clients.append(alice)
    join(alice, "JOIN #temp")
    alice.send("MODE #temp +k key")
    alice.send("TOPIC #temp :for a while")
    alice.send("MODE #temp -k *")
    alice.send("TOPIC #temp :")
    alice.send("PART #temp")
    alice.expect("PART")
    bob = plain(server, "bob")
    clients.append(bob)
    assert names_of(join(bob, "JOIN #temp")) == ["@bob"]


def test_a_kept_room_is_listed_empty_unless_secret(
    server: RunningServer, clients: list[IRCClient]
) -> None:
    alice = plain(server, "alice")
    clients.append(alice)
    join(alice, "JOIN #open")
    alice.send("TOPIC #open :all welcome")
    join(alice, "JOIN #hidden")
    alice.send("MODE #hidden +s")
    alice.send("PART #open,#hidden")
    sync(alice)
    alice.send("LIST")
    listed = [m.params[1:] for m in alice.until(n.RPL_LISTEND) if m.command == n.RPL_LIST]
    assert listed == [("#open", "0", "all welcome")]


# -- (f) dropping -------------------------------------------------------------------------


def test_only_operators_drop_a_room(server: RunningServer, clients: list[IRCClient]) -> None:
    """DROP #room: a room operator or a server operator forgets the room; its
    members are removed; the next JOIN creates it fresh."""
    owner, member = plain(server, "owner"), plain(server, "member")
    clients += [owner, member]
    join(owner, "JOIN #vault")
    owner.send("MODE #vault +k sesame")
    owner.expect("MODE")
    join(member, "JOIN #vault sesame")
    owner.send(f"PRIVMSG #vault :{SECRET}")
    member.expect("PRIVMSG")
    member.send("DROP #vault")
    assert member.expect(n.ERR_CHANOPRIVSNEEDED).params[1] == "#vault"
    owner.send("DROP #vault")
    kick = member.expect("KICK", lambda m: m.params[1] == "member")
    assert kick.params[0] == "#vault"
    owner.expect("KICK", lambda m: m.params[1] == "owner")
    stranger = plain(server, "stranger")
    clients.append(stranger)
    assert names_of(join(stranger, "JOIN #vault")) == ["@stranger"]
    # Its history went with it: no replay of what was said behind the key.
    sync(stranger)
    assert not [m for m in stranger.received if SECRET in " ".join(m.params)]


def test_a_server_operator_drops_an_empty_room(
    server: RunningServer, clients: list[IRCClient]
) -> None:
    owner, admin = plain(server, "owner"), plain(server, "admin")
    clients += [owner, admin]
    join(owner, "JOIN #vault")
    owner.send("MODE #vault +k sesame")
    owner.send("PART #vault")
    owner.expect("PART")
    admin.send("DROP #vault")
    assert admin.expect(n.ERR_CHANOPRIVSNEEDED)
    admin.send(f"OPER root :{OPER_PASSWORD}")
    admin.expect(n.RPL_YOUREOPER)
    admin.send("DROP #vault")
    assert "dropped" in admin.expect("NOTICE").params[-1]
    admin.send("DROP #nowhere")
    assert admin.expect("403").params[1] == "#nowhere"
    assert names_of(join(owner, "JOIN #vault")) == ["@owner"]


# -- across a restart (a real `easychat serve` and its --db file) ---------------------------------


def account_client(port: int, nick: str, *, register: bool = False) -> IRCClient:
    """A client with chathistory logged in to the account `nick` (created first with `register`)."""
    if register:
        client = history_client(port, nick)
        client.send(f"REGISTER * * :{PASSWORD}")
        client.expect("REGISTER", lambda m: m.params[0] == "SUCCESS")
        return client
    return history_client(port, nick, password=PASSWORD)


def test_a_keyed_room_stays_locked_across_a_restart(tmp_path: Path) -> None:
    """(b) Before: after a restart the room was gone; a stranger's JOIN created it
    and made them operator. Now it is restored: 475, no history; its operator
    account gets operator back."""
    db = tmp_path / "server.sqlite3"
    with server_process(db) as first:
        owner = account_client(first.port, "owner", register=True)
        join(owner, "JOIN #vault")
        owner.send("MODE #vault +k sesame")
        owner.expect("MODE")
        owner.send(f"PRIVMSG #vault :{SECRET}")
        owner.expect("PRIVMSG")
        assert first.kill9() != 0  # no clean shutdown: the room was stored when set
        owner.close()
    with server_process(db) as second:
        stranger = history_client(second.port, "stranger")
        old = IRCClient(second.port)  # no chathistory: it would get the replay on join
        old.register("old")
        assert refusal(join(stranger, "JOIN #vault")) == n.ERR_BADCHANNELKEY
        assert refusal(join(old, "JOIN #vault")) == n.ERR_BADCHANNELKEY
        no_history_reaches(stranger, "#vault")
        sync(old)
        assert not [m for m in old.received if SECRET in " ".join(m.params)]
        assert names_of(join(stranger, "JOIN #vault sesame")) == ["stranger"]
        owner = account_client(second.port, "owner")
        assert names_of(join(owner, "JOIN #vault sesame")) == ["stranger", "@owner"]
        # The members already there are told, as a services auto-op would.
        opped = stranger.expect("MODE", lambda m: m.params[0] == "#vault")
        assert (opped.source, opped.params[1:]) == ("easychat.local", ("+o", "owner"))
        for client in (stranger, old, owner):
            client.close()


def test_invite_only_and_an_account_invitation_outlive_a_restart(tmp_path: Path) -> None:
    """(c) +i stays; an invitation to a logged-in account is kept by account
    (a connection's own invitation ends with the connection), used up once."""
    db = tmp_path / "server.sqlite3"
    with server_process(db) as first:
        owner = account_client(first.port, "owner", register=True)
        guest = account_client(first.port, "guest", register=True)
        join(owner, "JOIN #club")
        owner.send("MODE #club +i")
        owner.expect("MODE")
        owner.send("INVITE guest #club")
        owner.expect(n.RPL_INVITING)
        guest.expect("INVITE")
        assert first.kill9() != 0
        owner.close()
        guest.close()
    with server_process(db) as second:
        stranger = history_client(second.port, "stranger")
        assert refusal(join(stranger, "JOIN #club")) == n.ERR_INVITEONLYCHAN
        no_history_reaches(stranger, "#club")
        guest = account_client(second.port, "guest")
        assert names_of(join(guest, "JOIN #club")) == ["guest"]
        guest.send("PART #club")
        guest.expect("PART")
        assert refusal(join(guest, "JOIN #club")) == n.ERR_INVITEONLYCHAN
        stranger.close()
        guest.close()


def test_topic_and_bans_outlive_a_restart(tmp_path: Path) -> None:
    """(d) The topic with its setter and time, and the ban list, are restored."""
    db = tmp_path / "server.sqlite3"
    with server_process(db) as first:
        owner = account_client(first.port, "owner", register=True)
        join(owner, "JOIN #news")
        owner.send("TOPIC #news :read the news")
        owner.send("MODE #news +b eve!*@*")
        owner.expect("MODE")
        owner.send("TOPIC #news")
        topic_time = owner.expect(n.RPL_TOPICWHOTIME).params[2:]
        owner.send("MODE #news b")
        bans = owner.expect(n.RPL_BANLIST).params[1:]
        first.kill9()
        owner.close()
    with server_process(db) as second:
        eve = history_client(second.port, "eve")
        assert refusal(join(eve, "JOIN #news")) == n.ERR_BANNEDFROMCHAN
        no_history_reaches(eve, "#news")
        reader = history_client(second.port, "reader")
        seen = join(reader, "JOIN #news")
        assert [m.params[1:] for m in seen if m.command == n.RPL_TOPIC] == [
            ("#news", "read the news")
        ]
        assert [m.params[2:] for m in seen if m.command == n.RPL_TOPICWHOTIME] == [topic_time]
        assert names_of(seen) == ["reader"]  # nobody logged in to an op account: no operator
        reader.send("MODE #news b")
        assert reader.expect(n.RPL_BANLIST).params[1:] == bans
        eve.close()
        reader.close()


def test_a_dropped_room_stays_dropped_after_a_restart(tmp_path: Path) -> None:
    """(f) DROP deletes the stored room too."""
    db = tmp_path / "server.sqlite3"
    with server_process(db) as first:
        owner = account_client(first.port, "owner", register=True)
        join(owner, "JOIN #vault")
        owner.send("MODE #vault +k sesame")
        owner.send("TOPIC #vault :keep out")
        join(owner, "JOIN #other")
        owner.send("MODE #other +i")
        owner.send("DROP #vault")
        owner.expect("KICK")
        sync(owner)
        first.kill9()
        owner.close()
    with server_process(db) as second:
        stranger = history_client(second.port, "stranger")
        seen = join(stranger, "JOIN #vault")
        assert names_of(seen) == ["@stranger"]
        assert n.RPL_TOPIC not in [m.command for m in seen]
        assert refusal(join(stranger, "JOIN #other")) == n.ERR_INVITEONLYCHAN
        stranger.close()


# -- the store and what the core writes to it -------------------------------------------------


def stored_core(path: Path, clock: FakeClock | None = None) -> CoreDriver:
    """A core (a server start) keeping rooms and accounts in the SQLite file `path`."""
    driver = CoreDriver(unlimited(autojoin=()))
    if clock is not None:
        driver.clock = clock
    history = SQLiteHistory(path)
    accounts = SQLiteAccounts(history.db)
    driver.core = ChatCore(
        driver.config,
        clock=driver.clock,
        history=history,
        accounts=accounts,
        rooms=SQLiteRooms(history.db),
    )
    return driver


def stored(path: Path, drv: CoreDriver | None = None) -> dict[str, StoredRoom]:
    """The rooms stored in `path`, read through a connection of their own
    (after the end of `drv`'s turn, as the server loop would end it)."""
    if drv is not None:
        drv.core.end_turn()
    store = SQLiteRooms.open(path)
    try:
        return {room.folded: room for room in store.load_rooms()}
    finally:
        store.close()


def test_rooms_are_stored_when_they_gain_state_and_removed_when_it_goes(tmp_path: Path) -> None:
    path = tmp_path / "server.sqlite3"
    drv = stored_core(path)
    alice = drv.register("alice", "#typo", "#Kept")
    drv.send(alice, "PRIVMSG #typo :history alone does not keep a room")
    assert stored(path, drv) == {}
    drv.send(alice, "TOPIC #Kept :a topic keeps it")
    drv.send(alice, "MODE #Kept +lk 10 sesame")
    room = stored(path, drv)["#kept"]
    assert (room.name, room.topic, room.key, room.limit) == (
        "#Kept",
        "a topic keeps it",
        "sesame",
        10,
    )
    assert room.modes == {"n", "t"}
    drv.send(alice, "MODE #Kept -lk *")
    drv.send(alice, "TOPIC #Kept :")
    assert stored(path, drv) == {}


def test_operator_accounts_are_given_and_taken_by_mode_o(tmp_path: Path) -> None:
    """The creator's account and accounts given +o are the room's operator accounts;
    -o takes one away. Connections without an account are never stored as operators."""
    path = tmp_path / "server.sqlite3"
    drv = stored_core(path)
    owner, helper, anon = drv.register("owner"), drv.register("helper"), drv.register("anon")
    for conn in (owner, helper):
        assert drv.send(conn, f"REGISTER * * :{PASSWORD}")[0].command == "REGISTER"
    drv.send(owner, "JOIN #room")
    drv.send(owner, "MODE #room +s")
    drv.send(helper, "JOIN #room")
    drv.send(anon, "JOIN #room")
    drv.send(owner, "MODE #room +oo helper anon")
    assert stored(path, drv)["#room"].op_accounts == {"owner", "helper"}
    drv.send(owner, "MODE #room -o helper")
    assert stored(path, drv)["#room"].op_accounts == {"owner"}
    # After a restart only the owner's account gets operator back.
    again = stored_core(path, drv.clock)
    for nick in ("helper", "anon", "owner"):
        conn = login(again, nick) if nick != "anon" else again.register(nick)
        joined = again.send(conn, "JOIN #room")
        names = names_of(joined)
        assert ("@" + nick in names) == (nick == "owner"), names


def login(drv: CoreDriver, nick: str) -> int:
    """Connects `nick`, logged in to its account with SASL PLAIN."""
    conn = drv.open()
    for line in ("CAP LS 302", "CAP REQ sasl", f"NICK {nick}", f"USER {nick} 0 * :{nick}"):
        drv.send(conn, line)
    drv.send(conn, "AUTHENTICATE PLAIN")
    assert n.RPL_SASLSUCCESS in [
        m.command for m in drv.send(conn, f"AUTHENTICATE {plain_token(nick, PASSWORD)}")
    ]
    assert n.RPL_WELCOME in [m.command for m in drv.send(conn, "CAP END")]
    return conn


def test_the_store_shares_the_history_file_and_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "server.sqlite3"
    history = SQLiteHistory(path)
    SQLiteAccounts(history.db)
    rooms = SQLiteRooms(history.db)
    room = StoredRoom(
        name="#Vault",
        created=1,
        modes=frozenset("ikmnst"),
        key="k",
        limit=3,
        topic="t",
        topic_setter="a!b@c",
        topic_time=2,
        bans=(Ban("eve!*@*", "a!b@c", 3),),
        invited_accounts=frozenset({"guest"}),
        op_accounts=frozenset({"owner"}),
    )
    rooms.save_room(room)
    history.close()
    assert stored(path) == {"#vault": room}
    reopened = SQLiteHistory(path)  # the history schema is untouched by the rooms table
    reopened.db.execute("UPDATE rooms_schema SET version = 99")
    with pytest.raises(RoomsVersionError):
        SQLiteRooms(reopened.db)
    reopened.close()


def test_rooms_past_the_limit_are_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MAX_ROOMS bounds the rooms, kept ones included: past it a JOIN that would
    create a room is refused with 405; joining an existing one still works, and
    a DROP makes room for a new one."""
    monkeypatch.setattr(limits, "MAX_ROOMS", 2)
    drv = stored_core(tmp_path / "server.sqlite3")
    alice = drv.register("alice", "#one", "#two")
    drv.send(alice, "TOPIC #one :kept")
    drv.send(alice, "TOPIC #two :kept")
    drv.send(alice, "PART #one,#two")
    bob = drv.register("bob")
    refused = drv.send(bob, "JOIN #three")
    assert [(m.command, m.params[1]) for m in refused] == [(n.ERR_TOOMANYCHANNELS, "#three")]
    assert "JOIN" in [m.command for m in drv.send(bob, "JOIN #one")]
    drv.send(bob, "PART #one")
    drv.core.clients[bob].modes.add("o")  # a server operator (as OPER would make it)
    drv.send(bob, "DROP #two")
    assert "JOIN" in [m.command for m in drv.send(bob, "JOIN #three")]


def test_invitations_stored_per_room_are_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MAX_INVITED_ACCOUNTS an invitation is not stored for the account, but
    still lets the invited connection in."""
    monkeypatch.setattr(rooms, "MAX_INVITED_ACCOUNTS", 1)
    path = tmp_path / "server.sqlite3"
    drv = stored_core(path)
    owner = drv.register("owner", "#club")
    drv.send(owner, "MODE #club +i")
    guests = [drv.register(nick) for nick in ("first", "second")]
    for conn in guests:
        drv.send(conn, f"REGISTER * * :{PASSWORD}")
    drv.send(owner, "INVITE first #club")
    drv.send(owner, "INVITE second #club")
    assert stored(path, drv)["#club"].invited_accounts == {"first"}
    assert "JOIN" in [m.command for m in drv.send(guests[1], "JOIN #club")]


def test_exception_lists_are_kept_with_the_room(tmp_path: Path) -> None:
    """Ban and invite exceptions keep a room like bans do, and come back after
    a restart in their own lists (bans are stored as before)."""
    path = tmp_path / "server.sqlite3"
    drv = stored_core(path)
    alice = drv.register("alice", "#ex")
    drv.send(alice, "MODE #ex +e friend!*@*")
    drv.send(alice, "MODE #ex +I guest!*@*")
    drv.send(alice, "PART #ex")
    room = stored(path, drv)["#ex"]
    assert [b.mask for b in room.excepts] == ["friend!*@*"]
    assert [b.mask for b in room.invexes] == ["guest!*@*"]
    assert room.bans == ()
    restarted = stored_core(path)
    channel = restarted.core.channels["#ex"]
    assert [b.mask for b in channel.excepts] == ["friend!*@*"]
    assert [b.mask for b in channel.invexes] == ["guest!*@*"]


def test_mutes_are_kept_with_the_room(tmp_path: Path) -> None:
    """A mute (`+b m:<mask>`) is a ban entry like any other: stored, and after a
    restart it still silences without keeping anyone out."""
    path = tmp_path / "server.sqlite3"
    drv = stored_core(path)
    alice = drv.register("alice", "#quiet")
    drv.send(alice, "MODE #quiet +b m:eve")
    drv.send(alice, "PART #quiet")
    assert [b.mask for b in stored(path, drv)["#quiet"].bans] == ["m:eve!*@*"]
    restarted = stored_core(path)
    eve = restarted.register("eve", "#quiet")
    assert [c.name for c in restarted.core.channels["#quiet"].members] == ["eve"]
    refused = restarted.send(eve, "PRIVMSG #quiet :hi")
    assert [m.command for m in refused] == [n.ERR_CANNOTSENDTOCHAN]
