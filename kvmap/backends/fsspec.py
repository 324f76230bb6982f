"""The generic backend for any fsspec file system (gcs, sftp, zip, http, ...).

The file system, the root and the paths of keys are
:class:`~kvmap.backends.fsspec_root.FsspecRoot`'s; this module reads, writes,
lists and deletes values through them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping

from kvmap.backends.base import as_bytes
from kvmap.backends.fsspec_paths import (
    VALUE_FILE,
    cat_many,
    cat_ranges_many,
    find_files,
    folders_above,
    is_literal,
    move_into_folder,
    prune_folders,
)
from kvmap.backends.fsspec_root import FLAT_PROTOCOLS, READ_ONLY_PROTOCOLS, FsspecRoot
from kvmap.keys import check_key
from kvmap.store import check_ttl

__all__ = ["FLAT_PROTOCOLS", "READ_ONLY_PROTOCOLS", "VALUE_FILE", "FsspecBackend"]


class FsspecBackend(FsspecRoot):
    """Keep each value as one file or object of an fsspec file system.

    ``uri`` names the root (``gcs://bucket/prefix``, ``sftp://host/folder``,
    ``memory://name``...); key ``"a/b"`` is the path ``<root>/a/b``. Values
    are ``bytes``. Every option except ``read_only`` goes to the file system's
    constructor and nowhere else.

    On object stores (``FLAT_PROTOCOLS``) names map one to one. On file
    systems with folders, a key that is also a folder of other keys (``"a"``
    beside ``"a/b"``) keeps its value in ``<root>/a/.kvmap-value``, as
    :class:`~kvmap.backends.file.FileBackend` does.

    Only the exceptions in ``missing_exceptions`` mean a missing key
    (``KeyError``); every other error, such as a denied access or a timeout,
    is raised, also from :meth:`getitems`. HTTP(S) stores and stores opened
    with ``read_only=True`` raise :class:`~kvmap.errors.ReadOnlyError` for
    writes and deletes before any request is sent.

    ``getitems`` is one ``cat`` of a list of paths and ``setitems`` one
    ``pipe`` of a dict: asynchronous file systems run them concurrently.
    ``len()`` and iteration list every file under the root, O(number of keys);
    listing a prefix lists only the folder that the prefix names. A folder
    that cannot be listed raises its error; it is never skipped. On HTTP(S)
    keys are percent-encoded into URLs, and a folder's listing page is not a
    value (``KeyError``).

    Notes
    -----
    Safe across threads as far as the file system is (fsspec's own are). The
    store pickles to its URI and options (credentials included) and opens the
    file system again on first use after unpickling or in a forked child.
    Moving a value into ``.kvmap-value`` takes several calls: two processes
    writing ``"a"`` and ``"a/b"`` at the same moment can lose one value.
    """

    def _read(
        self, path: str, start: int | None = None, end: int | None = None
    ) -> bytes | None:
        # Return the value at ``path``, or None when there is none.
        for candidate in self._candidates(path):
            try:
                value = bytes(self.fs.cat_file(candidate, start=start, end=end))
                if self.is_folder_page(candidate, None if start else value):
                    return None
                return value
            except IsADirectoryError:
                if self.flat:
                    raise
            except Exception as error:
                if not self.is_missing(error):
                    self._raise(error)
        return None

    def __getitem__(self, key: str) -> bytes:
        value = self._read(self.path(key))
        if value is None:
            raise KeyError(key)
        return value

    def getrange(self, key: str, start: int, stop: int | None = None) -> bytes:
        if start < 0 or stop is None or stop < 0:
            return self[key][start:stop]
        if stop <= start:
            if key not in self:
                raise KeyError(key)
            return b""
        value = self._read(self.path(key), start, stop)
        if value is None:
            raise KeyError(key)
        # A server that ignores ranges sends the whole value.
        return value[start:stop] if len(value) > stop - start else value

    def getranges(
        self, keys: Iterable[str], start: int, stop: int | None = None
    ) -> dict[str, bytes]:
        # On object stores, one concurrent request per key for the whole batch.
        keys = list(keys)
        paths = [self.path(key) for key in keys]
        simple = stop is not None and 0 <= start < stop
        if not (self.flat and simple and all(map(is_literal, paths))):
            return super().getranges(keys, start, stop)
        assert stop is not None
        found: dict[str, bytes] = {}
        results = cat_ranges_many(self.fs, paths, start, stop)
        for key, result in zip(keys, results, strict=True):
            if not isinstance(result, BaseException):
                found[key] = bytes(result)[: stop - start]
            elif not self.is_missing(result):
                # Refused for another reason (a range past the end of a short
                # value, a failure): ask again alone, where it is explained.
                with contextlib.suppress(KeyError):
                    found[key] = self.getrange(key, start, stop)
        return found

    def __contains__(self, key: object) -> bool:
        return self._value_path(self.path(check_key(key))) is not None

    def __setitem__(self, key: str, value: bytes) -> None:
        self.refuse_if_read_only(f"write key {key!r}")
        self.setitems({key: value})

    def __delitem__(self, key: str) -> None:
        self.refuse_if_read_only(f"delete key {key!r}")
        path = self.path(key)
        value_path = self._value_path(path)
        if value_path is None:
            raise KeyError(key)
        self._call(self.fs.rm_file, value_path)
        prune_folders(self.fs, [path], self._base.rstrip("/"))

    def clear(self) -> None:
        self.refuse_if_read_only("clear the store")
        super().clear()

    def __len__(self) -> int:
        return sum(1 for _ in self.iter_keys())

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        folder = prefix.rpartition("/")[0]
        top = self.path(folder) if folder else self.path_of_root()
        try:
            paths = find_files(self.fs, top, self.listing_error)
        except Exception as error:
            if self.is_missing(error):
                return
            self._raise(error)
        for path in paths:
            key = self.key_of(str(path))
            if key is not None and key.startswith(prefix):
                yield key

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        # One bulk read per place a value may be: 1 round on object stores,
        # at most 2 where a key can also be a folder.
        pending = {self.path(key): key for key in keys}
        found: dict[str, bytes] = {}
        for place in range(1 if self.flat else 2):
            candidates = {self._candidates(path)[place]: path for path in pending}
            missing: dict[str, str] = {}
            for candidate, result in cat_many(self.fs, list(candidates)).items():
                path = candidates[candidate]
                if not isinstance(result, BaseException):
                    if self.is_folder_page(candidate, bytes(result)):
                        continue
                    found[pending[path]] = bytes(result)
                elif self._absent(result):
                    missing[path] = pending[path]
                else:
                    self._raise(result)
            pending = missing
        return found

    def _absent(self, error: BaseException) -> bool:
        if isinstance(error, IsADirectoryError):
            return not self.flat
        return self.is_missing(error)

    def setitems(
        self,
        items: Mapping[str, bytes] | Iterable[tuple[str, bytes]],
        ttl: float | None = None,
    ) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        if check_ttl(ttl):
            super().setitems(pairs, ttl)  # raises TTLNotSupportedError
        self.refuse_if_read_only("write a batch of keys")
        values = {self.path(key): as_bytes(value, key) for key, value in pairs}
        if not values:
            return
        if self.flat:
            self._call(self.fs.pipe, values)
            return
        folders = folders_above(values)
        targets = {self._target(path, folders): value for path, value in values.items()}
        try:
            self.fs.pipe(targets)
        except (FileNotFoundError, FileExistsError, NotADirectoryError):
            for path, value in values.items():
                self._write_making_folders(path, value, folders)

    def _target(self, path: str, folders: set[str]) -> str:
        # The file to write for ``path``: its value file if it is a folder,
        # or becomes one in this batch.
        if path in folders or self._kind(path) == "directory":
            return path + "/" + VALUE_FILE
        return path

    def _write_making_folders(self, path: str, value: bytes, folders: set[str]) -> None:
        folder, _, _ = path.rpartition("/")
        current = self._base.rstrip("/")
        relative = folder[len(self._base) :]
        for segment in relative.split("/") if relative else []:
            current = current + "/" + segment if current else segment
            if self._kind(current) == "file":
                move_into_folder(self.fs, current)
        self.fs.makedirs(folder, exist_ok=True)
        self.fs.pipe_file(self._target(path, folders), value)

    def delitems(self, keys: Iterable[str]) -> None:
        self.refuse_if_read_only("delete a batch of keys")
        paths = [self.path(key) for key in keys]
        if self.flat:
            self._remove_many(paths)
            return
        for path in paths:
            for candidate in self._candidates(path):
                with contextlib.suppress(IsADirectoryError):
                    if self._remove_if_present(candidate):
                        break
        prune_folders(self.fs, paths, self._base.rstrip("/"))

    def _remove_many(self, paths: list[str]) -> None:
        # One bulk ``rm``; names with glob characters are deleted alone.
        literal = [path for path in paths if is_literal(path)]
        try:
            if literal:
                self.fs.rm(literal)
            literal_set = set(literal)
            for path in paths:
                if path not in literal_set:
                    self._remove_if_present(path)
        except Exception as error:
            if not self.is_missing(error):
                self._raise(error)
            for path in paths:  # some file system refused a missing name
                self._remove_if_present(path)

    def _remove_if_present(self, path: str) -> bool:
        try:
            self.fs.rm_file(path)
        except Exception as error:
            if self.is_missing(error):
                return False
            self._raise(error)
        return True
