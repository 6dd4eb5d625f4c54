"""IRCv3 chghost on the chat core: the CHGHOST operator command, the message and its fallback.

Spec: https://ircv3.net/specs/extensions/chghost.
"""

from __future__ import annotations

from dataclasses import replace

from easychat.proto import numerics as n
from tests.chatcore_harness import CoreDriver, commands, only
from tests.test_oper import CONFIG, make_oper
from tests.test_setname_invite_notify import with_caps

NO_LOBBY = replace(CONFIG, autojoin=())  # only the rooms a test joins are shared


def test_chghost_tells_capable_peers_and_the_client() -> None:
    """ "servers MUST send the CHGHOST message to other clients who share channels
    with the target client and who have enabled the chghost capability. Servers
    SHOULD also send the CHGHOST message to the client whose own username or host
    changed"; `:nick!old_user@old_host.local CHGHOST new_user new_host.local`."""
    drv = CoreDriver(NO_LOBBY)
    admin = make_oper(drv)
    tim = with_caps(drv, "tim", "chghost", "#ircv3")
    peer = with_caps(drv, "peer", "chghost", "#ircv3")
    stranger = with_caps(drv, "stranger", "chghost")
    drv.drain()
    notice = only(drv.send(admin, "CHGHOST tim ~b ckyard"), "NOTICE")
    assert "tim!~b@ckyard" in notice.params[-1]
    for conn in (tim, peer):
        got = only(drv.take(conn), "CHGHOST")
        assert (got.source, got.params) == ("tim!tim@127.0.0.1", ("~b", "ckyard"))
    assert drv.take(stranger) == []
    drv.send(tim, "PRIVMSG #ircv3 :from my new host")
    assert only(drv.take(peer), "PRIVMSG").source == "tim!~b@ckyard"
    whois = only(drv.send(stranger, "WHOIS tim"), n.RPL_WHOISUSER)
    assert whois.params[2:4] == ("~b", "ckyard")
    who = only(drv.send(stranger, "WHO tim"), n.RPL_WHOREPLY)
    assert who.params[2:4] == ("~b", "ckyard")


def test_fallback_is_quit_join_and_modes() -> None:
    """ "When the capability is not enabled for other clients who share channels
    with the changed client, servers SHOULD send fallback messages to simulate the
    client reconnecting ... QUIT, JOIN and MODE commands, to restore membership and
    user channel modes"."""
    drv = CoreDriver(NO_LOBBY)
    admin = make_oper(drv)
    tim = drv.register("tim", "#ircv3", "#other")
    plain = drv.register("plain", "#ircv3")
    drv.send(tim, "MODE #ircv3 +v tim")
    drv.drain()
    drv.send(admin, "CHGHOST tim toolshed backyard")
    got = drv.take(plain)
    assert commands(got) == ["QUIT", "JOIN", "MODE"]
    assert (got[0].source, got[0].params) == ("tim!tim@127.0.0.1", ("Changing hostname",))
    assert (got[1].source, got[1].params) == ("tim!toolshed@backyard", ("#ircv3",))
    assert got[2].params == ("#ircv3", "+ov", "tim", "tim")
    assert drv.take(tim) == []  # without the capability it is not told


def test_only_operators_and_valid_masks() -> None:
    """CHGHOST is for server operators (481); a user or host that could not go in
    a mask is refused with a FAIL and changes nothing."""
    drv = CoreDriver(NO_LOBBY)
    admin = make_oper(drv)
    tim = drv.register("tim")
    assert commands(drv.send(tim, "CHGHOST tim x y")) == [n.ERR_NOPRIVILEGES]
    assert commands(drv.send(admin, "CHGHOST nobody x y")) == [n.ERR_NOSUCHNICK]
    bad_user = only(drv.send(admin, "CHGHOST tim a!b host"), "FAIL")
    assert bad_user.params[:2] == ("CHGHOST", "INVALID_USERNAME")
    bad_host = only(drv.send(admin, "CHGHOST tim user h@st"), "FAIL")
    assert bad_host.params[:2] == ("CHGHOST", "INVALID_HOSTNAME")
    assert drv.core.clients[tim].prefix == "tim!tim@127.0.0.1"


def test_bans_on_the_address_still_hold() -> None:
    """The shown host is a mask, not a way out: a ban on the connection's address
    still keeps the client out after its host was changed."""
    drv = CoreDriver(NO_LOBBY)
    admin = make_oper(drv)
    owner = drv.register("owner", "#room")
    drv.send(owner, "MODE #room +b *!*@127.0.0.1")
    tim = drv.register("tim")
    drv.send(admin, "CHGHOST tim tim cloak.example")
    drv.drain()
    assert drv.core.clients[tim].prefix == "tim!tim@cloak.example"
    assert commands(drv.send(tim, "JOIN #room")) == [n.ERR_BANNEDFROMCHAN]
