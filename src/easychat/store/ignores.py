"""Provides the client's ignore list on disk: one mask a line, 0600 in a 0700 directory."""

from __future__ import annotations

import os
from pathlib import Path

from easychat.client.masks import MAX_IGNORES

# The file's name, beside the local logs (in the user's data directory).
IGNORES_FILE = "ignores"

# Longer files are not read: the list holds at most MAX_IGNORES masks of a few
# hundred bytes, so anything bigger is not ours.
MAX_IGNORES_BYTES = 256 * 1024

# Only the user may read or change what they hide (private files and folders).
FILE_MODE = 0o600
DIR_MODE = 0o700


def ignores_path(directory: Path) -> Path:
    """The ignore list's file in `directory` (the local logs' directory)."""
    return directory / IGNORES_FILE


def load_ignores(path: Path) -> list[str]:
    """The masks saved in `path`, in order; none if the file does not exist.

    Blank lines and lines starting with `#` are skipped, so the file can be
    edited by hand.

    Raises:
        OSError: If the file exists but cannot be read, or is too big.
    """
    try:
        with path.open("rb") as file:
            data = file.read(MAX_IGNORES_BYTES + 1)
    except FileNotFoundError:
        return []
    if len(data) > MAX_IGNORES_BYTES:
        raise OSError(f"{path} is over {MAX_IGNORES_BYTES} bytes: not an ignore list")
    lines = data.decode("utf-8", "replace").splitlines()
    masks = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return masks[:MAX_IGNORES]


def save_ignores(path: Path, masks: tuple[str, ...] | list[str]) -> None:
    """Writes the masks to `path`, replacing it whole (never half written).

    Missing directories are created 0700, and the file is 0600 from its
    creation on, whatever the umask.

    Raises:
        OSError: If the directory or the file cannot be written.
    """
    write_private(path, "".join(f"{mask}\n" for mask in masks).encode())


def write_private(path: Path, data: bytes) -> None:
    """Replaces `path` with `data`, readable by its owner only (0600 in 0700 folders)."""
    directory = path.parent
    # Every directory this creates is 0700: mkdir(parents=True) would give the
    # missing parents the umask's mode.
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)  # mkdir's mode is masked by the umask
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # an older temporary file kept its mode
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)
