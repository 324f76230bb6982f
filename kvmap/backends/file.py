"""The local file backend: each key is one file under a root folder."""

from __future__ import annotations

import contextlib
import itertools
import os
import stat
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Self

from kvmap.backends.base import Backend, as_bytes
from kvmap.backends.file_io import (
    VALUE_FILE,
    flush_folder,
    read_file,
    read_range,
    remove_quietly,
    replace,
    write_all,
)
from kvmap.errors import ConfigError, InvalidKeyError
from kvmap.keys import RESERVED_SEGMENT_PREFIX, check_key, check_prefix

__all__ = ["FileBackend"]

TEMPORARY_PREFIX = RESERVED_SEGMENT_PREFIX + "tmp-"

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_MISSING = (FileNotFoundError, NotADirectoryError)
_counter = itertools.count()
_ATTEMPTS = 8


class FileBackend(Backend):
    """Keep each value in its own file: key ``"a/b"`` is the file ``root/a/b``.

    Values are ``bytes``; a missing key raises ``KeyError``, while any other
    operating-system error (permissions, a full disk) is raised as it is.
    Writes go to a temporary file in the target folder that then replaces the
    old file in one step, so a reader sees the old value or the new one, never
    a torn one, and a crashed writer leaves the old value. With ``durable=True``
    the data and the folder are also flushed to disk before a write returns.

    A key may also be a folder of other keys (``"a"`` and ``"a/b"`` together):
    the value of ``"a"`` then moves to ``root/a/.kvmap-value``. Folders are made
    when a write needs them and removed when a delete empties them. Temporary
    files are named ``.kvmap-tmp-*`` and never listed.

    ``len()`` and iteration walk the folder tree, O(number of keys); listing a
    prefix walks only the folder that the prefix names.

    Notes
    -----
    Safe across threads and processes for reads and writes of whole values:
    the last completed write wins. Atomic replacement relies on POSIX
    ``rename``; on network file systems (NFS) it holds only as far as the
    server honours it. When one process writes ``"a"`` while another writes
    the first key under ``"a/"``, the value of ``"a"`` must move into the new
    folder; writers that collide there retry, and both keys end up stored.
    One narrow window remains: a write of ``"a"`` that lands between the
    mover's check and its unlink of the old file is lost (closing it would
    need a lock per store). A process killed mid-write leaves its
    ``.kvmap-tmp-*`` file behind (never listed; safe to delete).
    """

    options: ClassVar[Mapping[str, Any]] = {"durable": bool}

    def __init__(self, root: str | os.PathLike[str], *, durable: bool = False) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.uri = self.root
        self.durable = durable

    @classmethod
    def from_uri(cls, uri: str, **options: Any) -> Self:
        scheme, separator, rest = uri.partition("://")
        path = uri
        if separator and scheme.lower() in ("file", "local"):
            host, slash, folder = rest.partition("/")
            if host not in ("", "localhost") or not slash:
                raise ConfigError(
                    f"URI {uri!r} names no local absolute folder: use "
                    f"{scheme}:///abs/path (or {scheme}://localhost/abs/path), or "
                    "a plain path"
                )
            path = "/" + folder
        if not path:
            raise ConfigError(f"URI {uri!r} names no folder: use file:///abs/path")
        return cls(path, **options)

    def _path(self, key: str) -> str:
        return self.root + "/" + check_key(key)

    def __getitem__(self, key: str) -> bytes:
        return self._read(key, read_file)

    def getrange(self, key: str, start: int, stop: int | None = None) -> bytes:
        return self._read(key, lambda path: read_range(path, start, stop))

    def _read(self, key: str, read: Callable[[str], bytes]) -> bytes:
        # The value is the file at the key's path, or its .kvmap-value when
        # the key is also a folder of other keys.
        path = self._path(key)
        try:
            return read(path)
        except _MISSING:
            raise KeyError(key) from None
        except IsADirectoryError:
            pass
        try:
            return read(path + "/" + VALUE_FILE)
        except _MISSING:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        path = self._path(check_key(key))
        try:
            mode = os.stat(path).st_mode
        except _MISSING:
            return False
        if stat.S_ISDIR(mode):
            return os.path.isfile(path + "/" + VALUE_FILE)
        return True

    def __setitem__(self, key: str, value: bytes) -> None:
        path = self._path(key)
        data = as_bytes(value, key)
        folder = path.rpartition("/")[0]
        temporary = self._write_temporary(folder, data, key)
        try:
            for attempt in range(_ATTEMPTS):
                try:
                    replace(temporary, path)
                    break
                except (FileNotFoundError, NotADirectoryError):
                    # The key became a folder, or stopped being one, while
                    # this write was under way: place the value again.
                    if attempt == _ATTEMPTS - 1:
                        raise
                    self._make_folder(folder)
        except BaseException:
            remove_quietly(temporary)
            raise
        if self.durable:
            flush_folder(folder)

    def __delitem__(self, key: str) -> None:
        path = self._path(key)
        try:
            os.unlink(path)
        except _MISSING:
            raise KeyError(key) from None
        except (IsADirectoryError, PermissionError):
            if not os.path.isdir(path):
                raise
            try:
                os.unlink(path + "/" + VALUE_FILE)
            except _MISSING:
                raise KeyError(key) from None
            self._prune(path)
            return
        self._prune(path.rpartition("/")[0])

    def __len__(self) -> int:
        return sum(1 for _ in self.iter_keys())

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        folder, _, start = check_prefix(prefix).rpartition("/")
        base = folder + "/" if folder else ""
        top = self.root + "/" + folder if folder else self.root
        for key in _walk(top, base, start):
            if key.startswith(prefix):
                yield key

    def _write_temporary(self, folder: str, data: bytes, key: str) -> str:
        name = f"{TEMPORARY_PREFIX}{os.getpid()}-{threading.get_ident()}"
        temporary = f"{folder}/{name}-{next(_counter)}"
        descriptor = -1
        try:
            # Inside the try: a Ctrl-C that lands as open() returns must not
            # leave the new, empty file behind.
            descriptor = self._create(temporary, folder)
            write_all(descriptor, data)
            if self.durable:
                os.fsync(descriptor)
        except BaseException:
            if descriptor >= 0:
                os.close(descriptor)
            remove_quietly(temporary)
            raise
        os.close(descriptor)
        return temporary

    def _create(self, temporary: str, folder: str) -> int:
        # The folder may be missing, or removed by a delete that emptied it.
        attempts = 0
        while True:
            try:
                return os.open(temporary, _CREATE, 0o666)
            except _MISSING:
                attempts += 1
                if attempts == _ATTEMPTS:
                    raise
                self._make_folder(folder)

    def _make_folder(self, folder: str) -> None:
        # Writers of a key and of keys under it can race (one makes a file
        # where the other needs a folder): each round moves such files into
        # their folders, until the folder stands.
        for attempt in range(_ATTEMPTS):
            try:
                os.makedirs(folder, exist_ok=True)
                return
            except (FileExistsError, NotADirectoryError, FileNotFoundError):
                # FileNotFoundError: a delete removed a parent folder as it
                # emptied it, while makedirs was making the next one.
                if attempt == _ATTEMPTS - 1:
                    raise
                self._move_values_out_of_the_way(folder)

    def _move_values_out_of_the_way(self, folder: str) -> None:
        # A key's value file stands where a folder is needed: move each such
        # file to <folder>/.kvmap-value, from the root down.
        relative = folder[len(self.root) + 1 :]
        current = self.root
        for segment in relative.split("/") if relative else []:
            current = current + "/" + segment
            try:
                is_file = stat.S_ISREG(os.stat(current).st_mode)
            except _MISSING:
                return
            if is_file:
                _move_into_folder(current)

    def _prune(self, folder: str) -> None:
        # Remove folders that a delete left empty, up to (not including) root.
        # A writer that loses a race with this makes the folder again.
        while len(folder) > len(self.root):
            try:
                os.rmdir(folder)
            except OSError:
                return
            folder = folder.rpartition("/")[0]


