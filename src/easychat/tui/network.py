"""Provides the app's network worker: connect, run the session, reconnect, time out, ping."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from easychat.client.events import Lag, Registered, RegistrationFailed, ServerClosed
from easychat.client.session.session import Session
from easychat.net.client import ClientConnection, ConnectError, backoff_delays
from easychat.tui.state import rejoin_messages

if TYPE_CHECKING:
    from easychat.tui.app import EasyChatApp

# How long logging in may take, from the TCP connection to the welcome (001):
# a server that accepted the connection but says nothing in that time is not
# answering, or not an IRC server. SASL and a slow MOTD fit well within it.
LOGIN_TIMEOUT = 15.0

# Seconds between our lag PINGs (irssi's lag_check_time is 60 s, weechat's
# irc.server.lag_check 60 s; 30 s keeps the figure fresh at one short line).
LAG_INTERVAL = 30.0


async def stay_connected(app: EasyChatApp, nick: str, host: str, port: int) -> None:
    """Connects, runs the session, and reconnects with backoff until Leave.

    Args:
        app: The app: its settings and login fields, and where events go.
        nick: The nick the user asked for at login.
        host: The server's host.
        port: The server's port.
    """
    delays = backoff_delays()
    registered_once = False
    while not app.leaving:
        try:
            connection = await ClientConnection.open(host, port, tls=app.settings.client_tls())
        except ConnectError as exc:
            if not registered_once:
                app.post_message(app.LoginFailed(str(exc)))
                return
            delay = next(delays)
            app.post_message(
                app.ConnectionState(f"{str(exc).rstrip('.')} — retrying in {delay:.0f} s…", False)
            )
            await asyncio.sleep(delay)
            continue
        # A reconnect asks for the last nick the server accepted (at login
        # or after a /nick), taking `nick_` only while the old one is held.
        if not registered_once:
            app.wanted_nick = nick
        session = Session(app.wanted_nick, password=app.password, create_account=app.create_account)
        session.alt_nick_on_collision = registered_once
        session.ignores = app.ignores
        app.session, app.connection = session, connection
        try:
            failure = await run_session(app, session, connection)
        finally:
            # Also when the worker is cancelled: a socket left open would
            # keep a ghost of us on the server, holding the nick.
            if app.connection is connection:
                app.connection = None
            await connection.close()
        if app.leaving:
            return
        if not session.registered and not registered_once:
            app.session = None
            app.post_message(app.LoginFailed(failure or "The server closed the connection"))
            return
        if session.registered:
            registered_once = True
            app.create_account = False  # created: a reconnect logs in
            delays = backoff_delays()
        delay = next(delays)
        app.post_message(
            app.ConnectionState(
                f"Disconnected ({failure or 'connection lost'}). Reconnecting in {delay:.0f} s…",
                False,
            )
        )
        await asyncio.sleep(delay)


async def run_session(
    app: EasyChatApp, session: Session, connection: ClientConnection
) -> str | None:
    """Feeds the server's messages to the session until the connection ends.

    Logging in must finish within `app.login_timeout`; otherwise the reason
    says whether the server answered at all.

    Returns:
        Why the connection ended, or None when it just closed.
    """
    connection.send(session.start())
    failure: str | None = None
    answered = False
    lag: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(app.login_timeout) as deadline:
            async for msg in connection.messages():
                answered = True
                for event in session.feed(msg):
                    if isinstance(event, (RegistrationFailed, ServerClosed)):
                        failure = event.reason
                    if isinstance(event, Registered):
                        deadline.reschedule(None)
                        connection.send(rejoin_messages(app.state))
                        lag = asyncio.create_task(measure_lag(app, session, connection))
                    app.post_message(app.NetEvent(event))
                connection.send(session.take_outgoing())
                if failure is not None and not session.registered:
                    break
    except TimeoutError:
        limit = f"{app.login_timeout:g} s"
        failure = (
            f"Connected to {app.address}, but the server did not answer within {limit}"
            " — is it an IRC server?"
            if not answered
            else f"The server at {app.address} did not finish logging in within {limit}"
        )
    finally:
        if lag is not None:
            lag.cancel()
    return failure


async def measure_lag(app: EasyChatApp, session: Session, connection: ClientConnection) -> None:
    """Every `app.lag_interval`, PINGs the server; the PONG's delay shows as the lag."""
    while True:
        await asyncio.sleep(app.lag_interval)
        waiting = session.lag_waiting()
        if waiting is not None:  # still unanswered: say how long so far
            app.post_message(app.NetEvent(Lag(waiting, answered=False)))
        connection.send(session.lag_ping())
