"""The Unix socket listener: the peer's Unix login is its account and its reserved nick."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from easychat.chat.config import CoreConfig
from easychat.chat.core import ChatCore
from easychat.chat.history import HistoryStore
from easychat.chat.identity.accounts import Account
from easychat.chat.identity.passwords import hash_password
from easychat.cli.commands import build_parser
from easychat.cli.options.unix import unix_path
from easychat.cli.serve import SERVE_OPTIONS
from easychat.cli.settings import SettingsError, resolve
from easychat.net.server import Server
from easychat.net.unixsock import UnixSocketError, bind_unix, is_local_user, peer_user
from easychat.proto.message import Message
from easychat.proto.names import valid_nick
from easychat.store.accounts import SQLiteAccounts
from easychat.store.history import SQLiteHistory
from tests import serverproc
from tests.ircclient import TIMEOUT, IRCClient, RunningServer, plain_token
from tests.serverproc import server_process

ME = pwd.getpwuid(os.getuid()).pw_name
PASSWORD = "correct horse battery"


class UnixIRCClient(IRCClient):
    """The blocking test client over an AF_UNIX stream socket."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(str(path))
        self.buf = b""
        self.received: list[Message] = []
        self.nick: str | None = None


class UnixServer:
    """An EasyChat server on 127.0.0.1 port 0 and a Unix socket, in a thread."""

    def __init__(
        self,
        path: Path,
        config: CoreConfig | None = None,
        *,
        peer: Callable[[socket.socket], str | None] = peer_user,
        local_users: Callable[[str], bool] | None = None,
        history: HistoryStore | None = None,
        unix_mode: int = 0o600,
    ) -> None:
        self.path = path
        users = local_users if local_users is not None else is_local_user
        self.core = ChatCore(config or CoreConfig(), history=history, unix_users=users)
        self.server = Server(
            self.core, "127.0.0.1", 0, unix=str(path), unix_mode=unix_mode, peer_user=peer
        )
        _, self.port = self.server.listen()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.server.serve_forever()
        except BaseException as exc:  # surfaced by stop()
            self.errors.append(exc)

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive(), "server loop did not stop"
        assert not self.errors, f"server loop raised: {self.errors!r}"

    def tcp(self) -> IRCClient:
        return IRCClient(self.port)

    def unix(self) -> UnixIRCClient:
        return UnixIRCClient(self.path)


class FakePeers:
    """A test double of the credential lookup: each accepted peer is the next name."""

    def __init__(self, *names: str | None) -> None:
        self.names = list(names)
        self.lock = threading.Lock()

    def __call__(self, sock: socket.socket) -> str | None:
        with self.lock:
            return self.names.pop(0)


@pytest.fixture
def sock_path(tmp_path: Path) -> Path:
    path = tmp_path / "irc.sock"
    assert len(str(path)) < 100, "AF_UNIX paths hold at most 107 bytes"
    return path


@pytest.fixture
def server(sock_path: Path) -> Iterator[UnixServer]:
    running = UnixServer(sock_path)
    yield running
    running.stop()


def whois_account(client: IRCClient, nick: str) -> str | None:
    """The account WHOIS shows for `nick` (330), or None."""
    client.send(f"WHOIS {nick}")
    replies = client.until("318")
    accounts = [m.params[2] for m in replies if m.command == "330"]
    return accounts[0] if accounts else None


def test_unix_client_is_logged_in_as_its_unix_user(server: UnixServer) -> None:
    """The kernel's SO_PEERCRED names the peer: WHOIS 330 and account-tag show it."""
    listener = server.tcp()
    listener.send("CAP REQ :account-tag extended-join")
    listener.expect("CAP")
    listener.send("CAP END")
    listener.register("Listener")
    local = server.unix()
    local.send("CAP LS 302")
    local.send("NICK Localnick")
    local.send("USER whoever 0 * :Local Person")
    local.send("CAP END")
    burst = local.until("366")
    logged_in = [m for m in burst if m.command == "900"]
    assert [m.params[2] for m in logged_in] == [ME]
    join = listener.expect("JOIN", lambda m: (m.source or "").startswith("Localnick!"))
    assert join.params[1] == ME  # extended-join carries the account
    # The user part is the Unix name (not what USER said); the host says "unix".
    assert join.source == f"Localnick!{ME[:18]}@unix"
    assert whois_account(listener, "Localnick") == ME
    local.send("PRIVMSG #lobby :hello from the socket")
    said = listener.expect("PRIVMSG")
    assert said.tags.get("account") == ME
    local.close()
    listener.close()


