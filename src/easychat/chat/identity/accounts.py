"""Provides accounts: the AccountStore interface, logging in, REGISTER, nick ownership, PASS."""

from __future__ import annotations

import functools
import hmac
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from easychat.chat.errors import IRCError
from easychat.chat.handlers import monitor, oper
from easychat.chat.identity import unixusers
from easychat.chat.identity.passwords import hash_password, verify_password
from easychat.chat.protection import access
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.proto.names import casefold, valid_nick
from easychat.proto.scram import MECHANISM as SCRAM
from easychat.proto.scram import ScramKeys, derive_keys

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore
    from easychat.chat.state import Client

log = logging.getLogger("easychat.access")

# Capabilities offered when the server has an account store.
ACCOUNT_CAPS: dict[str, str] = {
    # sasl-3.2: "The value, if present, MUST be a comma (,) separated list of
    # SASL authentication mechanisms."
    "sasl": f"PLAIN,{SCRAM}",
    # before-connect: REGISTER works before NICK/USER complete registration.
    "draft/account-registration": "before-connect",
    "account-tag": "",
    "account-notify": "",
    "extended-join": "",
}

# sasl-3.1: "The response is encoded in Base64 (RFC 4648), then split to
# 400-byte chunks". A PLAIN response (two names of NICKLEN and a password)
# or a SCRAM message (a name, nonces and a proof) fits in one; four chunks
# leave room for long passwords and stop a client from growing its buffer
# for ever.
SASL_CHUNK = 400
SASL_MAX_BYTES = 4 * SASL_CHUNK

# Longest password accepted (scrypt hashes anything, but a line is 512 bytes).
MAX_PASSWORD_LEN = 300


@functools.cache
def _dummy_hash() -> str:
    """Compared against when an account does not exist, so a login attempt for a
    missing account costs the same scrypt time as a wrong password."""
    return hash_password("not a real password")


@dataclass(frozen=True, slots=True)
class Account:
    """A registered account; its name is also the nick it owns.

    `scram` holds its SCRAM-SHA-256 keys (RFC 5802: salt, iteration count,
    StoredKey, ServerKey), made when the account is created or, for an
    account older than SCRAM here, at its next PLAIN login.
    """

    name: str
    password_hash: str
    email: str | None
    created_ms: int
    scram: ScramKeys | None = None


class AccountStore(Protocol):
    """Where accounts live (store/accounts.py keeps them in SQLite)."""

    def get(self, name: str) -> Account | None:
        """The account called `name` (compared casefolded), if any."""

    def create(self, account: Account) -> bool:
        """Stores a new account; False when the name is taken."""

    def set_scram(self, name: str, keys: ScramKeys) -> None:
        """Gives the account called `name` its SCRAM keys (it exists)."""


# -- the server password ----------------------------------------------------


def password_matches(expected: str, given: str | None) -> bool:
    """Compares a server password in constant time (no early exit on a mismatch)."""
    if given is None:
        # Still compare, so a missing password costs what a wrong one does.
        hmac.compare_digest(expected.encode(), b"")
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def admit(core: ChatCore, client: Client) -> bool:
    """Checks a client about to complete registration; refuses it if it may not in.

    Modern IRC, PASS: "If the password supplied does not match the password
    expected by the server, then the server SHOULD send ERR_PASSWDMISMATCH
    (464) and MAY then close the connection with ERROR."

    Returns:
        True when registration may go on; False when the client was refused
        (closed, or told to pick another nick).
    """
    expected = core.config.password
    if expected is not None and not password_matches(expected, client.password):
        log.warning(
            "refused %s from %s: wrong or missing server password", client.name, client.host
        )
        core.reply(client, n.ERR_PASSWDMISMATCH, "Password incorrect")
        core.quit(client, "Bad password", tell_client=True)
        return False
    kline = oper.kline_for(core, client)
    if kline is not None:
        log.warning("refused %s: K-lined (%s): %s", client.prefix, kline.mask, kline.reason)
        core.reply(
            client, n.ERR_YOUREBANNEDCREEP, f"You are banned from this server: {kline.reason}"
        )
        core.quit(client, f"K-lined: {kline.reason}", tell_client=True)
        return False
    if client.sasl_mech is not None:
        # sasl-3.1: "If the client completes registration ... while the SASL
        # authentication is still in progress, the server SHOULD abort it and
        # send a 906 numeric, then register the client without authentication."
        end_sasl(client)
        core.reply(client, n.ERR_SASLABORTED, "SASL authentication aborted")
    assert client.nick is not None
    if nick_owner(core, client, client.nick) is not None:
        core.reply(
            client, n.ERR_NICKNAMEINUSE, client.nick, "Nickname is reserved by a different account"
        )
        core.nicks.pop(casefold(client.nick), None)
        client.nick = None
        return False
    return True


