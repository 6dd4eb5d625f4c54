"""Provides HELP and HELPOP: help text for every command the server has."""

from __future__ import annotations

from typing import TYPE_CHECKING

from easychat.chat import config as limits
from easychat.chat import multiline
from easychat.chat.handlers.monitor import MONITOR_LIMIT
from easychat.chat.handlers.oper import REASONLEN
from easychat.chat.identity.accounts import SASL_CHUNK
from easychat.proto import numerics as n
from easychat.proto.message import Message

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

# Bytes of a help line's text. With `:<server> 705 <nick> <subject> :` in
# front (a 63-byte host name, NICKLEN 30, the longest command name) a line
# of 300 bytes still fits in 512 with room to spare.
HELP_LINE_BYTES = 300

# Bytes of an unknown subject echoed in n.ERR_HELPNOTFOUND. Past this the
# reply would not fit in 512 bytes with the server name, the nick and the
# text, so the subject is `*`, as for a subject that cannot be a parameter.
MAX_SUBJECT_BYTES = 300

# Bytes of one line of command names in the index: a terminal's 80 columns.
INDEX_LINE_BYTES = 80

INDEX_HEAD = "EasyChat help: HELP <command> for one of:"

_HELP = (
    "HELP [<subject>]",
    "Without a subject, lists the commands there is help for; with one (in any case),"
    " shows that command's syntax and what it does here. HELPOP is the same command.",
)

