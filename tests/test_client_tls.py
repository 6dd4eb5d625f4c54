"""Client TLS: pinning, verification against the system store, failures on the login screen."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from easychat.net.tls import ClientTLS, normalize_fingerprint
from easychat.tui.app import ClientSettings, EasyChatApp
from tests.apphelpers import (
    SIZE,
    chat_screen,
    in_lobby,
    login_error,
    login_screen,
    send_text,
    wait_for,
)
from tests.tlshelpers import Cert, TLSClient, TLSServer, make_cert


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    return make_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def server(cert: Cert) -> Iterator[TLSServer]:
    running = TLSServer(cert)
    yield running
    running.stop()


def tls_app(address: str, log_dir: Path, **tls: object) -> EasyChatApp:
    return EasyChatApp(ClientSettings(nick="John", server=address, log_dir=log_dir, **tls))  # type: ignore[arg-type]


def warning_text(app: EasyChatApp) -> str | None:
    """The security warning above the log, or None while it is hidden."""
    widget = chat_screen(app).query_one("#security-warning", Static)
    return str(widget.render()) if widget.has_class("visible") else None


def test_settings_choose_the_policy() -> None:
    assert ClientSettings().client_tls() is None
    assert ClientSettings(tls=True).client_tls() == ClientTLS()
    pin = "ab" * 32
    assert ClientSettings(tls_fingerprint=pin).client_tls() == ClientTLS(fingerprint=pin)
    assert ClientSettings(tls_insecure=True).client_tls() == ClientTLS(insecure=True)


async def test_login_over_tls_with_a_pinned_fingerprint(
    server: TLSServer, cert: Cert, tmp_path: Path
) -> None:
    pin = normalize_fingerprint(cert.fingerprint)
    app = tls_app(f"127.0.0.1:{server.tls_port}", tmp_path, tls_fingerprint=pin)
    peer = TLSClient(server.tls_port, cert.trusting_context())
    try:
        peer.register("peer")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.click("#login")
            await in_lobby(pilot, app)
            assert warning_text(app) is None
            await send_text(pilot, "hello through TLS")
            msg = await asyncio.to_thread(peer.expect, "PRIVMSG")
            assert msg.params == ("#lobby", "hello through TLS")
        # Only TLS clients on this server: the app's connection was TLS.
        assert all(client.secure for client in server.core.clients.values())
    finally:
        peer.close()


async def test_wrong_fingerprint_is_explained(
    server: TLSServer, cert: Cert, tmp_path: Path
) -> None:
    app = tls_app(f"127.0.0.1:{server.tls_port}", tmp_path, tls_fingerprint="00" * 32)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#login")
        await wait_for(pilot, lambda: login_error(app), what="the error")
        text = login_error(app)
        assert "does not match the pinned fingerprint" in text
        assert cert.fingerprint in text
        assert "Traceback" not in text
        login_screen(app)
    assert not server.core.clients  # never got as far as registering


async def test_unverifiable_certificate_is_explained(server: TLSServer, tmp_path: Path) -> None:
    """`--tls` checks against the system's CAs, which do not know a self-signed certificate."""
    app = tls_app(f"127.0.0.1:{server.tls_port}", tmp_path, tls=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#login")
        await wait_for(pilot, lambda: login_error(app), what="the error")
        text = login_error(app)
        assert text.startswith(
            f"The certificate of 127.0.0.1:{server.tls_port} could not be verified"
        )
        assert "self-signed" in text
        assert "--tls-fingerprint" in text
        login_screen(app)


async def test_system_store_verification_accepts_a_trusted_certificate(
    server: TLSServer, cert: Cert, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the certificate in the default store (SSL_CERT_FILE), `--tls` alone logs in."""
    monkeypatch.setenv("SSL_CERT_FILE", str(cert.cert))
    app = tls_app(f"localhost:{server.tls_port}", tmp_path, tls=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#login")
        await wait_for(pilot, lambda: app.chat is not None or login_error(app), what="login")
        assert app.chat is not None, login_error(app)
        assert warning_text(app) is None


async def test_insecure_shows_a_warning_for_as_long_as_it_is_on(
    server: TLSServer, tmp_path: Path
) -> None:
    app = tls_app(f"127.0.0.1:{server.tls_port}", tmp_path, tls_insecure=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#login")
        await wait_for(pilot, lambda: app.chat is not None, what="the chat screen")
        warning = warning_text(app)
        assert warning is not None
        assert "not checked" in warning
        # A connection banner coming and going leaves the warning in place.
        chat_screen(app).set_banner("Disconnected")
        chat_screen(app).set_banner("")
        await pilot.pause()
        assert warning_text(app) == warning


async def test_tls_without_a_port_uses_6697(tmp_path: Path) -> None:
    app = tls_app("127.0.0.1", tmp_path, tls=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#login")
        await wait_for(pilot, lambda: login_error(app), timeout=15, what="the error")
        assert "127.0.0.1:6697" in login_error(app)


def test_a_malformed_fingerprint_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from easychat.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["join", "--tls-fingerprint", "12:34"])
    assert exited.value.code == 2
    assert "--tls-fingerprint: invalid value '12:34'" in capsys.readouterr().err
