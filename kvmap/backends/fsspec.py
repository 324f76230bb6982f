"""The generic backend for any fsspec file system (gcs, sftp, zip, http, ...)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar, NoReturn, Self
from urllib.parse import unquote

from kvmap.backends import uri_scheme
from kvmap.backends.base import Backend, as_bytes
from kvmap.backends.fsspec_paths import (
    VALUE_FILE,
    cat_many,
    cat_ranges_many,
    folders_above,
    is_literal,
    move_into_folder,
    prune_folders,
)
from kvmap.errors import ConfigError, InvalidKeyError, ProcessLocalError, ReadOnlyError
from kvmap.keys import check_key
from kvmap.redact import redact_options, redact_uri
from kvmap.store import check_ttl

__all__ = ["FLAT_PROTOCOLS", "READ_ONLY_PROTOCOLS", "VALUE_FILE", "FsspecBackend"]

logger = logging.getLogger(__name__)

#: Protocols whose file systems can only be read.
READ_ONLY_PROTOCOLS = frozenset({"http", "https"})
#: Object stores, where ``"a"`` and ``"a/b"`` are unrelated names.
FLAT_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "oss"})


class FsspecBackend(Backend):
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
    listing a prefix lists only the folder that the prefix names.

    Notes
    -----
    Safe across threads as far as the file system is (fsspec's own are). The
    store pickles to its URI and options (credentials included) and opens the
    file system again on first use after unpickling or in a forked child.
    Moving a value into ``.kvmap-value`` takes several calls: two processes
    writing ``"a"`` and ``"a/b"`` at the same moment can lose one value.
    """

    options: ClassVar[Mapping[str, Any]] = {"read_only": bool}
    accepts_other_options = True
    #: The exceptions that mean "no such file" rather than a failure.
    missing_exceptions: tuple[type[BaseException], ...] = (FileNotFoundError,)
    #: Whether ``"a"`` and ``"a/b"`` can both be files without help.
    flat: bool = False

    def __init__(self, uri: str, *, read_only: bool = False, **options: Any) -> None:
        self.uri = uri
        self.storage_options = options
        self.protocol = uri_scheme(uri)
        self.read_only = bool(read_only) or self.protocol in READ_ONLY_PROTOCOLS
        self.flat = self.flat or self.protocol in FLAT_PROTOCOLS
        self._fs: Any = None
        self._base = ""
        self._pid = 0

    @classmethod
    def from_uri(cls, uri: str, **options: Any) -> Self:
        return cls(uri, **options)

    @property
    def fs(self) -> Any:
        """The file system, opened on first use and again after a fork."""
        # Two threads may both open it; the last one wins, which is harmless.
        if self._fs is None or self._pid != os.getpid():
            filesystem, root = self.open_filesystem()
            logger.debug(
                "opened %s for %s with options %s",
                type(filesystem).__name__,
                redact_uri(self.uri),
                redact_options(self.storage_options),
            )
            self._base = root.rstrip("/") + "/" if root else ""
            self._fs, self._pid = filesystem, os.getpid()
        return self._fs

    def open_filesystem(self) -> tuple[Any, str]:
        """Return a new file system and the root path inside it."""
        from fsspec.core import url_to_fs

        try:
            return url_to_fs(self.uri, **self.storage_options)  # type: ignore[no-any-return]
        except (TypeError, ImportError) as error:
            names = sorted(self.storage_options) or "none"
            raise ConfigError(
                f"cannot open {redact_uri(self.uri)!r} with options {names}: {error}"
            ) from None

    def close(self) -> None:
        self._fs = None

    def path(self, key: str) -> str:
        """Return the path of ``key``'s file (without ``.kvmap-value``)."""
        filesystem = self.fs  # sets self._base
        del filesystem
        return self._base + check_key(key)

    def is_missing(self, error: BaseException) -> bool:
        """Tell whether ``error``, raised for one path, means "no such file"."""
        if isinstance(error, self.missing_exceptions):
            return True
        return not self.flat and isinstance(error, NotADirectoryError)

    def translate(self, error: BaseException) -> BaseException:
        """Return the error to raise for ``error`` (subclasses add context)."""
        return error

    def refuse_if_read_only(self, what: str) -> None:
        """Raise ReadOnlyError when this store may not be changed."""
        if self.read_only:
            raise ReadOnlyError(f"cannot {what}: {redact_uri(self.uri)} is read-only")

    def _raise(self, error: BaseException) -> NoReturn:
        translated = self.translate(error)
        if translated is error:
            raise error
        raise translated from error

    def _read(
        self, path: str, start: int | None = None, end: int | None = None
    ) -> bytes | None:
        # Return the value at ``path``, or None when there is none.
        for candidate in self._candidates(path):
            try:
                return bytes(self.fs.cat_file(candidate, start=start, end=end))
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

    def _kind(self, path: str) -> str | None:
        # "file", "directory" or None; fsspec's isfile() would hide errors.
        try:
            return str(self.fs.info(path)["type"])
        except Exception as error:
            if self.is_missing(error):
                return None
            self._raise(error)

    def _value_path(self, path: str) -> str | None:
        # The file that holds the value at ``path``, or None when missing.
        for candidate in self._candidates(path):
            if self._kind(candidate) == "file":
                return candidate
        return None

    def _candidates(self, path: str) -> list[str]:
        # Where the value at ``path`` may be, in the order to look. Web
        # servers answer a folder's URL with a listing page, so on HTTP the
        # value file comes first.
        if self.flat:
            return [path]
        value_path = path + "/" + VALUE_FILE
        if self.protocol in READ_ONLY_PROTOCOLS:
            return [value_path, path]
        return [path, value_path]

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
            paths = self.fs.find(top, withdirs=False)
        except Exception as error:
            if self.is_missing(error):
                return
            self._raise(error)
        for path in paths:
            key = self.key_of(str(path))
            if key is not None and key.startswith(prefix):
                yield key

    def path_of_root(self) -> str:
        """Return the path of the root folder."""
        root_marker = self.fs.root_marker  # opening the file system sets _base
        return self._base.rstrip("/") or root_marker

    def key_of(self, path: str) -> str | None:
        """Return the key stored at a listed ``path``, or None if it holds none."""
        if not path.startswith(self._base) or path.endswith("/"):
            return None
        key = path[len(self._base) :]
        if self.protocol in READ_ONLY_PROTOCOLS:
            key = unquote(key)  # links in HTML listings are percent-encoded
        if key.endswith("/" + VALUE_FILE) and not self.flat:
            key = key[: -len(VALUE_FILE) - 1]
        try:
            return check_key(key)
        except InvalidKeyError:
            return None  # kvmap's own files, and names no key can have

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

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Exception as error:
            self._raise(error)

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

    def __getstate__(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "read_only": self.read_only,
            "storage_options": self.storage_options,
            "pid": os.getpid(),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        in_memory = uri_scheme(state["uri"]) == "memory"
        if in_memory and state.get("pid", os.getpid()) != os.getpid():
            raise ProcessLocalError(
                f"{redact_uri(state['uri'])} lives in the memory of the process "
                "that pickled it: another process would see an empty store and "
                "its writes would be lost. Use a file, redis, sql or s3 URI."
            )
        self.__init__(  # type: ignore[misc]
            state["uri"], read_only=state["read_only"], **state["storage_options"]
        )