HELP_TOPICS: dict[str, tuple[str, ...]] = {
    # -- Registration ---------------------------------------------------------
    "CAP": (
        "CAP LS [302] | CAP LIST | CAP REQ :[-]<capability> ... | CAP END",
        "IRCv3 capability negotiation. LS lists what the server offers (with values for 302),"
        " LIST what you have enabled, REQ enables (or with - disables) all the named ones"
        " or none of them (ACK or NAK).",
        "CAP LS or CAP REQ before registration holds it until CAP END.",
    ),
    "PASS": (
        "PASS <password>",
        "Gives the server password, before NICK and USER. When the server has one, a missing"
        " or wrong password is refused (464) and the connection closed at registration.",
    ),
    "NICK": (
        "NICK <nickname>",
        "Picks or changes your nickname. A nick in use is refused (433), and so is a nick"
        " owned by an account you are not logged in to. Everyone in your rooms sees the change.",
    ),
    "USER": (
        "USER <username> 0 * :<realname>",
        f"Gives your username (cut to {limits.USERLEN} bytes, no @ or !) and real name"
        " when connecting. Registration completes once NICK and USER are in and CAP is done.",
    ),
    "PING": (
        "PING <token>",
        "The server answers PONG with the same token. It also sends you PING when you have"
        " been quiet, and disconnects you if no answer comes.",
    ),
    "PONG": (
        "PONG [<server>] <token>",
        "Answers the server's PING. Any line you send counts as a sign of life.",
    ),
    "QUIT": (
        "QUIT [:<reason>]",
        "Disconnects. People in your rooms see `Quit: <reason>`.",
    ),
    "AUTHENTICATE": (
        "AUTHENTICATE PLAIN|SCRAM-SHA-256, then AUTHENTICATE <base64> ... (or + or *)",
        "IRCv3 SASL login, when the server has accounts. PLAIN sends"
        " `authzid NUL account NUL password`; SCRAM-SHA-256 (RFC 7677, no channel binding)"
        " proves the password without sending it, and ends with AUTHENTICATE +.",
        f"Each message goes in base64 chunks of {SASL_CHUNK} bytes (a chunk of exactly"
        f" {SASL_CHUNK} is followed by AUTHENTICATE +).",
        "AUTHENTICATE * aborts (906). Success is 900 and 903; a wrong password 904. An"
        " account made before SCRAM-SHA-256 needs one PLAIN login first.",
    ),
    "REGISTER": (
        "REGISTER <account>|* <email>|* <password>",
        "Creates an account named after your nick (* means your current nick) and logs you"
        " in to it, when the server has accounts. The email may be *; the password must be"
        " long enough (WEAK_PASSWORD says how long).",
        "Works before registration too. Your nick is then reserved to your account.",
    ),
    # -- Rooms ------------------------------------------------------------------
    "JOIN": (
        "JOIN <room>{,<room>} [<key>{,<key>}]  or  JOIN 0",
        "Joins rooms (names start with #), creating a room that does not exist with you as"
        f" its operator. You may be in {limits.MAX_CHANNELS_PER_CLIENT} rooms at once.",
        "A room's key (+k), bans (+b), invite-only (+i) and limit (+l) are checked. JOIN 0"
        " leaves every room.",
    ),
    "PART": (
        "PART <room>{,<room>} [:<reason>]",
        "Leaves rooms; their members see the reason.",
    ),
    "TOPIC": (
        "TOPIC <room> [:<topic>]",
        "Shows a room's topic, or sets it (an empty topic clears it). With +t only room"
        " operators may set it. A topic is cut to TOPICLEN bytes.",
    ),
    "NAMES": (
        "NAMES <room>{,<room>}",
        "Lists who is in each room: @ marks operators, + voiced members. A secret (+s) room"
        " is listed only to its members, and invisible (+i) people only to fellow members.",
    ),
    "LIST": (
        "LIST [<room>{,<room>}]",
        "Lists rooms (all of them, or those named) with their member count and topic."
        " Secret (+s) rooms are listed only to their members.",
    ),
    "KICK": (
        "KICK <room>{,<room>} <nick>{,<nick>} [:<comment>]",
        "Removes people from a room (room operators only): one room for all the nicks, or"
        f" one room per nick, up to {limits.MAX_TARGETS} nicks.",
    ),
    "INVITE": (
        "INVITE <nick> <room>",
        "Invites someone to a room you are in; in an invite-only (+i) room only operators may."
        " The invitation lets them in past +i and +b, once.",
    ),
    "MODE": (
        "MODE <room> [<modes> [<args>...]]  or  MODE <nick> [<modes>]",
        "Room modes (operators change them): o/v <nick> operator/voice, b <mask> ban (b alone"
        " lists bans), e <mask> ban exception, I <mask> invite exception, k <key>,"
        " l <count>, C no CTCP, i invite-only, m moderated, n no messages from outside,"
        " s secret, t only operators set the topic.",
        "b m:<mask> mutes: they may join and read but not speak; e m:<mask> excepts from a mute.",
        f"At most {limits.MAX_MODES} modes with a parameter per command. User modes (your own"
        " only): i invisible, w receive WALLOPS, B bot. o comes from OPER.",
    ),
    "RENAME": (
        "RENAME <room> <new name> [:<reason>]",
        "Renames a room, for its operators: members, modes, topic, bans and history stay with"
        " it. For an hour, joining the old name leads to the new one.",
    ),
    "DROP": (
        "DROP <room>",
        "Forgets a room: its modes, topic, bans, invitations, operator accounts and history."
        " Its members are kicked. For room operators, operator accounts and server operators.",
    ),
    # -- Messages ---------------------------------------------------------------
    "PRIVMSG": (
        "PRIVMSG <target>{,<target>} :<text>",
        f"Sends a message to rooms or people, up to {limits.MAX_TARGETS} targets."
        " @#room reaches only its operators, +#room its voiced members and operators.",
        "A message too long to relay with your prefix is refused (417), not cut.",
    ),
    "BATCH": (
        "BATCH +<ref> draft/multiline <target> | BATCH -<ref>",
        "With the batch and draft/multiline caps: the lines tagged batch=<ref> in between"
        " (all PRIVMSG or all NOTICE to <target>) are one message, relayed when the batch"
        " closes, kept whole in history.",
        f"At most {multiline.MULTILINE_MAX_LINES} lines and {multiline.MULTILINE_MAX_BYTES}"
        f" bytes; a batch over a limit, or open for {multiline.MULTILINE_TIMEOUT:g} s, is"
        " discarded with FAIL BATCH.",
    ),
    "NOTICE": (
        "NOTICE <target>{,<target>} :<text>",
        "Like PRIVMSG, but never answered with an error, so bots can use it safely.",
    ),
    "TAGMSG": (
        "TAGMSG <target>{,<target>}",
        "Sends only message tags (such as +typing) to rooms or people; only clients with the"
        " message-tags capability receive it.",
    ),
    "CHATHISTORY": (
        "CHATHISTORY LATEST|BEFORE|AFTER|AROUND <target> <ref> <limit>",
        "Reads stored messages, when the server keeps history. <ref> is msgid=<id> or"
        " timestamp=<time> (LATEST also takes *); the limit is cut to the CHATHISTORY value.",
        "Also BETWEEN <target> <ref> <ref> <limit> and TARGETS <timestamp> <timestamp> <limit>."
        " A room's history is for its members only.",
    ),
    "MARKREAD": (
        "MARKREAD <target> [timestamp=<time>]",
        "With a time, marks a room or private conversation read up to that message; without,"
        " asks where it is marked read (* for nowhere). The marker only moves forward.",
        "It belongs to your account, so all your connections are told of it (and of it on"
        " JOIN) with draft/read-marker; without an account it lasts as long as the connection.",
    ),
    "SEARCH": (
        "SEARCH <attribute>=<value>[;<attribute>=<value>...]",
        "Searches stored PRIVMSGs and NOTICEs (soju.im/search), when the server keeps history."
        " Attributes: text (every word must occur), in (a room or a nick), from (a nick),"
        " after and before (server times, inclusive), limit.",
        "Only your rooms and your own private conversations are searched; results come as a"
        " soju.im/search batch, oldest first.",
    ),
    "AWAY": (
        "AWAY [:<text>]",
        f"With text marks you away (cut to {limits.AWAYLEN} bytes): people who message you"
        " are told. Without text marks you back.",
    ),
    "SETNAME": (
        "SETNAME :<realname>",
        f"Changes your real name (at most {limits.REALNAMELEN} bytes). Clients with the"
        " setname capability in your rooms see the change.",
    ),
    "REDACT": (
        "REDACT <target> <msgid> [:<reason>]",
        "Deletes a message from a room or a private conversation (IRCv3"
        " draft/message-redaction): your own, in a room any as its operator, anywhere as a"
        " server operator. It leaves the history, and clients with the capability are told.",
    ),
    # -- Queries ----------------------------------------------------------------
    "WHO": (
        "WHO <mask> [%<fields>[,<token>]]",
        "Lists the members of a room, or the people whose nick matches the mask (* and ?)."
        " Invisible (+i) people show only if you share a room.",
        "With %<fields> (WHOX: letters from tcuihsnfdlaor) the replies are 354 with only"
        " those fields.",
    ),
    "WHOIS": (
        "WHOIS [<server>] <nick>",
        "Shows who someone is: user and host, real name, rooms, whether operator or bot,"
        " account, away message and idle time.",
    ),
    "WHOWAS": (
        "WHOWAS <nick> [<count>]",
        "Shows who held a nick before (its user, host and real name), most recent first,"
        " up to <count> entries.",
    ),
    "MOTD": (
        "MOTD",
        "Shows the server's message of the day.",
    ),
    "LUSERS": (
        "LUSERS",
        "Shows how many people, invisible people, rooms and connections the server has.",
    ),
    "VERSION": (
        "VERSION",
        "Shows the server's version and the ISUPPORT tokens (its limits and features).",
    ),
    "INFO": (
        "INFO",
        "Shows what this server is and how long it has been running.",
    ),
    "LINKS": (
        "LINKS [[<remote server>] <mask>]",
        "Lists the servers of the network matching the mask: this network is this one server.",
    ),
    "TIME": (
        "TIME",
        "Shows the server's clock, in UTC.",
    ),
    "ISON": (
        "ISON <nick>{ <nick>}",
        "Tells which of these nicks are online.",
    ),
    "MONITOR": (
        "MONITOR + <nick>{,<nick>} | MONITOR - <nick>{,<nick>} | MONITOR C | L | S",
        f"Watches nicks (up to {MONITOR_LIMIT}): you get 730 when one comes online and 731"
        " when it goes. + adds, - removes, C clears, L lists, S sends the state of each again.",
    ),
    "USERHOST": (
        "USERHOST <nick>{ <nick>}",
        "Shows nick=+user@host (- when away) for up to five nicks.",
    ),
    # -- Server operators -------------------------------------------------------
    "OPER": (
        "OPER <name> <password>",
        "Makes you a server operator (user mode +o) with an operator name and password from"
        " the server's configuration. After repeated failures you must wait before trying again.",
    ),
    "KILL": (
        "KILL <nick> [:<comment>]",
        f"Disconnects someone (server operators only). The comment is cut to {REASONLEN} bytes.",
    ),
    "CHGHOST": (
        "CHGHOST <nick> <user> <host>",
        "Changes the user and host someone is shown with (server operators only), for a"
        " virtual host or a cloak. Limits, K-lines and bans on the address still apply.",
    ),
    "KLINE": (
        "KLINE <mask|ip> <duration> [:<reason>]",
        "Bans connections matching nick!user@host, user@host or a host (server operators"
        " only). Duration is seconds or 30m, 2h, 7d, 1w; 0 lasts until UNKLINE.",
        "Matching people already connected are disconnected, except operators.",
    ),
    "UNKLINE": (
        "UNKLINE <mask|ip>",
        "Lifts a K-line (server operators only).",
    ),
    "WALLOPS": (
        "WALLOPS :<text>",
        "Sends a message to everyone with user mode +w (server operators only).",
    ),
    "HELP": _HELP,
    "HELPOP": _HELP,
}


