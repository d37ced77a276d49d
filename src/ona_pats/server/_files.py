"""Files the server trusts with secrets: the SQLite database (and its -wal/-shm) and the
token file. A new one is created exclusively with mode 0600; an existing one is used only if
this user owns it and nobody else can write it (or, for the token file, read it)."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnsafeFileError(PermissionError):
    """A file the server would trust with secrets is owned by, or open to, someone else."""


def _refuse_unsafe(path: Path, *, private_read: bool) -> None:
    """Raise unless ``path`` (when it exists) is this user's regular file, closed to others."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeFileError(f"refusing to use {path}: it is a symbolic link")
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeFileError(f"refusing to use {path}: it is not a regular file")
    if info.st_uid != os.geteuid():
        raise UnsafeFileError(
            f"refusing to use {path}: it belongs to another user (uid {info.st_uid}), who "
            "could have planted its contents; remove it or choose another path"
        )
    closed = 0o077 if private_read else 0o022
    if info.st_mode & closed:
        who = "read or written" if private_read else "written"
        raise UnsafeFileError(
            f"refusing to use {path}: mode {stat.S_IMODE(info.st_mode):04o} lets group or "
            f"others have it {who}; run chmod 600 on it if its contents are yours"
        )


def open_database_file(path: Path) -> None:
    """Create the database file exclusively (0600), or check an existing one and its
    ``-wal``/``-shm`` files.

    Raises:
        UnsafeFileError: an existing file another user owns or group/others can write.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            _refuse_unsafe(candidate, private_read=False)
        return
    os.close(fd)
    # SQLite gives the -wal and -shm files the database file's permissions; stale ones that
    # another user left are refused.
    for candidate in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        _refuse_unsafe(candidate, private_read=False)


def write_token_file(path: str | os.PathLike[str], token: str) -> None:
    """Write ``token`` and a newline to ``path``, mode 0600: a new file, or one of this user's
    that nobody else can read or write (then replaced).

    Raises:
        UnsafeFileError: the path is another user's file, a link, or open to group/others.
    """
    target = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW
    try:
        fd = os.open(target, flags | os.O_EXCL, 0o600)
    except FileExistsError:
        _refuse_unsafe(target, private_read=True)
        fd = os.open(target, flags | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(token + "\n")
