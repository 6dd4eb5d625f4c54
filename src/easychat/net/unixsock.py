"""Provides the Unix socket: its default paths, binding it safely, and who the peer is."""

from __future__ import annotations

import contextlib
import errno
import os
import pwd
import socket
import stat
import struct
from pathlib import Path

# The socket's name inside its directory.
SOCKET_NAME = "irc.sock"

# Where a host-wide server listens (documented for operators; a systemd
# unit's `RuntimeDirectory=easychat` creates /run/easychat 0755 for it).
# `easychat join` tries it after the personal path.
SYSTEM_SOCKET_PATH = "/run/easychat/irc.sock"

# A personal server's socket: only its owner may connect. The directory is
# created 0700 as well, so the socket's mode is not the only guard.
PERSONAL_MODE = 0o600

# A directory created for a socket that others may use (mode 0666): 0755, so
# every local user can reach the socket but none can replace it.
SHARED_DIR_MODE = 0o755
PERSONAL_DIR_MODE = 0o700

# struct ucred of SO_PEERCRED: pid, uid, gid (three C ints).
_UCRED = struct.Struct("3i")

# Pending connections the kernel queues between two accepts, as for TCP.
LISTEN_BACKLOG = 1024


class UnixSocketError(Exception):
    """The Unix socket cannot be set up; the message names the path and why."""


def default_socket_path(runtime: str | None = None) -> str | None:
    """The personal server's socket, `$XDG_RUNTIME_DIR/easychat/irc.sock`.

    None when XDG_RUNTIME_DIR (or `runtime`, given instead) is unset or not
    absolute: the runtime directory is the only place the system guarantees
    is private to the user (0700, owned by them, removed at logout); a fixed
    path under /tmp could be created first by another user, so there is no
    fallback.
    """
    if runtime is None:
        runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if not os.path.isabs(runtime):
        return None
    return str(Path(runtime) / "easychat" / SOCKET_NAME)


def is_socket(path: str) -> bool:
    """Whether `path` exists and is a socket."""
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def bind_unix(path: str, mode: int = PERSONAL_MODE) -> socket.socket:
    """A non-blocking listening socket at `path`, with file mode `mode`.

    A missing directory is created (0700 for a personal socket, 0755 when
    `mode` lets others in); an existing one is left as it is. A socket file
    already at `path` is replaced only when nobody listens on it (a server
    that was killed leaves one behind); any other file is never touched.

    Raises:
        UnixSocketError: another server listens there, the path is not a
            socket, or the system refused (the message says which).
    """
    if not hasattr(socket, "SO_PEERCRED"):
        raise UnixSocketError("Unix sockets need SO_PEERCRED (Linux) to tell who connects")
    target = Path(path)
    try:
        if not target.parent.exists():
            target.parent.mkdir(parents=True)
            # Others may use a shared socket: they must reach it, never replace it.
            target.parent.chmod(SHARED_DIR_MODE if mode & 0o077 else PERSONAL_DIR_MODE)
        _remove_stale(target)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError as exc:
        raise UnixSocketError(f"cannot create the Unix socket {path}: {exc.strerror}") from None
    try:
        sock.bind(path)
        # Connecting needs write permission on the socket file; the mode
        # bind gives it (0777 less the umask) is corrected at once.
        os.chmod(path, mode)
        sock.listen(LISTEN_BACKLOG)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise UnixSocketError(f"cannot listen on the Unix socket {path}: {exc.strerror}") from None
    return sock


def _remove_stale(target: Path) -> None:
    """Removes a socket file nobody listens on; refuses anything else at `target`."""
    try:
        info = target.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise UnixSocketError(f"{target} exists and is not a socket; not replacing it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(target))
    except OSError as exc:
        if exc.errno != errno.ECONNREFUSED:
            raise
    else:
        raise UnixSocketError(f"another server is already listening on {target}")
    finally:
        probe.close()
    with contextlib.suppress(FileNotFoundError):
        target.unlink()


def file_id(path: str) -> tuple[int, int] | None:
    """The (device, inode) of the file at `path`, to recognise it later."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def unlink_if_ours(path: str, bound: tuple[int, int] | None) -> None:
    """Removes the socket file at `path` if it is still the one bound (see `file_id`).

    A second server that replaced the file (after this one was thought
    stale) keeps its socket.
    """
    if bound is not None and file_id(path) == bound:
        with contextlib.suppress(OSError):
            os.unlink(path)


def peer_user(sock: socket.socket) -> str | None:
    """The login name of the process at the other end of `sock`, from the kernel.

    SO_PEERCRED gives the peer's uid as it was when it connected; it cannot
    be forged by the peer. None when the uid has no passwd entry (a
    container's arbitrary uid): that peer is served without an account.
    """
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    _pid, uid, _gid = _UCRED.unpack(raw)
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def is_local_user(name: str) -> bool:
    """Whether `name` is a login name in the system's user database."""
    try:
        pwd.getpwnam(name)
    except (KeyError, ValueError):  # ValueError: an embedded NUL
        return False
    return True
