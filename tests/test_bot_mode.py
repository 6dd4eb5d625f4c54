"""IRCv3 bot mode: `BOT=B`, user mode +B, the `bot` tag, WHOIS 335 and WHO's flag."""

from __future__ import annotations

from easychat.proto import numerics as n
from tests.chatcore_harness import CoreDriver, commands, only
from tests.nolimits import unlimited


def tagged(drv: CoreDriver, nick: str, *rooms: str) -> int:
    conn = drv.open()
    drv.send(conn, "CAP REQ :message-tags")
    drv.send(conn, f"NICK {nick}")
    drv.send(conn, f"USER {nick} 0 * :{nick}")
    drv.send(conn, "CAP END")
    for room in rooms:
        drv.send(conn, f"JOIN {room}")
    drv.take(conn)
    return conn


def test_a_bot_is_marked_in_its_messages_whois_and_who() -> None:
    """bot-mode: "BOT=<mode char>" in ISUPPORT; messages from a client in that
    mode carry the `bot` tag (for clients with message-tags), WHOIS shows
    RPL_WHOISBOT (335) and WHO the mode char in the flags."""
    drv = CoreDriver(unlimited())
    reader = tagged(drv, "reader", "#r")
    bot = drv.register("helper", "#r")
    drv.take(reader)
    assert commands(drv.send(bot, "MODE helper +B")) == ["MODE"]
    drv.send(bot, "PRIVMSG #r :beep")
    msg = only(drv.take(reader), "PRIVMSG")
    assert "bot" in msg.tags
    assert msg.params == ("#r", "beep")
    drv.send(bot, "PRIVMSG reader :boop")
    assert "bot" in only(drv.take(reader), "PRIVMSG").tags
    assert only(drv.send(reader, "WHOIS helper"), n.RPL_WHOISBOT).params[1:] == (
        "helper",
        "is a bot",
    )
    replies = drv.send(reader, "WHO #r")
    [flags] = [m for m in replies if m.command == n.RPL_WHOREPLY and m.params[5] == "helper"]
    assert flags.params[6].endswith("B")
    drv.send(bot, "MODE helper -B")
    drv.send(bot, "PRIVMSG #r :human again")
    assert "bot" not in only(drv.take(reader), "PRIVMSG").tags
    assert n.RPL_WHOISBOT not in commands(drv.send(reader, "WHOIS helper"))


def test_bot_is_in_isupport() -> None:
    drv = CoreDriver()
    conn = drv.open()
    drv.send(conn, "NICK x")
    burst = drv.send(conn, "USER x 0 * :x")
    assert "BOT=B" in [p for m in burst if m.command == n.RPL_ISUPPORT for p in m.params]
