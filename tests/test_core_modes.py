"""Chat-core tests for MODE on rooms and users, and the +i rules of WHO/WHOIS (no sockets)."""

from __future__ import annotations

import pytest

from easychat.chat import config as limits
from tests.test_core_channels import Harness, User, codes, names_of, only


@pytest.fixture
def h() -> Harness:
    """A core with no autojoin room."""
    return Harness()


@pytest.fixture
def room(h: Harness) -> tuple[User, User, User]:
    """Alice (operator) and Bob in #room; Carol outside. Inboxes drained."""
    alice, bob, carol = h.user("Alice"), h.user("Bob"), h.user("Carol")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    alice.take()
    return alice, bob, carol


# -- Queries --------------------------------------------------------------------


def test_mode_query_gives_324_and_329(h: Harness) -> None:
    """ "If <target> is a channel and <modestring> is not given, the
    RPL_CHANNELMODEIS numeric will be sent back containing the current modes
    of the target channel.\""""
    alice = h.user("Alice")
    alice.send("JOIN #room")
    created = str(int(h.now))
    h.now += 60
    got = alice.send("MODE #room")
    assert codes(got) == ["324", "329"]
    assert got[0].params == ("Alice", "#room", "+nt")
    assert got[1].params == ("Alice", "#room", created)


def test_mode_query_hides_key_from_non_members(room: tuple[User, User, User]) -> None:
    """ "Servers MAY choose to hide sensitive information such as channel keys"
    from clients not joined to the channel; members see the key and limit."""
    alice, bob, carol = room
    alice.send("MODE #room +kl sesame 10")
    assert only(bob.send("MODE #room"), "324").params[2:] == ("+ntkl", "sesame", "10")
    shown = only(carol.send("MODE #room"), "324").params
    assert "sesame" not in shown
    assert shown[2] == "+ntkl"


def test_mode_query_of_unknown_room_is_403(h: Harness) -> None:
    """MODE on a channel that does not exist is ERR_NOSUCHCHANNEL."""
    alice = h.user("Alice")
    assert codes(alice.send("MODE #nowhere")) == ["403"]


# -- Changes ----------------------------------------------------------------------


def test_flag_modes_are_set_and_broadcast_in_one_mode(room: tuple[User, User, User]) -> None:
    """ "If <modestring> is given and the user has permission to change modes on
    the target, the supplied modes will be applied and a MODE message will be
    returned containing the mode changes that were applied.\""""
    alice, bob, carol = room
    got = alice.send("MODE #room +ims-t")
    mode = only(got, "MODE")
    assert mode.params == ("#room", "+ims-t")
    assert mode.source == alice.prefix
    assert only(bob.take(), "MODE").params == ("#room", "+ims-t")
    assert carol.take() == []
    assert alice.h.core.channels["#room"].modes == {"i", "m", "n", "s"}


def test_mode_change_that_changes_nothing_is_not_broadcast(
    room: tuple[User, User, User],
) -> None:
    """Only the applied changes are announced: setting +n again announces nothing."""
    alice, bob, _ = room
    assert alice.send("MODE #room +nt") == []
    assert bob.take() == []


def test_mixed_modes_with_parameters_in_one_broadcast(room: tuple[User, User, User]) -> None:
    """Type B (k), C (l), prefix (o, v) and A (b) modes take their arguments in order."""
    alice, bob, _ = room
    got = alice.send("MODE #room +klvb key 5 Bob evil")
    assert only(got, "MODE").params == ("#room", "+klvb", "key", "5", "Bob", "evil!*@*")
    channel = alice.h.core.channels["#room"]
    assert channel.key == "key"
    assert channel.limit == 5
    assert channel.prefix_of(alice.h.core.clients[bob.conn]) == "+"
    assert [b.mask for b in channel.bans] == ["evil!*@*"]
    got = alice.send("MODE #room -klv key Bob")
    assert only(got, "MODE").params == ("#room", "-klv", "*", "Bob")
    assert channel.key is None
    assert channel.limit is None


def test_op_and_voice_show_in_names(room: tuple[User, User, User]) -> None:
    """+o gives the "@" prefix and may then change modes; -o takes it away."""
    alice, bob, _ = room
    alice.send("MODE #room +o Bob")
    assert only(bob.take(), "MODE").params == ("#room", "+o", "Bob")
    assert names_of(bob.send("NAMES #room")) == ["@Alice", "@Bob"]
    assert codes(bob.send("MODE #room -o Alice")) == ["MODE"]
    assert names_of(bob.send("NAMES #room")) == ["Alice", "@Bob"]
    alice.take()
    assert codes(alice.send("MODE #room -s")) == ["482"]


