"""Conversions between zarr's buffers and byte requests and a store's bytes.

:func:`byte_bounds` turns zarr's byte request into slice bounds for a
store's ``getrange``, :func:`to_buffer` and :func:`to_bytes` wrap and unwrap
the values :class:`~kvmap.zarr.ZarrStore` reads and writes.
"""

from __future__ import annotations

from typing import Any

from zarr.abc.store import (
    ByteRequest,
    OffsetByteRequest,
    RangeByteRequest,
    SuffixByteRequest,
)
from zarr.core.buffer import Buffer, BufferPrototype, default_buffer_prototype

__all__ = ["byte_bounds", "to_buffer", "to_bytes"]


def byte_bounds(byte_range: ByteRequest | None) -> tuple[int, int | None] | None:
    """Turn zarr's byte request into ``(start, stop)`` slice bounds."""
    if byte_range is None:
        return None
    if isinstance(byte_range, RangeByteRequest):
        return byte_range.start, byte_range.end
    if isinstance(byte_range, OffsetByteRequest):
        return byte_range.offset, None
    if isinstance(byte_range, SuffixByteRequest):
        return (-byte_range.suffix, None) if byte_range.suffix else (0, 0)
    raise TypeError(
        f"Unexpected byte_range, got {byte_range!r}: expected None, a "
        "RangeByteRequest, an OffsetByteRequest or a SuffixByteRequest"
    )


def to_buffer(value: Any, prototype: BufferPrototype | None) -> Buffer | None:
    """Wrap the bytes ``value`` in a zarr buffer; ``None`` stays ``None``."""
    if value is None:
        return None
    if prototype is None:
        prototype = default_buffer_prototype()
    return prototype.buffer.from_bytes(value)


def to_bytes(key: str, value: Buffer) -> bytes:
    """Return the bytes of the zarr buffer ``value`` to store under ``key``."""
    if not isinstance(value, Buffer):
        raise TypeError(
            f"ZarrStore.set() takes a zarr Buffer for key {key!r}, "
            f"not {type(value).__name__}"
        )
    return value.to_bytes()
