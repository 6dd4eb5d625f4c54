"""Provides `easychat serve`: its settings, the core's config, the stores, logging and signals."""

from __future__ import annotations

import logging
import signal
import sqlite3
import sys
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import IO, Any, cast

from rich.console import Console as RichConsole
from rich.logging import RichHandler

from easychat import __version__
from easychat.chat import config as defaults
from easychat.chat.config import CoreConfig
from easychat.chat.core import ChatCore
from easychat.cli.options.access import ACCESS_OPTIONS
from easychat.cli.options.console import CONSOLE_OPTIONS
from easychat.cli.options.limits import EXEMPT_OPTION, LIMIT_OPTIONS
from easychat.cli.options.tls import TLS_OPTIONS, server_tls
from easychat.cli.options.unix import UNIX_OPTIONS, unix_path
from easychat.cli.settings import (
    Option,
    SettingsError,
    non_negative_float,
    non_negative_int,
    port_number,
    positive_float,
    positive_int,
)
from easychat.net.console import (
    Console,
    ConsoleFile,
    ConsoleHandler,
    NoControlCharacters,
    open_console,
)
from easychat.net.messagelog import MessageLog, MessageLogMode, plain_prefix, rich_prefix
from easychat.net.server import SENDQ_BYTES, Server
from easychat.net.unixsock import UnixSocketError, is_local_user
from easychat.store.accounts import AccountsVersionError, SQLiteAccounts
from easychat.store.clientlog import default_log_dir
from easychat.store.history import HistoryVersionError, SQLiteHistory
from easychat.store.history_search import HistorySearch, SearchVersionError
from easychat.store.lock import HistoryLock, InUseError, hold_lock
from easychat.store.private import exposure_warning
from easychat.store.readmarkers import ReadMarkersVersionError, SQLiteReadMarkers
from easychat.store.rooms import RoomsVersionError, SQLiteRooms

BASE_SERVE_OPTIONS = (
    Option("host", str, "0.0.0.0", "address to listen on"),
    Option("port", port_number, 6667, "TCP port to listen on"),
    Option(
        "autojoin",
        str,
        "#lobby",
        "comma-separated rooms every user joins on arrival; empty for none",
    ),
    Option("motd", str, None, "file holding the message of the day"),
    Option("max-clients", positive_int, defaults.MAX_CLIENTS, "connections served at once"),
    Option("server-name", str, "easychat.local", "name the server gives itself"),
    Option("network", str, "EasyChat", "network name shown to clients"),
    Option(
        "registration-timeout",
        positive_float,
        defaults.REGISTRATION_TIMEOUT,
        "seconds a new connection has to register",
    ),
    Option(
        "ping-interval",
        positive_float,
        defaults.PING_INTERVAL,
        "seconds of silence before the server sends PING",
    ),
    Option(
        "ping-timeout",
        positive_float,
        defaults.PING_TIMEOUT,
        "seconds to wait for an answer to PING",
    ),
    Option("sendq", positive_int, SENDQ_BYTES, "bytes queued for a client before it is cut off"),
    Option("log-level", str, "info", "debug, info, warning or error"),
    Option(
        "db",
        str,
        None,
        "SQLite history file; ':memory:' keeps it in memory only"
        " (default: XDG data dir/easychat/history.sqlite3)",
    ),
    Option(
        "replay-lines",
        non_negative_int,
        defaults.REPLAY_LINES,
        "lines of a room replayed on join to clients without chathistory (0: none)",
    ),
    Option(
        "history-days",
        non_negative_float,
        0.0,
        "delete history older than this many days (0 keeps it for ever)",
    ),
)

SERVE_OPTIONS = (
    *BASE_SERVE_OPTIONS,
    *TLS_OPTIONS,
    *UNIX_OPTIONS,
    *LIMIT_OPTIONS,
    EXEMPT_OPTION,
    *ACCESS_OPTIONS,
    *CONSOLE_OPTIONS,
)


