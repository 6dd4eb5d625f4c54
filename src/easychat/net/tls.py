"""Provides TLS for both shells: contexts, fingerprints, self-signed certificates, errors."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from easychat.store.private import PRIVATE_FILE_MODE, private_dir

# Oldest protocol either side speaks. TLS 1.0 and 1.1 are deprecated (RFC
# 8996) and off in every current browser and IRC server; ergo and InspIRCd
# default to 1.2 as well.
MIN_TLS_VERSION = ssl.TLSVersion.TLSv1_2

# Days a generated self-signed certificate stays valid. It is for testing
# and LAN use, and is reused across restarts so a pinned fingerprint keeps
# working; an expired one is replaced (with a new fingerprint).
SELF_SIGNED_DAYS = 365

# The IANA port for IRC over TLS (RFC 7194); clients default to it with TLS.
TLS_PORT = 6697

# File names of the generated pair when no --tls-cert/--tls-key is given.
SELF_SIGNED_CERT = "selfsigned-cert.pem"
SELF_SIGNED_KEY = "selfsigned-key.pem"


class TLSConfigError(Exception):
    """A certificate or key cannot be used; the message says which and why."""


def server_context(cert: str | Path, key: str | Path) -> ssl.SSLContext:
    """A server context for `cert` (PEM chain) and `key`, TLS 1.2 or newer.

    Raises:
        TLSConfigError: a file is missing, unreadable, or the pair does not match.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = MIN_TLS_VERSION
    try:
        ctx.load_cert_chain(str(cert), str(key))
    except FileNotFoundError as exc:
        raise TLSConfigError(f"no such file: {exc.filename}") from None
    except ssl.SSLError as exc:
        raise TLSConfigError(
            f"cannot use certificate {cert} with key {key}: {exc.reason or exc}"
        ) from None
    except OSError as exc:
        raise TLSConfigError(f"cannot read {exc.filename}: {exc.strerror}") from None
    return ctx


@dataclass(frozen=True, slots=True)
class ClientTLS:
    """How the client checks the server: the system's CAs, a pinned fingerprint, or not at all."""

    fingerprint: str | None = None  # normalized: 64 lowercase hex digits
    insecure: bool = False

    def context(self) -> ssl.SSLContext:
        """The context for this policy (a pin is checked after the handshake)."""
        ctx = ssl.create_default_context()
        ctx.minimum_version = MIN_TLS_VERSION
        if self.fingerprint is not None or self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


def normalize_fingerprint(text: str) -> str:
    """A SHA-256 fingerprint as 64 lowercase hex digits; accepts `AB:CD:...` or `abcd...`.

    Raises:
        ValueError: the text is not 32 bytes of hex.
    """
    digits = text.strip().replace(":", "").replace(" ", "").lower()
    if len(digits) != 64 or any(ch not in "0123456789abcdef" for ch in digits):
        raise ValueError(
            "a SHA-256 fingerprint is 64 hex digits, optionally in pairs separated by ':'"
        )
    return digits


def fingerprint(der: bytes) -> str:
    """The SHA-256 fingerprint of a DER certificate, as `AB:CD:...` (how openssl prints it)."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, 64, 2))


def pem_fingerprint(path: str | Path) -> str:
    """The SHA-256 fingerprint of the first certificate in a PEM file."""
    pem = Path(path).read_text(encoding="ascii")
    return fingerprint(ssl.PEM_cert_to_DER_cert(pem))


def describe_tls_error(exc: ssl.SSLError, host: str, port: int) -> str:
    """A sentence a person can act on, for a failed TLS handshake."""
    # IPv6 in brackets, as net.client.format_address writes it (not imported:
    # net/client.py imports this module).
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = exc.verify_message or exc.reason or "unknown reason"
        if exc.verify_code == 62:  # X509_V_ERR_HOSTNAME_MISMATCH
            return (
                f"The certificate of {where} is not valid for the name {host!r} ({why}). "
                "Connect using the name the certificate was issued for."
            )
        return (
            f"The certificate of {where} could not be verified: {why}. "
            "If the server uses a self-signed certificate, ask its operator for the "
            "SHA-256 fingerprint and pin it with --tls-fingerprint."
        )
    reason = exc.reason or exc.strerror or str(exc)
    return (
        f"TLS handshake with {where} failed ({reason}). "
        "Is this the server's TLS port (usually 6697)?"
    )


def default_self_signed_dir() -> Path:
    """Where `--tls-self-signed` keeps its pair: `$XDG_DATA_HOME/easychat/tls`."""
    data_home = os.environ.get("XDG_DATA_HOME", "")
    base = Path(data_home) if os.path.isabs(data_home) else Path.home() / ".local" / "share"
    return base / "easychat" / "tls"


def ensure_self_signed(cert: Path, key: Path, names: tuple[str, ...]) -> bool:
    """Creates a self-signed pair at `cert`/`key` unless a valid one is there.

    The certificate names `names` (host names or IP addresses) plus
    localhost and the loopback addresses. Both files are written 0600, in
    directories created 0700.

    Returns:
        True if a new pair was written, False if the existing one was kept.
    """
    from cryptography import x509  # noqa: PLC0415 - only `serve --tls-self-signed` needs it

    now = datetime.datetime.now(datetime.UTC)
    if cert.is_file() and key.is_file():
        existing = x509.load_pem_x509_certificate(cert.read_bytes())
        if existing.not_valid_after_utc > now + datetime.timedelta(days=1):
            return False
    _write_self_signed(cert, key, names, now)
    return True


def _write_self_signed(
    cert: Path, key: Path, names: tuple[str, ...], now: datetime.datetime
) -> None:
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    private = ec.generate_private_key(ec.SECP256R1())
    common_name = names[0] if names else "localhost"
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    alt: list[x509.GeneralName] = []
    for name in (*names, "localhost", "127.0.0.1", "::1"):
        try:
            entry: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(name))
        except ValueError:
            entry = x509.DNSName(name)
        if entry not in alt:
            alt.append(entry)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=SELF_SIGNED_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    key_bytes = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private(key, key_bytes)
    _write_private(cert, certificate.public_bytes(serialization.Encoding.PEM))


def _write_private(path: Path, data: bytes) -> None:
    """Writes `path` 0600 in 0700 directories, also over an existing file of another mode."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), PRIVATE_FILE_MODE)  # the umask, or an older file's mode
        fh.write(data)
