"""The base class of every kvmap backend and layer.

:class:`Store` is a :class:`collections.abc.MutableMapping` with ``str`` keys.
On top of the mapping protocol it adds the batch methods (:meth:`Store.getitems`,
:meth:`Store.setitems`, :meth:`Store.delitems`), a per-key time to live
(:meth:`Store.set`), listing under a prefix (:meth:`Store.keys` with
``prefix=``), :meth:`Store.close` and use as a context manager.

A subclass implements five methods: ``__getitem__``, ``__setitem__``,
``__delitem__``, :meth:`Store.iter_keys` and ``__len__``. The batch methods fall
back to one call per key; backends with a bulk path override them.
"""

from __future__ import annotations

from collections.abc import (
    Callable,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    MutableMapping,
)
from itertools import islice
from types import TracebackType
from typing import Any, TypeVar

from kvmap.errors import TTLNotSupportedError
from kvmap.keys import check_key, check_prefix

__all__ = [
    "BATCH_SIZE",
    "PrefixKeysView",
    "Store",
    "batched",
    "check_keys",
    "check_ttl",
    "key_list",
    "pairs_of",
    "read_found",
]

V = TypeVar("V")

#: How many keys one backend round trip carries, for stores that chunk batches.
BATCH_SIZE = 1000


class Store(MutableMapping[str, V]):
    """A mutable mapping from ``str`` keys to values, with batch methods.

    Notes
    -----
    ``native_ttl`` is true for stores that can expire keys themselves (a store
    with native expiry accepts ``ttl`` in :meth:`set` and :meth:`setitems`).
    Thread and process safety depend on the subclass; each one says so.
    """

    native_ttl: bool = False

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Yield every key that starts with ``prefix``, in no set order."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[str]:
        return self.iter_keys("")

    def keys(self, prefix: str = "") -> KeysView[str]:
        """Return a view of the keys, only those starting with ``prefix`` if given.

        The view can be iterated any number of times; a backend lists only the
        keys under the prefix rather than filtering a listing of every key.
        """
        if prefix:
            return PrefixKeysView(self, check_prefix(prefix))
        return KeysView(self)

    def getitems(self, keys: Iterable[str]) -> dict[str, V]:
        """Return ``{key: value}`` for the given keys; missing keys are left out."""
        return read_found(self.__getitem__, check_keys(keys))

    def setitems(
        self,
        items: Mapping[str, V] | Iterable[tuple[str, V]],
        ttl: float | None = None,
    ) -> None:
        """Store every ``(key, value)`` pair, each with ``ttl`` seconds to live.

        Every key and the ttl are checked before anything is written.
        """
        pairs = [(check_key(key), value) for key, value in pairs_of(items)]
        check_ttl(ttl)
        for key, value in pairs:
            self.set(key, value, ttl)

    def delitems(self, keys: Iterable[str]) -> None:
        """Delete the given keys; keys that do not exist are ignored.

        Every key is checked before anything is deleted.
        """
        for key in check_keys(keys):
            try:
                del self[key]
            except KeyError:
                continue

    def getrange(self, key: str, start: int, stop: int | None = None) -> V:
        """Return ``self[key][start:stop]``, reading only that range if possible.

        Backends with ranged reads (local files, object stores) read just the
        requested bytes; the default reads the whole value and slices it.
        """
        return self[key][start:stop]  # type: ignore[index, no-any-return]

    def getranges(
        self, keys: Iterable[str], start: int, stop: int | None = None
    ) -> dict[str, V]:
        """Return ``{key: value[start:stop]}`` for the keys found, as one batch.

        Missing keys are left out. Backends with ranged reads fetch only the
        ranges, concurrently where they can.
        """
        return read_found(lambda key: self.getrange(key, start, stop), keys)

    def set(self, key: str, value: V, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``, to expire after ``ttl`` seconds.

        ``ttl`` of ``None`` or ``0`` means the key never expires. A store without
        native expiry raises :class:`~kvmap.errors.TTLNotSupportedError` for any
        other ttl; wrap it in :class:`~kvmap.layers.ttl.TTLLayer` (as
        :func:`kvmap.get_store` does) to expire keys on any backend.
        """
        if check_ttl(ttl):
            name = type(self).__name__
            raise TTLNotSupportedError(
                f"{name} cannot expire keys by itself (ttl={ttl!r} for key "
                f"{key!r}); wrap it in kvmap.TTLLayer, as get_store() does"
            )
        self[key] = value

    def update(self, other: Any = (), /, **kwargs: V) -> None:
        """Store every pair from ``other`` and ``kwargs`` through :meth:`setitems`."""
        if isinstance(other, Mapping):
            self.setitems(other)
        elif hasattr(other, "keys"):
            self.setitems({key: other[key] for key in other.keys()})  # noqa: SIM118
        else:
            self.setitems(other)
        if kwargs:
            self.setitems(kwargs)

    def clear(self) -> None:
        """Delete every key of this store, in batches."""
        for keys in batched(self.iter_keys(""), BATCH_SIZE):
            self.delitems(keys)

    def close(self) -> None:
        """Release connections and files; the store reopens them if used again."""

    def __enter__(self) -> Store[V]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class PrefixKeysView(KeysView[str]):
    """The keys of a :class:`Store` that start with a prefix."""

    _mapping: Store[Any]

    def __init__(self, store: Store[Any], prefix: str) -> None:
        super().__init__(store)
        self.prefix = prefix

    def __iter__(self) -> Iterator[str]:
        return self._mapping.iter_keys(self.prefix)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str) or not key.startswith(self.prefix):
            return False
        return key in self._mapping

    def __repr__(self) -> str:
        return f"{type(self).__name__}(prefix={self.prefix!r}, keys={list(self)!r})"


def key_list(keys: Iterable[str]) -> list[str]:
    """Return ``keys`` as a list; a lone ``str`` is refused, not split in letters.

    The keys themselves are not checked: layers leave that to the backend.
    """
    if isinstance(keys, str | bytes):
        raise TypeError(
            f"expected an iterable of keys, got the single {type(keys).__name__} "
            f"{keys!r}: wrap it in a list"
        )
    return list(keys)


def check_keys(keys: Iterable[str]) -> list[str]:
    """Return ``keys`` as a list after checking each; a lone ``str`` is refused."""
    return [check_key(key) for key in key_list(keys)]


#: The longest time to live, in seconds (ten years): every backend can store it.
MAX_TTL = 10 * 365 * 24 * 3600


def check_ttl(ttl: Any) -> float:
    """Return ``ttl`` as seconds (``0.0`` for never), or raise ``ValueError``."""
    if ttl is None:
        return 0.0
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise ValueError(
            f"ttl must be a number of seconds (0 or None for never), got {ttl!r}"
        )
    if not 0 <= ttl <= MAX_TTL:
        raise ValueError(
            f"ttl must be a number of seconds from 0 (never) to {MAX_TTL} "
            f"(ten years), got {ttl!r}"
        )
    return float(ttl)


def read_found(read: Callable[[str], V], keys: Iterable[str]) -> dict[str, V]:
    """Call ``read(key)`` for each key, leaving out keys it finds missing."""
    found: dict[str, V] = {}
    for key in keys:
        try:
            found[key] = read(key)
        except KeyError:
            continue
    return found


def pairs_of(
    items: Mapping[str, V] | Iterable[tuple[str, V]],
) -> Iterable[tuple[str, V]]:
    """Return the ``(key, value)`` pairs of a mapping or of an iterable of pairs."""
    return items.items() if isinstance(items, Mapping) else items


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Yield lists of at most ``size`` items from ``items``."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
