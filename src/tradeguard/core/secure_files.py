"""Atomic file writes with explicit permissions, for keys and certificates; private sockets."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

from tradeguard.core.errors import ConfigurationError

PRIVATE_MODE = 0o600
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, fewer elsewhere
PUBLIC_MODE = 0o644


def write_atomically(path: Path, data: bytes, mode: int = PRIVATE_MODE) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)  # noqa: PTH101 - umask may have narrowed the creation mode
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new or truncated owner-only file, without syncing.

    For the many files of a batch that can be written again (a replay's reports), not keys.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    os.fchmod(descriptor, PRIVATE_MODE)  # an older file keeps its mode through O_CREAT
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def is_private(path: Path) -> bool:
    """Whether only the owner may read or write ``path``."""
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def check_socket_path(path: Path) -> None:
    """Refuse a path longer than ``MAX_SOCKET_PATH`` for a Unix socket (``ConfigurationError``).

    Called where the socket is bound, and earlier by whatever can say so before it starts.
    """
    if len(str(path)) > MAX_SOCKET_PATH:
        raise ConfigurationError(f"the socket path {path} is too long for a Unix socket")


def bind_private(sock: socket.socket, path: Path) -> None:
    """Bind the Unix socket ``sock`` at ``path``, owner-only (0600) from its first moment.

    The umask is narrowed around ``bind`` so that no other user can connect in the window
    before the mode is set; the mode is set again after, whatever the umask was. A path
    too long for a Unix socket is refused (``check_socket_path``).
    """
    check_socket_path(path)
    previous = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(previous)
    path.chmod(PRIVATE_MODE)