def core_config(settings: dict[str, Any]) -> CoreConfig:
    """The chat core's configuration from resolved settings."""
    motd: tuple[str, ...] | None = None
    if settings["motd"]:
        path = Path(settings["motd"])
        try:
            motd = tuple(path.read_text(encoding="utf-8").splitlines())
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"cannot read MOTD file {path}: {exc}") from None
    rooms = tuple(room.strip() for room in settings["autojoin"].split(",") if room.strip())
    return CoreConfig(
        server_name=settings["server_name"],
        network=settings["network"],
        autojoin=rooms,
        motd=motd,
        max_clients=settings["max_clients"],
        registration_timeout=settings["registration_timeout"],
        ping_interval=settings["ping_interval"],
        ping_timeout=settings["ping_timeout"],
        replay_lines=settings["replay_lines"],
        history_days=settings["history_days"],
        **{opt.dest: settings[opt.dest] for opt in LIMIT_OPTIONS},
        limits_exempt=settings[EXEMPT_OPTION.dest],
        **{opt.dest: settings[opt.dest] for opt in ACCESS_OPTIONS},
    )


def default_db_path() -> Path:
    """Where the history lives by default: the user's data directory (XDG)."""
    return default_log_dir().parent / "history.sqlite3"


def lock_history(settings: dict[str, Any]) -> HistoryLock | None:
    """Keeps other servers off the history file for as long as this one runs.

    Raises:
        SettingsError: another server holds the file, or it cannot be locked.
    """
    path = settings["db"] or str(default_db_path())
    if path == ":memory:":
        return None
    try:
        return hold_lock(Path(path))
    except InUseError as exc:
        raise SettingsError(f"--db: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"--db: cannot lock history {path}: {exc.strerror}") from None


def open_history(settings: dict[str, Any]) -> SQLiteHistory:
    """The history store the settings ask for (':memory:' keeps it in RAM)."""
    path = settings["db"] or str(default_db_path())
    if path != ":memory:":
        warning = exposure_warning(Path(path), "history file (messages, password hashes)")
        if warning is not None:
            logging.getLogger("easychat.server").warning("%s", warning)
    try:
        return SQLiteHistory(path)
    except (OSError, sqlite3.Error, HistoryVersionError) as exc:
        raise SettingsError(f"--db: cannot open history {path}: {exc}") from None


def open_accounts(history: SQLiteHistory) -> SQLiteAccounts:
    """The accounts, kept in the history file on the history's connection."""
    try:
        return SQLiteAccounts(history.db)
    except (sqlite3.Error, AccountsVersionError) as exc:
        raise SettingsError(f"--db: cannot open accounts in {history.path}: {exc}") from None


def open_search(history: SQLiteHistory) -> HistorySearch:
    """The full-text index of the history, in the history file on its connection."""
    try:
        return HistorySearch(history)
    except (sqlite3.Error, SearchVersionError) as exc:
        where = history.path
        raise SettingsError(f"--db: cannot open the search index in {where}: {exc}") from None


def open_rooms(history: SQLiteHistory) -> SQLiteRooms:
    """The kept rooms, in the history file on the history's connection."""
    try:
        return SQLiteRooms(history.db)
    except (sqlite3.Error, RoomsVersionError) as exc:
        raise SettingsError(f"--db: cannot open rooms in {history.path}: {exc}") from None


def open_read_markers(history: SQLiteHistory) -> SQLiteReadMarkers:
    """The accounts' read markers, in the history file on the history's connection."""
    try:
        return SQLiteReadMarkers(history.db)
    except (sqlite3.Error, ReadMarkersVersionError) as exc:
        raise SettingsError(f"--db: cannot open read markers in {history.path}: {exc}") from None


def setup_logging(level: str, console: Console, tty: bool) -> None:
    """Timestamped log lines on `console`: rich on a terminal, plain text otherwise.

    Records are queued on the console, never written where they are made:
    the server's loop writes them once per turn without blocking.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise SettingsError(f"--log-level: unknown level {level!r}")
    handler: logging.Handler
    if tty:
        handler = RichHandler(
            console=RichConsole(file=cast("IO[str]", ConsoleFile(console, tty=True))),
            show_path=False,
            log_time_format="[%Y-%m-%d %H:%M:%S]",
        )
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = ConsoleHandler(console)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S")
        )
    handler.addFilter(NoControlCharacters())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)


def message_log(settings: dict[str, Any], console: Console, tty: bool) -> MessageLog | None:
    """The console's view of relayed messages, or None when it is off.

    Message lines are at the `info` level, as they were as log records:
    `--log-level warning` keeps message text off the console too.
    """
    mode: MessageLogMode = settings["log_messages"]
    if mode is MessageLogMode.OFF or not logging.getLogger().isEnabledFor(logging.INFO):
        return None
    prefix = rich_prefix if tty else plain_prefix
    return MessageLog(console, mode, settings["log_messages_rate"], prefix=prefix)


def say(console: Console, text: str) -> None:
    """Queues a plain line (no timestamp) on the console, as the seed printed it."""
    console.write(text.encode() + b"\n")


def listen(server: Server, *, explicit_unix: bool) -> str:
    """Binds the server's sockets; returns the TCP host.

    The default Unix socket is given up (with a warning) when it cannot be
    used, e.g. another personal server of the same user has it; one asked
    for with --unix must work.
    """
    try:
        host, _ = server.listen()
    except UnixSocketError as exc:
        if explicit_unix:
            raise
        logging.getLogger("easychat.server").warning("%s; serving without a Unix socket", exc)
        server.unix = None
        server.core.unix_users = None  # no Unix peers: no reserved logins
        host, _ = server.listen()
    return host


def serve(settings: dict[str, Any]) -> int:
    """Runs the server until SIGINT or SIGTERM; returns the exit status.

    All its output goes through one console (net/console.py), closed (what
    is left written within a grace period) however the server ends.
    """
    tty = sys.stdout.isatty()
    console = open_console(sys.stdout.fileno(), settings["console_buffer"])
    try:
        return run(settings, console, tty)
    finally:
        console.close()


def run(settings: dict[str, Any], console: Console, tty: bool) -> int:
    """Sets up logging, the stores and the server, and serves until stopped."""
    setup_logging(settings["log_level"], console, tty)
    log = logging.getLogger("easychat.server")
    tls = server_tls(settings)
    # With TLS, --port 0 turns plain TCP off; without, it still lets the
    # system pick a free port (the test helpers rely on it).
    plain_port: int | None = settings["port"] if tls is None or settings["port"] else None
    lock = lock_history(settings)  # held until the process ends
    history = open_history(settings)
    config = core_config(settings)
    if tls is not None:
        config = replace(
            config, sts_port=settings["tls_port"], sts_duration=settings["sts_duration"]
        )
    accounts = open_accounts(history)  # accounts and K-lines, in the history file
    rooms = open_rooms(history)  # kept rooms (modes, topic, bans, ...), in the history file
    search = open_search(history)  # the full-text index (SEARCH), in the history file
    unix = unix_path(settings)
    core = ChatCore(
        config,
        history=history,
        accounts=accounts,
        klines=accounts,
        rooms=rooms,
        read_markers=open_read_markers(history),
        search=search,
        unix_users=is_local_user if unix is not None else None,
    )
    server = Server(
        core,
        settings["host"],
        plain_port,
        settings["sendq"],
        tls=tls.context if tls is not None else None,
        tls_port=settings["tls_port"],
        handshake_timeout=settings["tls_handshake_timeout"],
        unix=unix,
        unix_mode=settings["unix_mode"],
        console=console,
        messages=message_log(settings, console, tty),
    )
    try:
        host = listen(server, explicit_unix=settings["unix"] is not None)
    except UnixSocketError as exc:
        log.error("--unix: %s", exc)
        return 1
    except OSError as exc:
        ports = [str(p) for p in (plain_port, tls and settings["tls_port"]) if p is not None]
        log.error("cannot listen on %s:%s: %s", settings["host"], "/".join(ports), exc.strerror)
        return 1
    if tls is not None and core.config.sts_port != server.tls_port:
        core.config = replace(core.config, sts_port=server.tls_port)  # --tls-port 0

    def on_signal(signum: int, frame: FrameType | None) -> None:
        server.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if server.port is not None:
        log.info("EasyChat %s listening on %s:%d", __version__, host, server.port)
    if tls is not None:
        log.info("EasyChat %s listening for TLS on %s:%d", __version__, host, server.tls_port)
        log.info("TLS certificate: %s", tls.cert)
        say(console, f"TLS certificate SHA-256 fingerprint: {tls.fingerprint}")
    if server.unix is not None:
        log.info("EasyChat %s listening on the Unix socket %s", __version__, server.unix)
    say(console, "Waiting for a connection...")
    log.info("history: %s", "memory only" if history.path == ":memory:" else history.path)
    console.flush()  # the startup lines, before the first turn's wait
    server.serve_forever()
    history.close()
    if lock is not None:
        lock.release()
    log.info("server stopped")
    return 0
