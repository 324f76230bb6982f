"""The TTL layer: keys that expire after a time to live."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, cast

from kvmap.auto_format import MARKER
from kvmap.errors import CorruptValueError
from kvmap.layers.base import Layer
from kvmap.store import BATCH_SIZE, Store, batched, check_ttl, pairs_of

__all__ = ["TTLLayer"]

_ENVELOPE = MARKER + b"t"
_EXPIRY = struct.Struct("!d")
_HEADER_LENGTH = len(_ENVELOPE) + _EXPIRY.size


class TTLLayer(Layer[Any]):
    """Expire keys ``ttl`` seconds after they were written.

    ``default_ttl`` applies to every write without its own ttl (``0`` means
    never); :meth:`set` takes a per-key ``ttl``. A key written at time ``t``
    with ttl ``s`` is present while ``now < t + s`` and missing from ``t + s``
    on: reading it raises ``KeyError``, and ``in``, iteration and ``len()``
    leave it out. A negative or non-numeric ttl raises ``ValueError``.

    When ``inner`` expires keys natively (``inner.native_ttl``, as the Redis
    and SQL backends do), the layer passes the ttl down and adds nothing.
    Otherwise it stores the expiry time in front of the value: the bytes
    ``b"\\x00kvmap:t"``, the expiry as a big-endian float64 of Unix seconds,
    then the value. Values without an expiry are stored unchanged, so other
    readers of ``inner`` see plain values. In that case values must be bytes
    (place this layer below the serializer, as :func:`kvmap.get_store` does).

    Cost without native expiry: ``get`` reads one value and ``in`` its first
    16 bytes; iteration, ``len()`` and :meth:`purge_expired` read the first 16
    bytes of every value under the prefix (batched), so they are O(n) reads.
    Expired values stay in ``inner`` until they are overwritten, deleted or
    removed by :meth:`purge_expired`.

    Notes
    -----
    Holds only its settings: as safe across threads and processes as
    ``inner``. Expiry uses the wall clock (``time.time``) of the process that
    reads; machines that share a store should keep their clocks in sync.
    """

    def __init__(
        self,
        inner: MutableMapping[str, Any],
        default_ttl: float = 0,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(inner)
        self.default_ttl = check_ttl(default_ttl)
        self.clock = clock

    def _ttl(self, ttl: float | None) -> float:
        return self.default_ttl if ttl is None else check_ttl(ttl)

    def encode_with_ttl(self, value: Any, ttl: float) -> Any:
        """Return what is stored for ``value`` when it expires after ``ttl``."""
        if ttl:
            expiry = self.clock() + ttl
            return _ENVELOPE + _EXPIRY.pack(expiry) + memoryview(value).tobytes()
        if type(value) is bytes and value.startswith(_ENVELOPE):
            return _ENVELOPE + _EXPIRY.pack(0.0) + value
        return value

    def _unwrap(self, stored: Any, now: float, key: str) -> Any:
        """Return the value inside ``stored``, or raise KeyError if it expired."""
        if type(stored) is not bytes or not stored.startswith(_ENVELOPE):
            return stored
        if len(stored) < _HEADER_LENGTH:
            raise CorruptValueError(
                f"the value of key {key!r} has a broken expiry header "
                f"({len(stored)} bytes, at least {_HEADER_LENGTH} expected)"
            )
        expiry = _EXPIRY.unpack_from(stored, len(_ENVELOPE))[0]
        if expiry and now >= expiry:
            raise KeyError
        return stored[_HEADER_LENGTH:]

    def __getitem__(self, key: str) -> Any:
        stored = self.inner[key]
        if self.native_ttl:
            return stored
        try:
            return self._unwrap(stored, self.clock(), key)
        except KeyError:
            raise KeyError(key) from None

    def getrange(self, key: str, start: int, stop: int | None = None) -> Any:
        """Return ``self[key][start:stop]``, reading only the range if possible.

        Without native expiry this looks at the value's first 16 bytes for an
        expiry envelope first, then reads the range shifted past it. A range
        counted from the end of a value with an envelope is read whole.
        """
        if not isinstance(self.inner, Store):
            return self[key][start:stop]
        if self.native_ttl:
            return self.inner.getrange(key, start, stop)
        head = self.inner.getrange(key, 0, _HEADER_LENGTH)
        if type(head) is not bytes or not head.startswith(_ENVELOPE):
            return self.inner.getrange(key, start, stop)
        try:
            self._unwrap(head, self.clock(), key)
        except KeyError:
            raise KeyError(key) from None
        if start < 0 or (stop is not None and stop < 0):
            return self[key][start:stop]
        shifted_stop = None if stop is None else stop + _HEADER_LENGTH
        return self.inner.getrange(key, start + _HEADER_LENGTH, shifted_stop)

    def __setitem__(self, key: str, value: Any) -> None:
        self.set(key, value, None)

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        seconds = self._ttl(ttl)
        if self.native_ttl:
            self.set_inner(key, value, seconds)
        else:
            self.inner[key] = self.encode_with_ttl(value, seconds)

    def __delitem__(self, key: str) -> None:
        if self.native_ttl:
            del self.inner[key]
            return
        head = self._heads([key]).get(key)
        if head is None:
            raise KeyError(key)
        del self.inner[key]  # an expired value is removed all the same
        try:
            self._unwrap(head, self.clock(), key)
        except KeyError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        if self.native_ttl:
            return key in self.inner
        return any(live for _, live in self._states([cast(str, key)]))

    def __len__(self) -> int:
        if self.native_ttl:
            return len(self.inner)
        return sum(1 for _ in self.iter_keys())

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        keys = super().iter_keys(prefix)
        if self.native_ttl:
            return keys
        return self._live_keys(keys)

    def _live_keys(self, keys: Iterable[str]) -> Iterator[str]:
        return (key for key, live in self._states(keys) if live)

    def _states(self, keys: Iterable[str]) -> Iterator[tuple[str, bool]]:
        # (key, live) for each key still stored, reading the value heads in
        # batches; a key with a broken header counts as live: reading it
        # reports the damage.
        for chunk in batched(keys, BATCH_SIZE):
            heads = self._heads(chunk)
            now = self.clock()
            for key in chunk:
                head = heads.get(key)
                if head is None:
                    continue  # deleted since it was listed
                try:
                    self._unwrap(head, now, key)
                except KeyError:
                    yield key, False
                    continue
                except CorruptValueError:
                    pass
                yield key, True

    def _heads(self, keys: list[str]) -> dict[str, Any]:
        if isinstance(self.inner, Store):
            return self.inner.getranges(keys, 0, _HEADER_LENGTH)
        return self.getitems_inner(keys)

    def getitems(self, keys: Iterable[str]) -> dict[str, Any]:
        stored = self.getitems_inner(keys)
        if self.native_ttl:
            return stored
        now = self.clock()
        found = {}
        for key, value in stored.items():
            try:
                found[key] = self._unwrap(value, now, key)
            except KeyError:
                continue
        return found

    def setitems(
        self,
        items: Mapping[str, Any] | Iterable[tuple[str, Any]],
        ttl: float | None = None,
    ) -> None:
        seconds = self._ttl(ttl)
        if self.native_ttl:
            self.setitems_inner(dict(pairs_of(items)), seconds)
            return
        stored = {
            key: self.encode_with_ttl(value, seconds) for key, value in pairs_of(items)
        }
        self.setitems_inner(stored, None)

    def purge_expired(self, prefix: str = "") -> int:
        """Delete the expired keys under ``prefix``; return how many were deleted.

        A key rewritten between the check and the delete may be lost; run this
        when no writer is renewing the keys it purges.
        """
        if self.native_ttl:
            return super().purge_expired()
        states = self._states(super().iter_keys(prefix))
        expired = [key for key, live in states if not live]
        self.delitems(expired)
        return len(expired)

    def _repr_settings(self) -> dict[str, Any]:
        return {"default_ttl": self.default_ttl}