def test_a_tcp_client_cannot_take_the_unix_users_nick(server: UnixServer) -> None:
    """A nick equal to a local Unix user's name is refused to everyone but that user."""
    if not _nick_ok(ME):
        pytest.skip(f"the test's Unix user {ME!r} is not a valid nick")
    tcp = server.tcp()
    tcp.send(f"NICK {ME}")
    refused = tcp.expect("433")
    assert refused.params[1] == ME
    tcp.register("Someone")
    tcp.send(f"NICK {ME.upper()}")  # casefolded: the same nick
    assert tcp.expect("433").params[1] == ME.upper()
    # The Unix user itself takes it.
    local = server.unix()
    local.register(ME)
    assert whois_account(tcp, ME) == ME
    local.close()
    tcp.close()


def _nick_ok(name: str) -> bool:
    return valid_nick(name, CoreConfig().nicklen)


def test_two_unix_users_each_own_only_their_own_name(sock_path: Path) -> None:
    """With a double of the credential lookup: alice and bob on one socket."""
    peers = FakePeers("bob", "alice", None)
    running = UnixServer(sock_path, peer=peers, local_users={"alice", "bob", "carol"}.__contains__)
    try:
        bob = running.unix()
        bob.send("NICK alice")
        assert bob.expect("433").params[1] == "alice"
        bob.send("NICK carol")  # an absent local user's name is reserved too
        assert bob.expect("433").params[1] == "carol"
        bob.register("bob")
        alice = running.unix()
        alice.register("alice")
        assert whois_account(alice, "bob") == "bob"
        assert whois_account(bob, "alice") == "alice"
        alice.send("NICK bob")
        assert alice.expect("433").params[1] == "bob"
        # A Unix peer without a passwd entry gets no account and no reserved nick.
        nobody = running.unix()
        nobody.send("NICK carol")
        assert nobody.expect("433").params[1] == "carol"
        nobody.register("stranger")
        assert whois_account(alice, "stranger") is None
        for client in (alice, bob, nobody):
            client.close()
    finally:
        running.stop()


def test_unix_peers_are_exempt_from_per_ip_limits_but_not_flood_control(
    sock_path: Path,
) -> None:
    config = CoreConfig(
        max_clients_per_ip=1, connects_per_ip=1, flood_burst=3, flood_paste=3, flood_rate=0.5
    )
    running = UnixServer(sock_path, config, peer=FakePeers("u1", "u2", "u3"))
    try:
        clients = [running.unix() for _ in range(3)]
        for number, client in enumerate(clients, 1):
            client.register(f"u{number}")
        flooder = clients[0]
        for count in range(20):
            flooder.send(f"PRIVMSG #lobby :line {count}")
        fail = flooder.expect("FAIL")
        assert fail.params[1] == "RATE_LIMITED"
        for client in clients:
            client.close()
    finally:
        running.stop()


def test_no_unix_socket_means_no_reserved_nicks() -> None:
    """Without a Unix socket the server reserves nothing (the core gets no lookup)."""
    running = RunningServer()
    try:
        tcp = running.client()
        tcp.register(ME if _nick_ok(ME) else "plain")
        tcp.close()
    finally:
        running.stop()


# -- the socket file ---------------------------------------------------------------


def test_a_stale_socket_is_replaced_and_a_live_one_is_refused(sock_path: Path) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(sock_path))
    stale.close()  # the file stays, nobody listens: a server that was killed
    first = bind_unix(str(sock_path))
    try:
        with pytest.raises(UnixSocketError, match="already listening"):
            bind_unix(str(sock_path))
        assert stat.S_ISSOCK(sock_path.stat().st_mode)
    finally:
        first.close()


def test_a_file_that_is_not_a_socket_is_left_alone(sock_path: Path) -> None:
    sock_path.write_text("precious")
    with pytest.raises(UnixSocketError, match="not a socket"):
        bind_unix(str(sock_path))
    assert sock_path.read_text() == "precious"


def test_a_personal_socket_is_0600_in_a_new_0700_directory(sock_path: Path) -> None:
    path = sock_path.parent / "sub" / "irc.sock"
    sock = bind_unix(str(path))
    try:
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        sock.close()
        path.unlink()
        path.parent.rmdir()


def test_a_host_wide_socket_is_0666_in_a_0755_directory(sock_path: Path) -> None:
    path = sock_path.parent / "shared" / "irc.sock"
    sock = bind_unix(str(path), mode=0o666)
    try:
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755
        assert stat.S_IMODE(path.stat().st_mode) == 0o666
    finally:
        sock.close()
        path.unlink()
        path.parent.rmdir()


