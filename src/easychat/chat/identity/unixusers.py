"""Provides Unix identities: a local peer's login is its account, and its name its nick alone."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from easychat.chat import config as limits
from easychat.chat.errors import IRCError
from easychat.proto import numerics as n
from easychat.proto.names import casefold

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

log = logging.getLogger("easychat.access")

# The host part of a Unix socket peer's prefix (`nick!login@unix`): it has
# no address, and a fixed word lets an operator ban or K-line local users
# as a group (`*!*@unix`) or one login (`*!alice@unix`).
UNIX_HOST = "unix"

# The account capabilities offered when the server has a Unix socket but no
# account store: a local peer's account shows in tags, joins and changes.
IDENTITY_CAPS: dict[str, str] = {
    "account-tag": "",
    "account-notify": "",
    "extended-join": "",
}


def identify(client: Client, peer_user: str | None) -> None:
    """Records a Unix socket peer's login name (None: the kernel named no user).

    The peer is logged in as that name from the start, as after SASL.
    """
    client.local = True
    client.unix_user = peer_user
    client.account = peer_user


def reserved_for(core: ChatCore, nick: str) -> str | None:
    """The local Unix user whose login `nick` is (compared casefolded), if any.

    The rule: with a Unix socket, every name in the system's user database
    is reserved to that user, whether or not they ever connected: `root` or
    `alice` cannot be taken by anyone but root or alice.
    """
    lookup = core.unix_users
    if lookup is None:
        return None
    for name in dict.fromkeys((nick, casefold(nick))):
        if lookup(name):
            return name
    return None


def check_nick(core: ChatCore, client: Client, nick: str) -> None:
    """Refuses `nick` (433) when it is another local user's login.

    Raises:
        IRCError: ERR_NICKNAMEINUSE, saying the nick belongs to a Unix user.
    """
    owner = reserved_for(core, nick)
    if owner is None:
        return
    if client.unix_user is not None and casefold(client.unix_user) == casefold(owner):
        return
    log.info("refused nick %s to %s: the local user's login", nick, client.host)
    raise IRCError(n.ERR_NICKNAMEINUSE, nick, "Nickname belongs to a local Unix user")


def check_account(core: ChatCore, client: Client, name: str) -> bool:
    """Whether `client` may log in (SASL) to an account called `name`.

    An account named after a local login (made before the Unix socket was
    on) would show that login's name in `account` tags and WHOIS for
    someone else. REGISTER needs no check: its account name must be the
    client's nick, which `check_nick` already refuses.
    """
    owner = reserved_for(core, name)
    return owner is None or (
        client.unix_user is not None and casefold(client.unix_user) == casefold(owner)
    )


def verify_user(client: Client) -> None:
    """A Unix peer's user part is its login (cut to USERLEN), not what USER said."""
    if client.unix_user is not None:
        client.user = client.unix_user[: limits.USERLEN]


def logged_in(core: ChatCore, client: Client) -> None:
    """Tells a Unix peer completing registration which account it has (900)."""
    if client.unix_user is None:
        return
    mask = f"{client.name}!{client.user}@{client.host}"
    account = client.unix_user
    core.reply(client, n.RPL_LOGGEDIN, mask, account, f"You are now logged in as {account}")
    log.info("%s is the local user %s", client.name, account)
