"""Low-level file operations of the local file backend.

Reads use plain descriptors (no buffered file objects) to keep small reads
cheap. Writes go through a temporary file that then takes the target's name in
one atomic step.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import stat
import sys
from typing import Any

__all__ = [
    "VALUE_FILE",
    "flush_folder",
    "read_file",
    "read_range",
    "remove_quietly",
    "replace",
    "write_all",
]

#: Where the value of a key lives when the key is also a folder of other keys.
VALUE_FILE = ".kvmap-value"

_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


def read_file(path: str) -> bytes:
    descriptor = os.open(path, _READ)
    try:
        size = os.fstat(descriptor).st_size
        data = os.read(descriptor, size)
        if len(data) == size:
            return data
        chunks = [data]
        while chunk := os.read(descriptor, 1 << 24):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def read_range(path: str, start: int, stop: int | None) -> bytes:
    descriptor = os.open(path, _READ)
    try:
        if start < 0 or stop is None or stop < 0:  # bounds from the end
            size = os.fstat(descriptor).st_size
            start, stop, _ = slice(start, stop).indices(size)
        if stop <= start:
            os.fstat(descriptor)  # still fail on a folder or a missing file
            os.read(descriptor, 0)
            return b""
        return os.pread(descriptor, stop - start, start)
    finally:
        os.close(descriptor)


def write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(descriptor, view)
        view = view[written:]


def replace(temporary: str, path: str) -> None:
    """Give ``temporary`` the name ``path`` in one atomic step.

    When ``path`` is a folder (the key also has keys under it), the value
    goes to ``path/.kvmap-value`` instead.
    """
    try:
        mode: int | None = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        os.replace(temporary, path + "/" + VALUE_FILE)
        return
    if mode is not None and _exchange is not None and _exchange_files(temporary, path):
        return
    try:
        os.replace(temporary, path)
    except IsADirectoryError:
        os.replace(temporary, path + "/" + VALUE_FILE)


def _exchange_files(temporary: str, path: str) -> bool:
    # Replacing a file by renaming over it makes ext4 flush the new file's
    # data at once (its auto_da_alloc safeguard), which triples the cost of a
    # small write. Swapping the two names in one atomic step and unlinking the
    # old file afterwards avoids that flush. Readers see the old or the new
    # value at every moment. A crash between the swap and the unlink leaves a
    # .kvmap-tmp-* file holding the old value, which is never listed.
    assert _exchange is not None
    if _exchange(_AT_FDCWD, temporary.encode(), _AT_FDCWD, path.encode(), 2) != 0:
        return False  # no file to swap with (or no support): rename instead
    try:
        os.unlink(temporary)
    except IsADirectoryError:
        # The file became a folder since it was looked at: swap back, and
        # write the value file. Readers of keys in that folder may miss them
        # for the instant the two names are swapped.
        _exchange(_AT_FDCWD, temporary.encode(), _AT_FDCWD, path.encode(), 2)
        os.replace(temporary, path + "/" + VALUE_FILE)
    return True


def _load_exchange() -> Any:
    """Return libc's renameat2 where the platform has it, else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    return function


_AT_FDCWD = -100
_exchange = _load_exchange()


def flush_folder(folder: str) -> None:
    descriptor = os.open(folder, _READ)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