def test_the_server_removes_its_socket_on_shutdown(sock_path: Path) -> None:
    running = UnixServer(sock_path)
    assert stat.S_ISSOCK(sock_path.stat().st_mode)
    running.stop()
    assert not sock_path.exists()


# -- accounts and private history -----------------------------------------------------


def test_no_sasl_login_to_an_account_named_after_a_local_user(
    sock_path: Path, tmp_path: Path
) -> None:
    """An account `alice` made before the socket existed: a TCP login as it would
    put alice's name in account tags and WHOIS for someone who is not alice."""
    running = UnixServer(sock_path, peer=FakePeers("alice"), local_users={"alice"}.__contains__)
    try:
        store = SQLiteAccounts.open(tmp_path / "accounts.sqlite3")
        store.create(Account("alice", hash_password(PASSWORD), None, 0))
        running.core.accounts = store
        tcp = running.tcp()
        tcp.send("CAP REQ sasl")
        tcp.expect("CAP")
        tcp.send("AUTHENTICATE PLAIN")
        tcp.expect("AUTHENTICATE")
        tcp.send(f"AUTHENTICATE {plain_token('alice', PASSWORD)}")
        assert tcp.expect(("903", "904")).command == "904"
        tcp.send("CAP END")
        tcp.register("visitor")
        assert whois_account(tcp, "visitor") is None
        # The Unix user alice takes her nick though the account exists.
        alice = running.unix()
        alice.register("alice")
        assert whois_account(tcp, "alice") == "alice"
        alice.close()
        tcp.close()
    finally:
        running.stop()


def test_a_unix_user_reads_their_private_history_from_a_new_connection(
    sock_path: Path, tmp_path: Path
) -> None:
    """As the owner of a registered nick: the Unix login owns the nick it is named."""
    history = SQLiteHistory(tmp_path / "history.sqlite3")
    peers = FakePeers("alice", "bob", "alice")
    running = UnixServer(
        sock_path, peer=peers, local_users={"alice", "bob"}.__contains__, history=history
    )
    try:
        alice = running.unix()
        alice.register("alice")
        bob = running.unix()
        bob.register("bob")
        bob.send("PRIVMSG alice :while you were here")
        alice.expect("PRIVMSG")
        alice.send("QUIT")
        alice.expect_closed()
        again = running.unix()
        again.send("CAP REQ :batch draft/chathistory server-time message-tags")
        again.expect("CAP")
        again.send("CAP END")
        again.register("alice")
        again.send("CHATHISTORY LATEST bob * 10")
        replies = again.until("BATCH")  # the batch's start
        replies += again.until("BATCH")  # and its end
        texts = [m.params[-1] for m in replies if m.command == "PRIVMSG"]
        assert texts == ["while you were here"]
        for client in (bob, again):
            client.close()
    finally:
        running.stop()
        history.close()


# -- easychat serve --unix ---------------------------------------------------------------


def test_the_unix_setting_defaults_to_the_runtime_dir_and_empty_turns_it_off() -> None:
    runtime = {"XDG_RUNTIME_DIR": "/run/user/1234"}
    assert unix_path({"unix": None}, runtime) == "/run/user/1234/easychat/irc.sock"
    assert unix_path({"unix": None}, {}) is None  # no runtime dir: no default socket
    assert unix_path({"unix": None}, {"XDG_RUNTIME_DIR": "relative"}) is None
    assert unix_path({"unix": ""}, runtime) is None
    assert unix_path({"unix": "/run/easychat/irc.sock"}, runtime) == "/run/easychat/irc.sock"


def test_the_socket_mode_setting_is_octal_from_flag_env_or_toml(tmp_path: Path) -> None:
    parser = build_parser()
    args = parser.parse_args(["serve", "--unix-mode", "666"])
    assert resolve(args, SERVE_OPTIONS, {})["unix_mode"] == 0o666
    args = parser.parse_args(["serve"])
    assert resolve(args, SERVE_OPTIONS, {"EASYCHAT_UNIX_MODE": "0o660"})["unix_mode"] == 0o660
    assert resolve(args, SERVE_OPTIONS, {})["unix_mode"] == 0o600
    toml = tmp_path / "serve.toml"
    toml.write_text('unix = "/run/easychat/irc.sock"\nunix-mode = "666"\n')
    settings = resolve(parser.parse_args(["serve", "--config", str(toml)]), SERVE_OPTIONS, {})
    assert (settings["unix"], settings["unix_mode"]) == ("/run/easychat/irc.sock", 0o666)
    with pytest.raises(SettingsError, match="octal"):
        resolve(parser.parse_args(["serve", "--unix-mode", "999"]), SERVE_OPTIONS, {})


