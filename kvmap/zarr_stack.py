"""What a :class:`~kvmap.zarr.ZarrStore` learns from the kvmap stack it wraps.

Whether a layer of the stack refuses writes, and whether two stacks reach
the same data through the same layers.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from kvmap.backends.memory import MemoryBackend
from kvmap.layers.read_only import ReadOnlyLayer
from kvmap.store import Store

__all__ = ["innermost", "refuses_writes", "same_store"]


def refuses_writes(store: Any) -> bool:
    """Tell whether a layer of ``store``'s stack is a read-only layer."""
    while store is not None:
        if isinstance(store, ReadOnlyLayer):
            return True
        store = getattr(store, "inner", None)
    return False


def innermost(store: Any) -> Any:
    """Return the mapping at the bottom of ``store``'s stack of layers."""
    while isinstance(getattr(store, "inner", None), MutableMapping):
        store = store.inner
    return store


def same_store(first: Any, second: Any) -> bool:
    """Tell whether two kvmap stores reach the same data with the same layers."""
    if first is second:
        return True
    if type(first) is not type(second) or not isinstance(first, Store):
        return False
    inner = innermost(first)
    in_process = isinstance(inner, MemoryBackend) or not isinstance(inner, Store)
    if in_process and inner is not innermost(second):
        return False  # in-process data: only the very same mapping holds it
    return repr(first) == repr(second)
