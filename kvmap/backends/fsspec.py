"""The generic backend for any fsspec file system (s3, gcs, sftp, zip, ...)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Self

import fsspec
from fsspec.core import url_to_fs

from kvmap.backends.base import Backend, as_bytes
from kvmap.errors import ReadOnlyError
from kvmap.keys import check_key
from kvmap.redact import redact_uri
from kvmap.store import check_ttl

__all__ = ["FsspecBackend"]

#: Protocols whose file systems can only be read.
READ_ONLY_PROTOCOLS = frozenset({"http", "https"})


class FsspecBackend(Backend):
    """Keep each value as one file or object of an fsspec file system.

    ``uri`` names the root (``s3://bucket/prefix``, ``zip:///path/a.zip``...);
    key ``"a/b"`` is the path ``<root>/a/b``. Every option reaches the file
    system's constructor and nothing else. Values are ``bytes``. Only the
    exceptions in ``missing_exceptions`` mean a missing key (``KeyError``);
    every other error, such as a denied access or a timeout, is raised as it is.

    Batches use fsspec's bulk calls: ``getitems`` is one ``cat`` of a list of
    paths and ``setitems`` one ``pipe`` (file systems such as s3fs run these
    concurrently). Listing a prefix lists the folder the prefix names.

    Notes
    -----
    Safe across threads as far as the file system is (fsspec's own
    file systems are). The store pickles to its URI and options and opens the
    file system again where it is unpickled.
    """

    accepts_other_options = True
    missing_exceptions: tuple[type[BaseException], ...] = (FileNotFoundError,)

    def __init__(self, uri: str, **options: Any) -> None:
        self.uri = uri
        self.storage_options = options
        self.read_only = uri.split("://", 1)[0] in READ_ONLY_PROTOCOLS
        self._fs: fsspec.AbstractFileSystem | None = None
        self._root = ""

    @classmethod
    def from_uri(cls, uri: str, **options: Any) -> Self:
        return cls(uri, **options)

    @property
    def fs(self) -> fsspec.AbstractFileSystem:
        """The file system, opened on first use."""
        if self._fs is None:
            self._fs, root = url_to_fs(self.uri, **self.storage_options)
            self._root = root.rstrip("/")
        return self._fs

    def _path(self, key: str) -> str:
        filesystem = self.fs
        del filesystem
        return self._root + "/" + check_key(key)

    def _check_writable(self, key: str) -> None:
        if self.read_only:
            raise ReadOnlyError(
                f"cannot write or delete {key!r}: {redact_uri(self.uri)} is read-only"
            )

    def __getitem__(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return bytes(self.fs.cat_file(path))
        except self.missing_exceptions:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        return bool(self.fs.isfile(self._path(check_key(key))))

    def __setitem__(self, key: str, value: bytes) -> None:
        self._check_writable(key)
        self.fs.pipe_file(self._path(key), as_bytes(value, key))

    def __delitem__(self, key: str) -> None:
        self._check_writable(key)
        path = self._path(key)
        if not self.fs.isfile(path):
            raise KeyError(key)
        self.fs.rm_file(path)

    def __len__(self) -> int:
        return sum(1 for _ in self.iter_keys())

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        folder = prefix.rpartition("/")[0]
        top = self._path(folder) if folder else self.fs.root_marker + self._root
        start = len(self._root) + 1
        try:
            paths = self.fs.find(top, withdirs=False)
        except self.missing_exceptions:
            return
        for path in paths:
            key = path[start:] if path.startswith(self._root) else path
            if key.startswith(prefix) and key and not key.endswith("/"):
                yield key

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        paths = {self._path(key): key for key in keys}
        if not paths:
            return {}
        found = self.fs.cat(list(paths), on_error="return")
        if not isinstance(found, dict):
            found = {next(iter(paths)): found}
        values: dict[str, bytes] = {}
        for path, value in found.items():
            if isinstance(value, self.missing_exceptions):
                continue
            if isinstance(value, BaseException):
                raise value
            values[paths[path]] = bytes(value)
        return values

    def setitems(
        self,
        items: Mapping[str, bytes] | Iterable[tuple[str, bytes]],
        ttl: float | None = None,
    ) -> None:
        pairs = list(items.items() if isinstance(items, Mapping) else items)
        if check_ttl(ttl):
            super().setitems(pairs, ttl)
        for key, _ in pairs[:1]:
            self._check_writable(key)
        self.fs.pipe({self._path(key): as_bytes(value, key) for key, value in pairs})

    def delitems(self, keys: Iterable[str]) -> None:
        paths = [self._path(key) for key in keys]
        for key in paths[:1]:
            self._check_writable(key)
        present = [path for path in paths if self.fs.isfile(path)]
        if present:
            self.fs.rm(present)

    def __getstate__(self) -> dict[str, Any]:
        return {"uri": self.uri, "storage_options": self.storage_options}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["uri"], **state["storage_options"])  # type: ignore[misc]