# -- nick ownership -----------------------------------------------------------


def nick_owner(core: ChatCore, client: Client, nick: str) -> str | None:
    """The account that owns `nick` when it is not `client`'s own, else None.

    As ergo's default `nick-reservation: method: strict`: a registered nick is
    refused (433) to everyone but its owner, who must log in first.
    """
    if core.accounts is None:
        return None
    account = core.accounts.get(casefold(nick))
    if account is None:
        return None
    if client.account is not None and casefold(client.account) == casefold(account.name):
        return None
    return account.name


def check_nick(core: ChatCore, client: Client, nick: str) -> None:
    """Refuses a registered client's NICK change to a nick someone else owns."""
    if client.registered and nick_owner(core, client, nick) is not None:
        raise IRCError(n.ERR_NICKNAMEINUSE, nick, "Nickname is reserved by a different account")


# -- logging in ------------------------------------------------------------------


def login(core: ChatCore, client: Client, account: str, how: str) -> None:
    """Marks `client` as logged in: 900, and ACCOUNT to account-notify peers.

    `how` (a SASL mechanism, or REGISTER) goes in the log line.
    """
    client.account = account
    mask = f"{client.name}!{client.user or '*'}@{client.host}"
    core.reply(client, n.RPL_LOGGEDIN, mask, account, f"You are now logged in as {account}")
    log.info("%s from %s logged in as %s with %s", client.name, client.host, account, how)
    if client.registered:
        everyone = {
            client,
            *core.neighbours(client),
            *monitor.extended(core, client, "account-notify"),
        }
        peers = [c for c in everyone if "account-notify" in c.caps]
        core.send_many(peers, Message("ACCOUNT", (account,), client.prefix))


def _login_keys(client: Client, name: str) -> tuple[str, ...]:
    return (f"ip:{client.host}", f"account:{casefold(name)}")


def login_allowed(core: ChatCore, client: Client, name: str) -> tuple[str, ...]:
    """The throttle keys of a login attempt as `name`, once it may be tried at all.

    Raises:
        IRCError: 904 when this IP or account failed too often lately, or the
            name is a local Unix user's.
    """
    keys = _login_keys(client, name)
    wait = core.access.wait(keys, core.clock())
    if wait > 0:
        log.warning("login as %s from %s throttled for %.0f s", name, client.host, wait)
        raise IRCError(n.ERR_SASLFAIL, f"Too many failed logins, try again in {int(wait) + 1} s")
    if not unixusers.check_account(core, client, name):
        log.warning("login as %s from %s refused: a local Unix user's name", name, client.host)
        raise IRCError(n.ERR_SASLFAIL, "That account name is a local Unix user's login")
    return keys


def check_login(core: ChatCore, client: Client, name: str, password: str) -> Account | None:
    """The account when `password` is right, else None; counts and throttles failures.

    An account without SCRAM keys gets them now that its password is known
    (one PBKDF2, ITERATIONS rounds, on this login only).

    Raises:
        IRCError: 904 when this IP or account failed too often lately.
    """
    assert core.accounts is not None
    keys = login_allowed(core, client, name)
    account = core.accounts.get(casefold(name))
    stored = account.password_hash if account is not None else _dummy_hash()
    if verify_password(password, stored) and account is not None:
        core.access.succeeded(keys)
        if account.scram is None:
            account = replace(account, scram=derive_keys(password))
            assert account.scram is not None
            core.accounts.set_scram(account.name, account.scram)
            log.info("account %s: %s keys made at its PLAIN login", account.name, SCRAM)
        return account
    core.access.failed(keys, core.clock())
    log.warning("failed login as %s from %s", name, client.host)
    return None


def end_sasl(client: Client) -> None:
    """Forgets the SASL exchange under way, if any."""
    client.sasl_mech = None
    client.sasl_buffer = ""
    client.sasl_scram = None


# -- REGISTER (draft/account-registration) ----------------------------------------