def handle_help(core: ChatCore, client: Client, msg: Message) -> None:
    """HELP [<subject>] (and HELPOP): n.RPL_HELPSTART, n.RPL_HELPTXT..., n.RPL_ENDOFHELP.

    Modern IRC: n.RPL_HELPSTART "Indicates the start of a reply to a HELP
    command", and each line carries `<client> <subject> :<text>`. The first
    line of a topic (its syntax) is the 704, the rest are 705s, and 706
    ends it; without a subject the subject is `*` and the text is the
    index of commands. A subject with no help is n.ERR_HELPNOTFOUND: "The
    <subject> MUST be the one requested by the client, but may be
    casefolded; unless it would be an invalid parameter, in which case it
    MUST be `*`." Subjects here are upper-cased, so they match any case.
    """
    asked = msg.params[0].strip() if msg.params else ""
    if not asked:
        send_help(core, client, "*", (INDEX_HEAD, *index_lines()))
        return
    subject = asked.upper()
    lines = HELP_TOPICS.get(subject)
    if lines is None:
        if len(subject.encode()) > MAX_SUBJECT_BYTES:
            subject = "*"
        core.reply(client, n.ERR_HELPNOTFOUND, subject, "No help available on this topic")
        return
    send_help(core, client, subject, lines)


def send_help(core: ChatCore, client: Client, subject: str, lines: tuple[str, ...]) -> None:
    """One help section: its first line in 704, the others in 705, then 706."""
    first, *rest = lines
    core.reply(client, n.RPL_HELPSTART, subject, first)
    for line in rest:
        core.reply(client, n.RPL_HELPTXT, subject, line)
    core.reply(client, n.RPL_ENDOFHELP, subject, "End of /HELP")


def index_lines() -> list[str]:
    """The names of every help topic, in order, several to a line."""
    lines: list[str] = []
    current = ""
    for name in sorted(HELP_TOPICS):
        if current and len(current) + 1 + len(name) > INDEX_LINE_BYTES:
            lines.append(current)
            current = ""
        current = f"{current} {name}" if current else name
    if current:
        lines.append(current)
    return lines
