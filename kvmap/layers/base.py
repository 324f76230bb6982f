"""The base class of every layer: a store that wraps another mapping."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any, TypeVar

from kvmap.store import Store, check_ttl, key_list, pairs_of, read_found

__all__ = ["Layer"]

V = TypeVar("V")


class Layer(Store[V]):
    """Wrap any ``MutableMapping[str, ...]`` and pass every call down to it.

    ``inner`` is the wrapped mapping. To change values on their way in and out,
    override :meth:`encode` and :meth:`decode`; single-key and batch calls both
    go through them, and batches reach ``inner`` as batches. For example, a
    layer that compresses values::

        import zlib
        import kvmap

        class ZlibLayer(kvmap.Layer):
            def encode(self, value):
                return zlib.compress(value)

            def decode(self, stored):
                return zlib.decompress(stored)

    A missing key raises ``KeyError`` as ``inner`` does; ``len()`` and
    iteration cost what they cost on ``inner``.

    Notes
    -----
    A layer holds no state of its own beyond its settings, so it is as safe
    across threads and processes as ``inner`` is, and it pickles with ``inner``.
    When ``inner`` is a plain mapping without batch methods, the batch methods
    fall back to one call per key.
    """

    def __init__(self, inner: MutableMapping[str, Any]) -> None:
        self.inner = inner

    def encode(self, value: V) -> Any:
        """Turn a value given to this layer into what ``inner`` stores."""
        return value

    def decode(self, stored: Any) -> V:
        """Turn what ``inner`` stores back into this layer's value."""
        return stored  # type: ignore[no-any-return]

    @property
    def native_ttl(self) -> bool:  # type: ignore[override]
        return bool(getattr(self.inner, "native_ttl", False))

    def __getitem__(self, key: str) -> V:
        return self.decode(self.inner[key])

    def _range_reader(self) -> Store[Any] | None:
        # inner, when values reach it unchanged, so byte ranges mean the same.
        kind = type(self)
        unchanged = kind.encode is Layer.encode and kind.decode is Layer.decode
        return self.inner if unchanged and isinstance(self.inner, Store) else None

    def getrange(self, key: str, start: int, stop: int | None = None) -> V:
        inner = self._range_reader()
        if inner is not None:
            return inner.getrange(key, start, stop)  # type: ignore[no-any-return]
        value: Any = self.decode(self.inner[key])
        return value[start:stop]  # type: ignore[no-any-return]

    def getranges(
        self, keys: Iterable[str], start: int, stop: int | None = None
    ) -> dict[str, V]:
        inner = self._range_reader()
        if inner is not None:
            return inner.getranges(keys, start, stop)
        return super().getranges(keys, start, stop)

    def __setitem__(self, key: str, value: V) -> None:
        self.inner[key] = self.encode(value)

    def __delitem__(self, key: str) -> None:
        del self.inner[key]

    def __contains__(self, key: object) -> bool:
        return key in self.inner

    def __len__(self) -> int:
        return len(self.inner)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        if isinstance(self.inner, Store):
            return self.inner.iter_keys(prefix)
        return (key for key in list(self.inner) if key.startswith(prefix))

    def getitems(self, keys: Iterable[str]) -> dict[str, V]:
        stored = self.getitems_inner(keys)
        return {key: self.decode(value) for key, value in stored.items()}

    def getitems_inner(self, keys: Iterable[str]) -> dict[str, Any]:
        """Read the stored (still encoded) values of ``keys`` as one batch."""
        if isinstance(self.inner, Store):
            return self.inner.getitems(key_list(keys))
        return read_found(self.inner.__getitem__, key_list(keys))

    def setitems(
        self,
        items: Mapping[str, V] | Iterable[tuple[str, V]],
        ttl: float | None = None,
    ) -> None:
        encoded = {key: self.encode(value) for key, value in pairs_of(items)}
        self.setitems_inner(encoded, ttl)

    def delitems(self, keys: Iterable[str]) -> None:
        if isinstance(self.inner, Store):
            self.inner.delitems(key_list(keys))
        else:
            super().delitems(keys)

    def set(self, key: str, value: V, ttl: float | None = None) -> None:
        self.set_inner(key, self.encode(value), ttl)

    def set_inner(self, key: str, stored: Any, ttl: float | None) -> None:
        """Store an already encoded value in ``inner``, with ``ttl`` if given."""
        if isinstance(self.inner, Store):
            self.inner.set(key, stored, ttl)
        elif check_ttl(ttl):
            Store.set(self, key, stored, ttl)
        else:
            self.inner[key] = stored

    def setitems_inner(self, stored: dict[str, Any], ttl: float | None) -> None:
        """Store already encoded values in ``inner`` as one batch."""
        if isinstance(self.inner, Store):
            self.inner.setitems(stored, ttl)
            return
        for key, value in stored.items():
            self.set_inner(key, value, ttl)

    def clear(self) -> None:
        self.inner.clear()

    def purge_expired(self) -> int:
        """Delete expired keys below this layer; return how many were deleted.

        Passed down to the first store that expires keys (a TTL layer, or a
        backend such as SQL); 0 when nothing below keeps expired keys.
        """
        purge = getattr(self.inner, "purge_expired", None)
        return int(purge()) if purge is not None else 0

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()

    def __repr__(self) -> str:
        settings = self._repr_settings()
        shown = "".join(f", {name}={value!r}" for name, value in settings.items())
        return f"{type(self).__name__}({self.inner!r}{shown})"

    def _repr_settings(self) -> dict[str, Any]:
        """The settings that ``repr`` shows after ``inner``; none are secret."""
        return {}
