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
# Bytes of a realname SETNAME accepts: like AWAYLEN, the SETNAME relayed to
# others with the sender's prefix still fits a 512-byte line.
REALNAMELEN = 390

# Channels one client may be in at once (CHANLIMIT).
MAX_CHANNELS_PER_CLIENT = 50

# Rooms on the server at once, kept empty ones included (chat/rooms.py):
# past it JOIN cannot create a room (405) until some close or are dropped.
# Rooms in use are bounded by clients times CHANLIMIT; kept rooms would
# grow without end (a topic in each of a million typos) without this.
MAX_ROOMS = 10_000

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

# Flood control (chat/protection/flood.py), after ergo's default "fakelag": a burst of
# 5 lines, then 2 lines a second. A person never types faster than that
# for long; a script or a pasted log does, and slowing it protects everyone
# else in the room and the server's output buffers.
FLOOD_BURST = 5
FLOOD_RATE = 2.0
# A paste of this many chat lines (PRIVMSG/NOTICE/TAGMSG) from a quiet client
# goes out at once: a stack trace or a short poem is ~20 lines. The 15 lines
# above the burst come from a reserve that fills only while the client is
# idle (10 s from empty at 2/s), so the sustained rate stays 2 lines/s.
FLOOD_PASTE = 20
# Lines held past the limit and sent as tokens come in (10 s of delay at
# 2/s): a long paste is delayed, not lost. Past the queue a line is refused
# with FAIL; memory per client stays bounded (20 lines of at most 8 KiB).
FLOOD_QUEUE = 20
# Lines refused (queue full) before the queue drains again, after which
# the client is disconnected for "Excess Flood". 10 refusals in a row means
# the client is ignoring its FAIL replies: a script, not a person.
FLOOD_EXCESS = 10

# Connections from one IP address at once. 16 is ergo's default
# (max-concurrent-connections): a household or small office behind a NAT
# fits; one host cannot take the server's whole client limit.
MAX_CLIENTS_PER_IP = 16
# New connections from one IP address per minute. A client reconnecting
# after a network blip needs a few; 20 lets a NAT full of them come back at
# once, while a script cycling connections is stopped within a minute
# (ergo allows 32 per 10 minutes).
CONNECTS_PER_IP = 20
# Failed registration steps (a refused NICK, USER or PASS, a registration
# timeout) from one IP address within 10 minutes before its connections are
# closed and refused: a real client fails a nick or two, a password or nick
# guesser fails all the time.
REGISTRATION_FAILURES_PER_IP = 10

# Shortest password REGISTER accepts for a new account: NIST SP 800-63B's
# minimum for a password the user chose.
PASSWORD_MIN_LENGTH = 8
# Addresses and networks the three per-IP limits above do not apply to.
# Loopback, as ergo exempts localhost: on a shared host every user connects
# from 127.0.0.1, so a limit per address would be a limit for the whole
# host (the 17th user refused). Flood control still applies to everyone.
LIMITS_EXEMPT = ("127.0.0.0/8", "::1")


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
    # Abuse and load limits (reasons next to the constants above); 0 turns
    # each off. flood_rate or flood_burst 0 turns flood control off.
    flood_burst: int = FLOOD_BURST
    flood_rate: float = FLOOD_RATE
    flood_paste: int = FLOOD_PASTE
    flood_queue: int = FLOOD_QUEUE
    flood_excess: int = FLOOD_EXCESS
    max_clients_per_ip: int = MAX_CLIENTS_PER_IP
    connects_per_ip: int = CONNECTS_PER_IP
    registration_failures_per_ip: int = REGISTRATION_FAILURES_PER_IP
    limits_exempt: tuple[str, ...] = LIMITS_EXEMPT  # addresses or CIDR networks
    # IRCv3 sts: the TLS port plain connections are told to move to (0: the
    # server has no TLS, no policy is offered) and, on TLS connections, how
    # many seconds clients keep the policy.
    sts_port: int = 0
    sts_duration: int = 0
    # Server password every client must send with PASS; None lets anyone in.
    password: str | None = None
    # Server operators: (name, scrypt hash) pairs from --oper.
    oper: tuple[tuple[str, str], ...] = ()
    password_min_length: int = PASSWORD_MIN_LENGTH