def test_moderated_room_needs_voice(room: tuple[User, User, User]) -> None:
    """ "If this mode is set on a channel, only users who have channel privileges
    may send messages to that channel.\""""
    alice, bob, _ = room
    alice.send("MODE #room +m")
    bob.take()
    assert codes(bob.send("PRIVMSG #room :hello")) == ["404"]
    assert alice.take() == []
    alice.send("MODE #room +v Bob")
    bob.take()
    assert bob.send("PRIVMSG #room :hello") == []
    assert only(alice.take(), "PRIVMSG").params == ("#room", "hello")


def test_mode_from_non_op_is_482(room: tuple[User, User, User]) -> None:
    """ "If a user does not have permission to change modes on the target
    channel, the ERR_CHANOPRIVSNEEDED numeric is returned and the command will fail.\""""
    alice, bob, carol = room
    assert codes(bob.send("MODE #room +i")) == ["482"]
    assert codes(carol.send("MODE #room +o Carol")) == ["482"]
    assert alice.take() == []
    assert "i" not in alice.h.core.channels["#room"].modes


def test_unknown_mode_is_472_and_others_still_apply(room: tuple[User, User, User]) -> None:
    """ERR_UNKNOWNMODE names the unknown letter; the known ones are applied."""
    alice, _, _ = room
    got = alice.send("MODE #room +Zi")
    assert codes(got) == ["472", "MODE"]
    assert got[0].params[1] == "Z"
    assert got[1].params == ("#room", "+i")


@pytest.mark.parametrize(
    ("modes", "param"),
    [("+k", "*"), ("+l", "*"), ("+o", "*"), ("+l", "many"), ("+l", "0"), ("-o", "*")],
)
def test_missing_or_invalid_mode_parameter_is_696(
    room: tuple[User, User, User], modes: str, param: str
) -> None:
    """ERR_INVALIDMODEPARAM "<client> <target chan/user> <mode char> <parameter>
    :<description>" when a mode's parameter is missing or not valid."""
    alice, bob, _ = room
    line = f"MODE #room {modes}" + ("" if param == "*" else f" {param}")
    got = alice.send(line)
    assert codes(got) == ["696"]
    assert got[0].params[1:4] == ("#room", modes[1], param)
    assert bob.take() == []


def test_key_with_space_is_rejected(room: tuple[User, User, User]) -> None:
    """ "Servers may validate the value (eg. to forbid spaces, as they make it
    harder to use the key in JOIN messages)."""
    alice, _, _ = room
    got = alice.send("MODE #room +k :two words")
    assert codes(got) == ["525"]
    assert alice.h.core.channels["#room"].key is None


def test_op_on_someone_outside_is_441_and_unknown_nick_401(
    room: tuple[User, User, User],
) -> None:
    """A prefix mode needs a member of the room as its target."""
    alice, _, _ = room
    assert codes(alice.send("MODE #room +o Carol")) == ["441"]
    assert codes(alice.send("MODE #room +v Ghost")) == ["401"]


def test_parameter_modes_per_command_are_limited(room: tuple[User, User, User]) -> None:
    """At most MODES (ISUPPORT) parameter-taking modes are applied per command."""
    alice, _, _ = room
    masks = " ".join(f"m{i}" for i in range(limits.MAX_MODES + 2))
    got = alice.send(f"MODE #room +{'b' * (limits.MAX_MODES + 2)} {masks}")
    assert len(only(got, "MODE").params) == 2 + limits.MAX_MODES
    assert len(alice.h.core.channels["#room"].bans) == limits.MAX_MODES


# -- Bans ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("bob", "bob!*@*"),
        ("bob!u", "bob!u@*"),
        ("u@host", "*!u@host"),
        ("*!*@10.0.0.1", "*!*@10.0.0.1"),
    ],
)
def test_ban_masks_are_normalized(room: tuple[User, User, User], given: str, stored: str) -> None:
    """A partial ban mask is completed to nick!user@host form, as servers do."""
    alice, bob, _ = room
    got = alice.send(f"MODE #room +b {given}")
    assert only(got, "MODE").params == ("#room", "+b", stored)
    assert only(bob.take(), "MODE").params == ("#room", "+b", stored)


def test_ban_list_is_367_then_368_and_sent_once(room: tuple[User, User, User]) -> None:
    """ "If a type A mode has been sent without an argument (i.e., listing the
    contents of that mode's list), servers SHOULD only send the list for that
    mode to the client once, regardless of how many times that type A mode is
    contained in the <modestring>.\""""
    alice, bob, _ = room
    alice.send("MODE #room +b spam")
    bob.take()
    got = bob.send("MODE #room b")
    assert codes(got) == ["367", "368"]
    assert got[0].params[1:3] == ("#room", "spam!*@*")
    assert got[0].params[3] == alice.prefix
    assert codes(bob.send("MODE #room +bbb")) == ["367", "368"]


def test_empty_ban_list_is_just_368(room: tuple[User, User, User]) -> None:
    """RPL_ENDOFBANLIST ends the list even when it is empty."""
    _, bob, _ = room
    assert codes(bob.send("MODE #room +b")) == ["368"]


