"""The read-only layer: refuse every write and delete before it is sent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from kvmap.errors import ReadOnlyError
from kvmap.layers.base import Layer

__all__ = ["ReadOnlyLayer"]


class ReadOnlyLayer(Layer[Any]):
    """Pass reads through to ``inner`` and refuse writes and deletes.

    Every method that would change ``inner`` raises
    :class:`~kvmap.errors.ReadOnlyError` (a ``PermissionError``) without
    touching it. Reads, ``len()`` and iteration cost what they cost on ``inner``.

    Notes
    -----
    Holds no state: as safe across threads and processes as ``inner``.
    """

    def _refuse(self, what: str) -> NoReturn:
        raise ReadOnlyError(f"cannot {what}: this store is read-only")

    def __setitem__(self, key: str, value: Any) -> None:
        self._refuse(f"write key {key!r}")

    def __delitem__(self, key: str) -> None:
        self._refuse(f"delete key {key!r}")

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        self._refuse(f"write key {key!r}")

    def setitems(
        self,
        items: Mapping[str, Any] | Iterable[tuple[str, Any]],
        ttl: float | None = None,
    ) -> None:
        self._refuse("write a batch of keys")

    def delitems(self, keys: Iterable[str]) -> None:
        self._refuse("delete a batch of keys")

    def clear(self) -> None:
        self._refuse("clear the store")

    def pop(self, key: str, *default: Any) -> Any:
        self._refuse(f"pop key {key!r}")

    def popitem(self) -> tuple[str, Any]:
        self._refuse("pop an item")

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key in self:
            return self[key]
        self._refuse(f"write key {key!r}")
