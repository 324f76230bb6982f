"""Cache joblib results in any kvmap store.

Importing this module registers the joblib store backend ``"kvmap"``, so a
``joblib.Memory`` keeps its cache wherever a kvmap URI points::

    import joblib
    import kvmap.joblib  # registers the backend

    memory = joblib.Memory("redis://127.0.0.1:6379/0", backend="kvmap")

joblib has no entry point for store backends: the import is needed.
"""

from __future__ import annotations

import datetime
import errno
import io
import json
import re
import time
import warnings
from types import TracebackType
from typing import Any

from joblib._store_backends import (
    CacheItemInfo,
    StoreBackendBase,
    StoreBackendMixin,
)
from joblib.memory import register_store_backend

from kvmap.factory import get_store
from kvmap.redact import redact_uri
from kvmap.store import BATCH_SIZE, batched

__all__ = ["KvmapStoreBackend"]

#: The folder that ``joblib.Memory`` appends to a location given as a string.
JOBLIB_FOLDER = "joblib"
#: The key, next to each cached output, that records its size and last use.
ITEM_INFO = "item.json"
OUTPUT = "output.pkl"

_CALL_FOLDER = re.compile(r"[a-f0-9]{32}")


class KvmapStoreBackend(StoreBackendBase, StoreBackendMixin):  # type: ignore[misc]
    """A joblib store backend that keeps each cache file as one kvmap key.

    ``location`` is any kvmap URI (a folder, ``redis://``, ``s3://``,
    ``sqlite:///``...). ``joblib.Memory`` appends ``/joblib`` to it, which
    becomes the key prefix ``joblib/``; the file ``<function>/<hash>/output.pkl``
    of joblib's local cache is the key ``joblib/<function>/<hash>/output.pkl``.
    ``backend_options`` other than joblib's ``compress`` and ``mmap_mode`` go
    to :func:`kvmap.get_store` (``key_prefix``, ``default_ttl``, backend
    options). Values are stored as raw bytes, whatever ``KVMAP_SERIALIZATION_MODE``
    says.

    A missing file raises ``FileNotFoundError`` (an ``OSError``, as joblib's
    local backend does) and a missing cached result ``KeyError``, as joblib
    expects; errors of the service itself propagate. ``mmap_mode`` is not
    supported (values are not files) and is ignored with a warning.

    Each cached result also keeps a small ``item.json`` key with its size and
    the time it was last written or read, so that ``Memory.reduce_size()``
    lists the cache without reading the results. Listing the cache
    (``reduce_size``) costs one listing of the keys under the location plus
    one batched read of those records.

    Notes
    -----
    As safe across threads and processes as the store: each file is written
    as one value, so readers never see a half-written result. Pickles with its
    store (to its configuration), for joblib's worker processes.
    """

    location: str | None = None

    def configure(
        self,
        location: str,
        verbose: int = 1,
        backend_options: dict[str, Any] | None = None,
    ) -> None:
        """Open the kvmap store that ``location`` names."""
        options = dict(backend_options or {})
        self.compress = options.pop("compress", False)
        if options.pop("mmap_mode", None) is not None:
            warnings.warn(
                "mmap_mode needs files on disk; the kvmap backend ignores it",
                stacklevel=2,
            )
        self.mmap_mode = None
        self.verbose = verbose

        uri, folder = _split_joblib_folder(str(location))
        self.store = get_store(uri, serialization_mode="raw", **options)
        self._root = redact_uri(uri)
        self.location = self._root + folder

    def __repr__(self) -> str:
        return f'{type(self).__name__}(location="{self.location}")'

    def _key(self, path: str) -> str:
        """Turn a path under :attr:`location` into the store key."""
        if path == self._root:
            return ""
        if not path.startswith(self._root + "/"):
            raise ValueError(f"{path!r} is not under the cache {self._root!r}")
        return path[len(self._root) + 1 :]

    def _open_item(self, path: str, mode: str) -> io.BytesIO:
        key = self._key(path)
        if mode == "wb":
            return _ValueWriter(self, key)
        if mode != "rb":
            raise ValueError(f"mode must be 'rb' or 'wb', got {mode!r}")
        try:
            value = self.store[key]
        except KeyError:
            raise FileNotFoundError(errno.ENOENT, "no such cache file", path) from None
        if key.endswith("/" + OUTPUT):
            self._record_use(key, len(value))
        return io.BytesIO(value)

    def _write(self, key: str, value: bytes) -> None:
        self.store[key] = value
        if key.endswith("/" + OUTPUT):
            self._record_use(key, len(value))

    def _record_use(self, output_key: str, size: int) -> None:
        folder = output_key.rpartition("/")[0]
        record = {"size": size, "last_access": time.time()}
        self.store[folder + "/" + ITEM_INFO] = json.dumps(record).encode()

    def _item_exists(self, path: str) -> bool:
        key = self._key(path)
        if not key:
            return True
        if key in self.store:
            return True
        return next(iter(self.store.iter_keys(key + "/")), None) is not None

    def _move_item(self, source: str, destination: str) -> None:
        source_key = self._key(source)
        self.store[self._key(destination)] = self.store[source_key]
        del self.store[source_key]

    def _concurrency_safe_write(self, value: Any, path: str, write: Any) -> None:
        # Each store write replaces a whole value at once: no temporary key.
        write(value, path)

    def create_location(self, location: str) -> None:
        """Do nothing: folders exist as soon as a key is written under them."""

    def clear_location(self, location: str) -> None:
        """Delete the key at ``location`` and every key under it."""
        key = self._key(location)
        prefix = key + "/" if key else ""
        keys = list(self.store.iter_keys(prefix))
        if key and key in self.store:
            keys.append(key)
        for batch in batched(keys, BATCH_SIZE):
            self.store.delitems(batch)

    def get_items(self) -> list[CacheItemInfo]:
        """Return every cached result with its size and time of last use."""
        folders = self._result_folders()
        infos = self.store.getitems(folder + "/" + ITEM_INFO for folder in folders)
        items = []
        for folder in folders:
            stored = infos.get(folder + "/" + ITEM_INFO)
            record = json.loads(stored) if stored else {"size": 0, "last_access": 0}
            last_access = datetime.datetime.fromtimestamp(record["last_access"])
            path = self._root + "/" + folder
            items.append(CacheItemInfo(path, record["size"], last_access))
        return items

    def _result_folders(self) -> list[str]:
        start = self._key(str(self.location))
        prefix = start + "/" if start else ""
        folders = []
        for key in self.store.iter_keys(prefix):
            folder, _, name = key.rpartition("/")
            if name == OUTPUT and _CALL_FOLDER.fullmatch(folder.rpartition("/")[2]):
                folders.append(folder)
        return folders


class _ValueWriter(io.BytesIO):
    """A file that stores its content under ``key`` when its ``with`` ends well."""

    def __init__(self, backend: KvmapStoreBackend, key: str) -> None:
        super().__init__()
        self.backend = backend
        self.key = key

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.backend._write(self.key, self.getvalue())
        self.close()


def _split_joblib_folder(location: str) -> tuple[str, str]:
    """Split ``"<uri>/joblib"`` into the URI and ``"/joblib"``."""
    if not location.endswith("/" + JOBLIB_FOLDER):
        return location, ""
    head = location[: -len(JOBLIB_FOLDER)]
    if not head.endswith("://"):  # "memory://" + "joblib" keeps its "//"
        head = head[:-1]
    return (head, "/" + JOBLIB_FOLDER) if head else (location, "")


register_store_backend("kvmap", KvmapStoreBackend)
