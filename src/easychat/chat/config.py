"""Provides the chat core's settings and their defaults, each with its reason."""

from __future__ import annotations

from dataclasses import dataclass

# A new connection must finish NICK/USER (and CAP) within this many seconds;
# 30 s is generous for a person typing into `nc` and short enough to bound
# half-open connections.
REGISTRATION_TIMEOUT = 30.0

# A registered client that has sent nothing for this long is sent a PING ...
PING_INTERVAL = 120.0
# ... and is disconnected if it stays silent this much longer.
PING_TIMEOUT = 60.0

# Total connections the server accepts; past it a new connection gets
# `ERROR :Server is full` and is closed.
MAX_CLIENTS = 1024

# Name lengths advertised in ISUPPORT. NICKLEN 30 and CHANNELLEN 50 match
# ergo and InspIRCd's defaults; TOPICLEN 390 leaves room for the relayed
# prefix inside 512 bytes.
NICKLEN = 30
CHANNELLEN = 50
TOPICLEN = 390
KICKLEN = 390
AWAYLEN = 390
USERLEN = 18

# Channels one client may be in at once (CHANLIMIT).
MAX_CHANNELS_PER_CLIENT = 50

# Bans kept per channel (MAXLIST).
MAX_BANS = 100

# Targets in one PRIVMSG/NOTICE (TARGMAX), and parameter-taking modes per
# MODE command (MODES).
MAX_TARGETS = 4
MAX_MODES = 4


# CHATHISTORY: most messages one request returns (advertised as
# CHATHISTORY=100, as ergo does by default). Larger asks are cut to this.
HISTORY_PAGE = 100

# Lines of a room's history replayed on JOIN to clients without
# draft/chathistory (they cannot ask for it).
REPLAY_LINES = 20


@dataclass(frozen=True, slots=True)
class CoreConfig:
    """What the chat core needs to know about its deployment."""

    server_name: str = "easychat.local"
    network: str = "EasyChat"
    autojoin: tuple[str, ...] = ("#lobby",)
    motd: tuple[str, ...] | None = None
    max_clients: int = MAX_CLIENTS
    registration_timeout: float = REGISTRATION_TIMEOUT
    ping_interval: float = PING_INTERVAL
    ping_timeout: float = PING_TIMEOUT
    nicklen: int = NICKLEN
    channellen: int = CHANNELLEN
    topiclen: int = TOPICLEN
    history_page: int = HISTORY_PAGE
    replay_lines: int = REPLAY_LINES
    history_days: float = 0.0  # 0 keeps history for ever
    # Server password every client must send with PASS; None lets anyone in.
    password: str | None = None
    # Server operators: (name, scrypt hash) pairs from --oper.
    oper: tuple[tuple[str, str], ...] = ()