def test_easychat_serve_listens_on_the_unix_socket_given(sock_path: Path) -> None:
    with server_process(":memory:", "--unix", str(sock_path)) as proc:
        local = UnixIRCClient(sock_path)
        local.register("Local")
        tcp = IRCClient(proc.port)
        tcp.register("Remote")
        assert whois_account(tcp, "Local") == ME
        local.close()
        tcp.close()


def test_easychat_serve_defaults_to_the_runtime_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {**serverproc.clean_env(), "XDG_RUNTIME_DIR": str(runtime)}
    monkeypatch.setattr(serverproc, "clean_env", lambda: env)
    path = runtime / "easychat" / "irc.sock"
    with server_process(":memory:") as first:
        assert stat.S_ISSOCK(path.stat().st_mode)
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        local = UnixIRCClient(path)
        local.register("Local")
        # A second personal server finds the default taken: it serves without one.
        with server_process(":memory:") as second:
            assert any("serving without a Unix socket" in line for line in second.output)
            IRCClient(second.port).register("Elsewhere")
        remote = IRCClient(first.port)
        remote.register("Remote")
        assert whois_account(remote, "Local") == ME
        remote.close()
        local.close()


def test_easychat_serve_refuses_a_unix_socket_in_use(sock_path: Path) -> None:
    with server_process(":memory:", "--unix", str(sock_path)):
        result = subprocess.run(
            [
                *(sys.executable, "-m", "easychat", "serve", "--port", "0"),
                *("--host", "127.0.0.1", "--db", ":memory:", "--unix", str(sock_path)),
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT * 2,
            env=serverproc.clean_env(),
            check=False,
        )
    assert result.returncode == 1
    assert f"another server is already listening on {sock_path}" in result.stdout


# -- a real second Unix user (root only) ------------------------------------------------

# Run as the second user: registers over the socket (trying root's login
# first), says one line with echo-message, and prints what it saw.
SECOND_USER_SCRIPT = r"""
import json, socket, sys
sock = socket.socket(socket.AF_UNIX)
sock.settimeout(10)
sock.connect(sys.argv[1])
out = {"refused": [], "echo_account": None}
def send(line):
    sock.sendall(line.encode() + b"\r\n")
buf = b""
def lines():
    global buf
    while True:
        while b"\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                return
            buf += chunk
        line, buf = buf.split(b"\r\n", 1)
        yield line.decode()
send("CAP REQ :echo-message account-tag message-tags")
send("NICK " + sys.argv[2])
send("NICK " + sys.argv[3])
send("USER x 0 * :Second")
send("CAP END")
for line in lines():
    words = line.split(" ")
    if len(words) > 1 and words[1] == "433":
        out["refused"].append(words[3])
    if len(words) > 1 and words[1] == "366":
        send("PRIVMSG #lobby :from the second user")
    if " PRIVMSG #lobby :from the second user" in line:
        tags = dict(t.split("=", 1) for t in line[1:].split(" ", 1)[0].split(";") if "=" in t)
        out["echo_account"] = tags.get("account")
        break
print(json.dumps(out))
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("useradd") is None or not Path("/usr/bin/python3").exists(),
    reason="needs root, useradd and /usr/bin/python3 to act as a second Unix user",
)
def test_a_real_second_unix_user_is_told_apart_by_the_kernel() -> None:
    """Two real logins on one host-wide socket (0666 in a 0755 directory)."""
    name = f"ectest{os.getpid() % 100000}"
    subprocess.run(
        ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True
    )
    shared = Path(tempfile.mkdtemp(prefix="easychat-"))
    shared.chmod(0o755)  # like /run: anyone may pass
    try:
        entry = pwd.getpwnam(name)
        path = shared / "run" / "irc.sock"
        running = UnixServer(path, unix_mode=0o666)
        try:
            listener = running.tcp()
            listener.send("CAP REQ :account-tag")
            listener.expect("CAP")
            listener.send("CAP END")
            listener.register("Listener")
            child = subprocess.run(
                ["/usr/bin/python3", "-c", SECOND_USER_SCRIPT, str(path), ME, name],
                user=entry.pw_uid,
                group=entry.pw_gid,
                extra_groups=[],
                cwd="/",
                capture_output=True,
                text=True,
                timeout=TIMEOUT * 2,
                check=True,
            )
            seen = json.loads(child.stdout)
            assert seen == {"refused": [ME], "echo_account": name}
            said = listener.expect("PRIVMSG")
            assert said.tags.get("account") == name
            assert said.source == f"{name}!{name}@unix"
            listener.close()
        finally:
            running.stop()
    finally:
        subprocess.run(["userdel", name], check=False)
        shutil.rmtree(shared, ignore_errors=True)