def _move_into_folder(path: str) -> None:
    # Hard links, not renames: a link never moves a folder that another
    # writer made meanwhile, and never overwrites a newer value file.
    parent = path.rpartition("/")[0]
    temporary = f"{parent}/{TEMPORARY_PREFIX}{os.getpid()}-move-{next(_counter)}"
    try:
        os.link(path, temporary)
    except OSError:
        return  # gone, or a folder already: nothing to move
    try:
        # Known race: a writer replacing the file between this check and the
        # unlink loses that write. Closing it would need a lock per store.
        if os.stat(path).st_ino != os.stat(temporary).st_ino:
            return  # a newer value was written: the next round moves it
        os.unlink(path)
        with contextlib.suppress(FileExistsError):  # another writer made it
            os.mkdir(path)
        with contextlib.suppress(FileExistsError, NotADirectoryError):
            os.link(temporary, path + "/" + VALUE_FILE)  # a newer value wins
    except FileNotFoundError:
        pass  # another writer moved it first
    finally:
        remove_quietly(temporary)


def _walk(top: str, base: str, start: str) -> Iterator[str]:
    try:
        entries = list(os.scandir(top))
    except _MISSING:
        return
    for entry in entries:
        name = entry.name
        if name.startswith(RESERVED_SEGMENT_PREFIX):
            if name == VALUE_FILE and base and entry.is_file():
                yield base[:-1]
            continue
        if start and not name.startswith(start):
            continue
        if entry.is_dir():
            yield from _walk(entry.path, base + name + "/", "")
        elif _is_valid_key(base + name):
            yield base + name


def _is_valid_key(key: str) -> bool:
    # Files put there by other programs may have names no key can have (not
    # UTF-8, too long): they are not keys of this store, so they are skipped.
    try:
        check_key(key)
    except InvalidKeyError:
        return False
    return True
