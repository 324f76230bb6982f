"""The in-memory backend: bytes in a dict owned by one store instance."""

from __future__ import annotations

import os
import uuid
import weakref
from collections.abc import Iterator
from typing import Any, Self

from kvmap.backends.base import Backend, as_bytes
from kvmap.errors import ProcessLocalError
from kvmap.keys import check_key

__all__ = ["MemoryBackend"]

_LIVE: weakref.WeakValueDictionary[str, MemoryBackend] = weakref.WeakValueDictionary()


class MemoryBackend(Backend):
    """Keep ``bytes`` values in a dict that belongs to this store instance.

    Keys follow :mod:`kvmap.keys`; values are returned as ``bytes``. A missing
    key raises ``KeyError``. ``len()`` is O(1); iteration copies the key list,
    so the store may change while it is being iterated, and listing a prefix
    filters that copy (no I/O is involved).

    Notes
    -----
    Safe to share between threads: each call is a single dict operation under
    the GIL. The data lives in one process only. Pickling a memory store and
    unpickling it in the same process gives back the same store; unpickling it
    in another process raises :class:`~kvmap.errors.ProcessLocalError`, because
    writes made there would be silently lost.
    """

    def __init__(self) -> None:
        self.uri = "memory://"
        self._data: dict[str, bytes] = {}
        self._token = uuid.uuid4().hex
        self._pid = os.getpid()
        _LIVE[self._token] = self

    @classmethod
    def from_uri(cls, uri: str, **options: Any) -> Self:
        return cls()

    def __getitem__(self, key: str) -> bytes:
        return self._data[check_key(key)]

    def getrange(self, key: str, start: int, stop: int | None = None) -> bytes:
        return self._data[check_key(key)][start:stop]

    def __setitem__(self, key: str, value: bytes) -> None:
        self._data[check_key(key)] = as_bytes(value, key)

    def __delitem__(self, key: str) -> None:
        del self._data[check_key(key)]

    def __contains__(self, key: object) -> bool:
        return check_key(key) in self._data

    def __len__(self) -> int:
        return len(self._data)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        keys = list(self._data)
        if not prefix:
            return iter(keys)
        return (key for key in keys if key.startswith(prefix))

    def clear(self) -> None:
        self._data.clear()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_find_live_store, (self._token, self._pid))


def _find_live_store(token: str, pid: int) -> MemoryBackend:
    store = _LIVE.get(token)
    if store is None or pid != os.getpid():
        raise ProcessLocalError(
            "a memory:// store was unpickled in another process (or after it was "
            "garbage collected): its data exists only in the process that made it. "
            "Use a file, redis, sql or s3 URI to share a store between processes."
        )
    return store
