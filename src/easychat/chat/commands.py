"""Provides the command table: each command's handler and its policy."""

from __future__ import annotations

from easychat.chat import rooms
from easychat.chat.actions import Command
from easychat.chat.handlers import (
    channels,
    chathistory,
    chghost,
    help,
    markread,
    messaging,
    modes,
    monitor,
    multiline,
    oper,
    queries,
    redaction,
    registration,
    rename,
    search,
    who,
)
from easychat.chat.identity import accounts, sasl

COMMANDS: dict[str, Command] = {
    # Allowed before registration.
    "CAP": Command(registration.handle_cap, 1, before_registration=True),
    "PASS": Command(registration.handle_pass, 1, before_registration=True),
    "NICK": Command(registration.handle_nick, 0, before_registration=True),
    "USER": Command(registration.handle_user, 4, before_registration=True),
    "PING": Command(registration.handle_ping, 1, before_registration=True),
    "PONG": Command(registration.handle_pong, 0, before_registration=True),
    "QUIT": Command(registration.handle_quit, 0, before_registration=True),
    "AUTHENTICATE": Command(sasl.handle_authenticate, 1, before_registration=True),
    "REGISTER": Command(accounts.handle_register, 3, before_registration=True),
    # Rooms.
    "JOIN": Command(channels.handle_join, 1),
    "PART": Command(channels.handle_part, 1),
    "TOPIC": Command(channels.handle_topic, 1),
    "NAMES": Command(channels.handle_names, 0),
    "LIST": Command(channels.handle_list, 0),
    "KICK": Command(channels.handle_kick, 2),
    "INVITE": Command(channels.handle_invite, 2),
    "MODE": Command(modes.handle_mode, 1),
    "DROP": Command(rooms.handle_drop, 1),
    "CHGHOST": Command(chghost.handle_chghost, 3),
    "RENAME": Command(rename.handle_rename, 2),
    # Messages.
    "PRIVMSG": Command(messaging.handle_privmsg, 0),
    "NOTICE": Command(messaging.handle_notice, 0),
    "TAGMSG": Command(messaging.handle_tagmsg, 0),
    "BATCH": Command(multiline.handle_batch, 1),
    "CHATHISTORY": Command(chathistory.handle_chathistory, 0),
    "REDACT": Command(redaction.handle_redact, 2),
    "SEARCH": Command(search.handle_search, 1),
    "AWAY": Command(messaging.handle_away, 0),
    "MARKREAD": Command(markread.handle_markread, 0),
    "SETNAME": Command(registration.handle_setname, 1),
    # Queries.
    "WHO": Command(who.handle_who, 1),
    "WHOIS": Command(queries.handle_whois, 1),
    "WHOWAS": Command(queries.handle_whowas, 0),
    "MOTD": Command(queries.handle_motd, 0),
    "LUSERS": Command(queries.handle_lusers, 0),
    "VERSION": Command(queries.handle_version, 0),
    "INFO": Command(queries.handle_info, 0),
    "LINKS": Command(queries.handle_links, 0),
    "HELP": Command(help.handle_help, 0),
    "HELPOP": Command(help.handle_help, 0),
    "TIME": Command(queries.handle_time, 0),
    "ISON": Command(queries.handle_ison, 1),
    "MONITOR": Command(monitor.handle_monitor, 1),
    "USERHOST": Command(queries.handle_userhost, 1),
    # Server operators.
    "OPER": Command(oper.handle_oper, 2),
    "KILL": Command(oper.handle_kill, 1),
    "KLINE": Command(oper.handle_kline, 2),
    "UNKLINE": Command(oper.handle_unkline, 1),
    "WALLOPS": Command(oper.handle_wallops, 1),
}