def handle_register(core: ChatCore, client: Client, msg: Message) -> None:
    """REGISTER <account> {<email> | *} <password> (IRCv3 draft/account-registration).

    "If the account name is *, then the server MUST use the current nick of
    the client as the account name": before registration that is the nick
    the client last asked for, held or not, and NEED_NICK only when it asked
    for none. An account name given before NICK is used as given; once the
    client holds a nick, the account must be named after it. A name already
    an account or someone else's nick is ACCOUNT_EXISTS, whatever else is
    wrong. On success the server sends `REGISTER SUCCESS <account>
    :<message>` and logs the client in (900).
    """
    name, email, password = msg.params[:3]
    if core.accounts is None:
        return _register_fail(core, client, "TEMPORARILY_UNAVAILABLE", name, "No accounts here")
    if client.account is not None:
        return _register_fail(
            core, client, "ALREADY_AUTHENTICATED", client.account, "You are already logged in"
        )
    if name == "*":
        asked = client.nick or client.asked_nick
        if asked is None:
            return _register_fail(core, client, "NEED_NICK", name, "Send NICK first")
        name = asked
    if not valid_nick(name, core.config.nicklen):
        return _register_fail(core, client, "BAD_ACCOUNT_NAME", name, "Invalid account name")
    holder = core.nicks.get(casefold(name))
    if core.accounts.get(casefold(name)) is not None or holder not in (None, client):
        return _register_fail(core, client, "ACCOUNT_EXISTS", name, "Account already exists")
    if client.nick is not None and casefold(name) != casefold(client.nick):
        return _register_fail(
            core, client, "ACCOUNT_NAME_MUST_BE_NICK", name, "The account name must be your nick"
        )
    if email != "*" and ("@" not in email.strip("@") or len(email) > 254):
        return _register_fail(core, client, "INVALID_EMAIL", name, "Invalid email address")
    shortest = core.config.password_min_length
    if len(password) < shortest:
        text = f"Use at least {shortest} characters"
        return _register_fail(core, client, "WEAK_PASSWORD", name, text)
    if len(password) > MAX_PASSWORD_LEN:
        return _register_fail(core, client, "UNACCEPTABLE_PASSWORD", name, "Password too long")
    now = core.clock()
    key = (f"register:{client.host}",)
    wait = core.access.wait(
        key, now, limit=access.REGISTRATION_ATTEMPTS, window=access.REGISTRATION_WINDOW
    )
    if wait > 0:
        log.warning("REGISTER %s from %s throttled", name, client.host)
        text = f"Too many registrations from your address, try again in {int(wait) + 1} s"
        return _register_fail(core, client, "TEMPORARILY_UNAVAILABLE", name, text)
    core.access.failed(key, now)  # every attempt counts, not only failures
    _, time_ms = core.stamp()
    # The SCRAM keys now, while the password is known (RFC 5802 section 5).
    address = None if email == "*" else email
    account = Account(name, hash_password(password), address, time_ms, derive_keys(password))
    if not core.accounts.create(account):  # taken since the check (another writer of the file)
        return _register_fail(core, client, "ACCOUNT_EXISTS", name, "Account already exists")
    log.info("account %s registered from %s", name, client.host)
    server = core.config.server_name
    core.send(client, Message("REGISTER", ("SUCCESS", name, "Account created"), server))
    login(core, client, name, "REGISTER")


def _register_fail(core: ChatCore, client: Client, code: str, account: str, text: str) -> None:
    shown = account if valid_nick(account, core.config.nicklen) else "*"
    core.send(client, Message("FAIL", ("REGISTER", code, shown, text), core.config.server_name))


# -- what others see: account-tag, extended-join ------------------------------------


def source_account(core: ChatCore, msg: Message) -> str | None:
    """The account of the client a relayed message comes from, if it is logged in."""
    sender = _sender(core, msg)
    return sender.account if sender is not None else None


def _sender(core: ChatCore, msg: Message) -> Client | None:
    if msg.source is None or "!" not in msg.source:
        return None
    sender = core.find_client(msg.source.split("!", 1)[0])
    return sender if sender is not None and sender.prefix == msg.source else None


def extended_join(core: ChatCore, msg: Message) -> Message:
    """A JOIN as extended-join clients see it: `JOIN <room> <account>|* :<realname>`."""
    if msg.command != "JOIN" or len(msg.params) != 1:
        return msg
    sender = _sender(core, msg)
    if sender is None:
        return msg
    return replace(msg, params=(msg.params[0], sender.account or "*", sender.realname))
