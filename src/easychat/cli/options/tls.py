"""Provides the TLS settings of `easychat serve` and `easychat join`, and the server's TLS setup."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from easychat.chat.protection.sts import STS_DURATION
from easychat.cli.settings import (
    Option,
    SettingsError,
    boolean,
    non_negative_int,
    port_number,
    positive_float,
)
from easychat.net.server import HANDSHAKE_TIMEOUT_SECONDS
from easychat.net.tls import (
    SELF_SIGNED_CERT,
    SELF_SIGNED_KEY,
    TLSConfigError,
    default_self_signed_dir,
    ensure_self_signed,
    normalize_fingerprint,
    pem_fingerprint,
    server_context,
)
from easychat.store.private import exposure_warning

# Listen addresses that name no host: not put in a generated certificate.
WILDCARDS = frozenset({"0.0.0.0", "::", ""})

TLS_OPTIONS: tuple[Option, ...] = (
    Option("tls-cert", str, None, "PEM certificate (chain) for TLS; with --tls-key turns TLS on"),
    Option("tls-key", str, None, "PEM private key of --tls-cert"),
    Option("tls-port", port_number, 6697, "TCP port for TLS connections"),
    Option(
        "tls-self-signed",
        boolean,
        False,
        "serve TLS with a generated self-signed certificate (for testing); kept in"
        " --tls-cert/--tls-key if given, else in the XDG data dir/easychat/tls, and"
        " reused while valid; its SHA-256 fingerprint is printed",
        flag=True,
    ),
    Option(
        "tls-handshake-timeout",
        positive_float,
        HANDSHAKE_TIMEOUT_SECONDS,
        "seconds a TLS client has to finish its handshake",
    ),
    Option(
        "sts-duration",
        non_negative_int,
        STS_DURATION,
        "seconds clients keep the IRCv3 sts policy read on the TLS port (0 clears it)",
    ),
)


@dataclass(frozen=True, slots=True)
class ServerTLS:
    """The TLS a server was configured with: its context and certificate's fingerprint."""

    context: ssl.SSLContext
    cert: Path
    fingerprint: str


def server_tls(settings: Mapping[str, Any]) -> ServerTLS | None:
    """The TLS setup the resolved settings ask for, None for plain TCP only.

    `--tls-self-signed` creates (or reuses) a self-signed pair in
    `--tls-cert`/`--tls-key` when given, else in `<XDG data dir>/easychat/tls`.

    Raises:
        SettingsError: half a pair is given, or the files cannot be used.
    """
    cert, key = settings["tls_cert"], settings["tls_key"]
    if bool(cert) != bool(key) and not settings["tls_self_signed"]:
        given, missing = ("--tls-cert", "--tls-key") if cert else ("--tls-key", "--tls-cert")
        raise SettingsError(f"{given} needs {missing} too")
    if settings["tls_self_signed"]:
        directory = default_self_signed_dir()
        cert_path = Path(cert) if cert else directory / SELF_SIGNED_CERT
        key_path = Path(key) if key else directory / SELF_SIGNED_KEY
        host = settings["host"]
        names = tuple(
            name for name in (settings["server_name"], host) if name and name not in WILDCARDS
        )
        try:
            ensure_self_signed(cert_path, key_path, names)
        except (OSError, ValueError) as exc:
            raise SettingsError(f"--tls-self-signed: cannot write {cert_path}: {exc}") from None
    elif cert:
        cert_path, key_path = Path(cert), Path(key)
    else:
        return None
    warning = exposure_warning(key_path, "TLS key")
    if warning is not None:
        logging.getLogger("easychat.server").warning("%s", warning)
    try:
        context = server_context(cert_path, key_path)
        return ServerTLS(context, cert_path, pem_fingerprint(cert_path))
    except (TLSConfigError, OSError, ValueError) as exc:
        raise SettingsError(f"TLS: {exc}") from None


# `easychat join`: how the client reaches a TLS server.
TLS_JOIN_OPTIONS: tuple[Option, ...] = (
    Option(
        "tls",
        boolean,
        False,
        "connect over TLS (default port 6697), checking the certificate against the system's CAs",
        flag=True,
    ),
    Option(
        "tls-fingerprint",
        normalize_fingerprint,
        None,
        "SHA-256 fingerprint of the server's certificate to accept instead (a self-signed"
        " server); AB:CD:... or plain hex; implies --tls",
    ),
    Option(
        "tls-insecure",
        boolean,
        False,
        "accept any certificate (unsafe: the chat screen warns while it is on); implies --tls",
        flag=True,
    ),
)
