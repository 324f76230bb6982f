"""The prefix layer: every key lives under a fixed prefix of ``inner``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any, TypeVar

from kvmap.keys import check_key, check_prefix
from kvmap.layers.base import Layer
from kvmap.store import Store, pairs_of

__all__ = ["PrefixLayer"]

V = TypeVar("V")


class PrefixLayer(Layer[V]):
    """Keep every key of this store under ``prefix + "/"`` in ``inner``.

    Key ``"k"`` is stored as ``"<prefix>/k"``. Iteration and ``len()`` list only
    the keys under the prefix, with the prefix removed; ``clear()`` deletes only
    them. Values pass through unchanged; a missing key raises ``KeyError``.
    Listing costs what listing a prefix costs on ``inner`` (never a listing of
    all of ``inner`` when ``inner`` is a kvmap store).

    Notes
    -----
    Holds only its prefix: as safe across threads and processes as ``inner``.
    """

    def __init__(self, inner: MutableMapping[str, Any], prefix: str) -> None:
        super().__init__(inner)
        check_key(prefix.rstrip("/") if prefix.endswith("/") else prefix)
        self.prefix = prefix.rstrip("/") + "/"

    def _inner_key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def __getitem__(self, key: str) -> V:
        try:
            return self.inner[self._inner_key(key)]  # type: ignore[no-any-return]
        except KeyError:
            raise KeyError(key) from None

    def getrange(self, key: str, start: int, stop: int | None = None) -> V:
        if not isinstance(self.inner, Store):
            return super().getrange(key, start, stop)
        try:
            return self.inner.getrange(self._inner_key(key), start, stop)  # type: ignore[no-any-return]
        except KeyError:
            raise KeyError(key) from None

    def getranges(
        self, keys: Iterable[str], start: int, stop: int | None = None
    ) -> dict[str, V]:
        if not isinstance(self.inner, Store):
            return super().getranges(keys, start, stop)
        begin = len(self.prefix)
        inner_keys = [self._inner_key(key) for key in keys]
        found = self.inner.getranges(inner_keys, start, stop)
        return {key[begin:]: value for key, value in found.items()}

    def __setitem__(self, key: str, value: V) -> None:
        self.inner[self._inner_key(key)] = value

    def __delitem__(self, key: str) -> None:
        try:
            del self.inner[self._inner_key(key)]
        except KeyError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        return self._inner_key(check_key(key)) in self.inner

    def __len__(self) -> int:
        return sum(1 for _ in self.iter_keys())

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        full = self.prefix + check_prefix(prefix)
        start = len(self.prefix)
        if isinstance(self.inner, Store):
            keys: Iterable[str] = self.inner.iter_keys(full)
        else:
            keys = [key for key in list(self.inner) if key.startswith(full)]
        return (key[start:] for key in keys)

    def getitems(self, keys: Iterable[str]) -> dict[str, V]:
        start = len(self.prefix)
        stored = self.getitems_inner(self._inner_key(key) for key in keys)
        return {key[start:]: value for key, value in stored.items()}

    def setitems(
        self,
        items: Mapping[str, V] | Iterable[tuple[str, V]],
        ttl: float | None = None,
    ) -> None:
        inner_items = {self._inner_key(key): value for key, value in pairs_of(items)}
        self.setitems_inner(inner_items, ttl)

    def delitems(self, keys: Iterable[str]) -> None:
        super().delitems([self._inner_key(key) for key in keys])

    def set(self, key: str, value: V, ttl: float | None = None) -> None:
        self.set_inner(self._inner_key(key), value, ttl)

    def clear(self) -> None:
        Store.clear(self)  # only the keys under the prefix, not all of inner

    def _repr_settings(self) -> dict[str, Any]:
        return {"prefix": self.prefix.rstrip("/")}