def test_unban_removes_matching_mask_case_insensitively(room: tuple[User, User, User]) -> None:
    """-b takes the mask away (nick masks normalised the same way)."""
    alice, _, _ = room
    alice.send("MODE #room +b Spam")
    got = alice.send("MODE #room -b SPAM")
    assert only(got, "MODE").params == ("#room", "-b", "SPAM!*@*")
    assert alice.h.core.channels["#room"].bans == []
    assert alice.send("MODE #room -b nobody") == []


def test_banned_member_cannot_speak(room: tuple[User, User, User]) -> None:
    """ "If <target> is a channel name and the client is banned and not covered
    by a ban exemption, the message will not be delivered\"."""
    alice, bob, _ = room
    alice.send("MODE #room +b Bob")
    bob.take()
    assert codes(bob.send("PRIVMSG #room :still here")) == ["404"]
    assert alice.take() == []


def test_limit_mode_then_unset_allows_join(room: tuple[User, User, User]) -> None:
    """-l removes the limit; it takes no parameter when unset (type C)."""
    alice, _, carol = room
    alice.send("MODE #room +l 2")
    assert codes(carol.send("JOIN #room")) == ["471"]
    got = alice.send("MODE #room -l")
    assert only(got, "MODE").params == ("#room", "-l")
    assert codes(carol.send("JOIN #room"))[0] == "JOIN"


# -- User modes -----------------------------------------------------------------------


def test_user_mode_query_is_221(h: Harness) -> None:
    """ "If <target> is a nickname and <modestring> is not given, the
    RPL_UMODEIS numeric will be sent back containing the current modes of the
    target user.\""""
    alice = h.user("Alice")
    assert only(alice.send("MODE Alice"), "221").params == ("Alice", "+")
    alice.send("MODE Alice +i")
    assert only(alice.send("MODE Alice"), "221").params == ("Alice", "+i")


def test_user_mode_set_and_unset_is_echoed(h: Harness) -> None:
    """Setting +i (and -i) is acknowledged with a MODE message to the user."""
    alice = h.user("Alice")
    got = alice.send("MODE Alice +i")
    assert only(got, "MODE").params == ("Alice", "+i")
    assert alice.send("MODE Alice +i") == []
    assert only(alice.send("MODE Alice -i"), "MODE").params == ("Alice", "-i")


def test_user_mode_for_someone_else_is_502(h: Harness) -> None:
    """ "If a client is trying to set modes for a different user, the
    ERR_USERSDONTMATCH numeric is returned and the command will fail.\""""
    alice, bob = h.user("Alice"), h.user("Bob")
    assert codes(alice.send("MODE Bob +i")) == ["502"]
    assert codes(alice.send("MODE Bob")) == ["502"]
    assert "i" not in h.core.clients[bob.conn].modes
    assert bob.take() == []


def test_user_mode_unknown_flag_is_501(h: Harness) -> None:
    """ERR_UMODEUNKNOWNFLAG for a letter the server does not know; known ones apply."""
    alice = h.user("Alice")
    got = alice.send("MODE Alice +iQ")
    assert codes(got) == ["MODE", "501"]
    assert got[0].params == ("Alice", "+i")


# -- Invisible users in WHO and WHOIS ----------------------------------------------------


def test_who_hides_invisible_users_from_strangers(h: Harness) -> None:
    """ "If a user is set to 'invisible', they will not show up in commands such
    as WHO unless they share a channel with the user that submitted the command.\""""
    alice, bob, carol = h.user("Alice"), h.user("Bob"), h.user("Carol")
    bob.send("MODE Bob +i")
    alice.send("JOIN #room")
    bob.send("JOIN #room")

    def who(user: User, mask: str) -> list[str]:
        return [m.params[5] for m in user.send(f"WHO {mask}") if m.command == "352"]

    assert who(carol, "Bob") == []
    assert who(carol, "*") == ["Alice", "Carol"]
    assert who(carol, "#room") == ["Alice"]
    assert who(alice, "Bob") == ["Bob"]
    assert who(alice, "#room") == ["Alice", "Bob"]


def test_whois_of_invisible_user_shows_only_shared_rooms(h: Harness) -> None:
    """ "the only channels that will show up in a WHOIS of an invisible user
    will be those they share with the user that submitted the command.\""""
    alice, bob, carol = h.user("Alice"), h.user("Bob"), h.user("Carol")
    bob.send("JOIN #shared,#bobs")
    alice.send("JOIN #shared")
    bob.send("MODE Bob +i")
    rooms = only(alice.send("WHOIS Bob"), "319").params[2].split()
    assert rooms == ["@#shared"]
    assert "319" not in codes(carol.send("WHOIS Bob"))
    own = only(bob.send("WHOIS Bob"), "319").params[2].split()
    assert sorted(own) == ["@#bobs", "@#shared"]
