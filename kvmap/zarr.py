"""Keep zarr 3 arrays and groups in any kvmap store.

zarr 3 accepts only its own store classes (or a plain ``dict``) as ``store=``.
:class:`ZarrStore` is such a class over any kvmap store, whatever its backend
and layers::

    import kvmap, zarr
    from kvmap.zarr import ZarrStore

    store = ZarrStore(kvmap.get_store("file:///data/cubes"))
    array = zarr.open_array(store=store, mode="w", shape=(100,), dtype="f4")

zarr 2 takes any mutable mapping: pass the kvmap store itself.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from zarr.abc.store import ByteRequest
from zarr.abc.store import Store as BaseZarrStore
from zarr.core.buffer import Buffer, BufferPrototype

from kvmap.store import BATCH_SIZE, Store, batched
from kvmap.zarr_buffers import byte_bounds, to_buffer, to_bytes
from kvmap.zarr_keys import zarr_keys
from kvmap.zarr_stack import refuses_writes, same_store

__all__ = ["THREADS", "ZarrStore"]

T = TypeVar("T")

#: How many backend calls run at once, across every ZarrStore of a process.
THREADS = 32

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


class ZarrStore(BaseZarrStore):
    """A zarr 3 store that keeps every zarr key in a kvmap store.

    Wraps any ``MutableMapping[str, ...]``, normally a kvmap store built by
    :func:`kvmap.get_store` (any backend, any layers). zarr's keys (``"zarr.json"``,
    ``"temperature/c/0/1"``) are the store's keys; values are ``bytes``. A
    missing key reads as ``None``, which zarr turns into the fill value of a
    chunk; every other error of the backend (a timeout, a refused connection,
    a permission error) is raised to the caller, never read as a fill value.

    Byte-range reads (partial reads of sharded arrays) go through the store's
    ``getrange``, so a backend with ranged reads (local files, S3) reads only
    the bytes asked for; the serializer and TTL layers of the default
    ``get_store`` stack still read the whole value and slice it (they must see
    its first bytes to decode it). Listing costs what ``iter_keys`` costs on
    the store.
    A store that refuses writes (a :class:`~kvmap.layers.read_only.ReadOnlyLayer`
    in its stack) makes a read-only zarr store.

    ``mode="w"`` under a path (``zarr.open_array(store, path="t", mode="w")``)
    deletes every key under ``"t/"`` first, as zarr does. At the root of the
    store it deletes only zarr's keys: metadata documents, the chunks of an
    array at the root, and every key of a folder that holds zarr metadata.
    Other keys of a shared store stay. To give an array a scope of its own,
    open it under a path, or wrap the store in a
    :class:`~kvmap.layers.prefix.PrefixLayer`.

    Notes
    -----
    Every backend call runs in a pool of :data:`THREADS` threads shared by the
    process, off zarr's event loop, so the chunks of one read are fetched
    concurrently. The wrapped store must therefore be safe across threads, as
    every kvmap backend is. A ``ZarrStore`` pickles with its store: for a
    backend that pickles to its configuration (files, Redis, SQL, S3), worker
    processes write to the same data; a ``memory://`` store refuses to be
    unpickled in another process. ``set_if_not_exists`` checks, then writes:
    two writers racing on one key may both write.
    """

    supports_writes: bool = True
    supports_deletes: bool = True
    supports_listing: bool = True

    def __init__(self, store: MutableMapping[str, Any], *, read_only: bool = False):
        super().__init__(read_only=read_only or refuses_writes(store))
        self.store = store

    def with_read_only(self, read_only: bool = False) -> ZarrStore:
        """Return a store over the same kvmap store, read-only or not."""
        return type(self)(self.store, read_only=read_only)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ZarrStore)
            and self.read_only == other.read_only
            and same_store(self.store, other.store)
        )

    def __repr__(self) -> str:
        return f"ZarrStore({self.store!r}, read_only={self.read_only})"

    def close(self) -> None:
        super().close()
        close = getattr(self.store, "close", None)
        if close is not None:
            close()

    async def get(
        self,
        key: str,
        prototype: BufferPrototype | None = None,
        byte_range: ByteRequest | None = None,
    ) -> Buffer | None:
        await self._ensure_open()
        bounds = byte_bounds(byte_range)
        value = await _run(self._read, key, bounds)
        return to_buffer(value, prototype)

    async def get_partial_values(
        self,
        prototype: BufferPrototype,
        key_ranges: Iterable[tuple[str, ByteRequest | None]],
    ) -> builtins.list[Buffer | None]:
        reads = [self.get(key, prototype, byte_range) for key, byte_range in key_ranges]
        return list(await asyncio.gather(*reads))

    async def exists(self, key: str) -> bool:
        return await _run(self.store.__contains__, key)

    async def set(self, key: str, value: Buffer) -> None:
        self._check_writable()
        await self._ensure_open()
        await _run(self.store.__setitem__, key, to_bytes(key, value))

    async def _set_many(self, values: Iterable[tuple[str, Buffer]]) -> None:
        self._check_writable()
        items = {key: to_bytes(key, value) for key, value in values}
        if isinstance(self.store, Store):
            await _run(self.store.setitems, items)
        else:
            await _run(self.store.update, items)

    async def delete(self, key: str) -> None:
        self._check_writable()
        await _run(self._delete_keys, [key])

    async def delete_dir(self, prefix: str) -> None:
        self._check_writable()
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        await _run(self._delete_under, prefix)

    async def clear(self) -> None:
        """Delete every key of the wrapped store, zarr's or not."""
        self._check_writable()
        await _run(self.store.clear)

    async def is_empty(self, prefix: str) -> bool:
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return not await _run(self._has_keys, prefix)

    async def getsize(self, key: str) -> int:
        value = await _run(self._read, key, None)
        if value is None:
            raise FileNotFoundError(key)
        return len(value)

    async def list(self) -> AsyncIterator[str]:
        for key in await _run(self._keys, ""):
            yield key

    async def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        for key in await _run(self._keys, prefix):
            yield key

    async def list_dir(self, prefix: str) -> AsyncIterator[str]:
        prefix = prefix.rstrip("/")
        base = prefix + "/" if prefix else ""
        keys = await _run(self._keys, base)
        for name in sorted({key[len(base) :].split("/", 1)[0] for key in keys}):
            yield name

    def get_sync(
        self,
        key: str,
        *,
        prototype: BufferPrototype | None = None,
        byte_range: ByteRequest | None = None,
    ) -> Buffer | None:
        """Read ``key`` in the calling thread; ``None`` if it is missing."""
        self._is_open = True
        return to_buffer(self._read(key, byte_bounds(byte_range)), prototype)

    def set_sync(self, key: str, value: Buffer) -> None:
        """Write ``key`` in the calling thread."""
        self._check_writable()
        self._is_open = True
        self.store[key] = to_bytes(key, value)

    def delete_sync(self, key: str) -> None:
        """Delete ``key`` in the calling thread; a missing key is ignored."""
        self._check_writable()
        self._is_open = True
        self._delete_keys([key])

    def _read(self, key: str, bounds: tuple[int, int | None] | None) -> Any:
        try:
            if bounds is None:
                value = self.store[key]
            elif isinstance(self.store, Store):
                value = self.store.getrange(key, *bounds)
            else:
                value = self.store[key][bounds[0] : bounds[1]]
        except KeyError:
            return None
        if value is None or isinstance(value, bytes | bytearray | memoryview):
            return value  # None: a MissingKeyLayer's answer for a missing key
        raise TypeError(
            f"the value under key {key!r} is a {type(value).__name__}, not bytes: "
            "zarr keeps only bytes in a store"
        )

    def _keys(self, prefix: str) -> builtins.list[str]:
        if isinstance(self.store, Store):
            return list(self.store.iter_keys(prefix))
        return [key for key in list(self.store) if key.startswith(prefix)]

    def _has_keys(self, prefix: str) -> bool:
        if isinstance(self.store, Store):
            return next(iter(self.store.iter_keys(prefix)), None) is not None
        return bool(self._keys(prefix))

    def _delete_under(self, prefix: str) -> None:
        keys = self._keys(prefix)
        if not prefix:
            keys = zarr_keys(keys, self._root_is_an_array(keys))
        for batch in batched(keys, BATCH_SIZE):
            self._delete_keys(batch)

    def _root_is_an_array(self, keys: builtins.list[str]) -> bool:
        if ".zarray" in keys:
            return True
        if "zarr.json" not in keys:
            return False
        metadata = json.loads(bytes(self._read("zarr.json", None) or b"{}"))
        return bool(metadata.get("node_type") == "array")

    def _delete_keys(self, keys: builtins.list[str]) -> None:
        if isinstance(self.store, Store):
            self.store.delitems(keys)
            return
        for key in keys:
            self.store.pop(key, None)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(THREADS, thread_name_prefix="kvmap-zarr")
        return _pool


def _forget_pool() -> None:
    # A forked child has none of the parent's threads: start a new pool.
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


async def _run(function: Callable[..., T], *args: Any) -> T:
    """Run a blocking call in the shared thread pool and wait for it."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor(), function, *args)
