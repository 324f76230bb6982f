"""The missing-key layer: choose whether ``store[key]`` raises or gives None."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from kvmap.layers.base import Layer

__all__ = ["MissingKeyLayer"]

_NOTHING: Any = object()


class MissingKeyLayer(Layer[Any]):
    """Make ``store[key]`` return ``None`` for a missing key, if asked to.

    With ``raise_on_nonexist=True`` a missing key raises ``KeyError`` as usual.
    With ``False``, ``store[key]`` returns ``None`` instead; ``key in store``,
    ``get(key, default)``, ``pop(key, default)`` and ``setdefault`` still tell a
    missing key from a stored ``None``, and ``del`` of a missing key still
    raises ``KeyError``. Everything else passes through to ``inner``.

    Notes
    -----
    Holds only its setting: as safe across threads and processes as ``inner``.
    """

    def __init__(
        self, inner: MutableMapping[str, Any], raise_on_nonexist: bool = True
    ) -> None:
        super().__init__(inner)
        self.raise_on_nonexist = raise_on_nonexist

    def __getitem__(self, key: str) -> Any:
        try:
            return self.inner[key]
        except KeyError:
            if self.raise_on_nonexist:
                raise
            return None

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self.inner[key]
        except KeyError:
            return default

    def pop(self, key: str, default: Any = _NOTHING) -> Any:
        try:
            value = self.inner[key]
        except KeyError:
            if default is _NOTHING:
                raise
            return default
        del self.inner[key]
        return value

    def setdefault(self, key: str, default: Any = None) -> Any:
        try:
            return self.inner[key]
        except KeyError:
            self.inner[key] = default
            return default

    def _repr_settings(self) -> dict[str, Any]:
        return {"raise_on_nonexist": self.raise_on_nonexist}
