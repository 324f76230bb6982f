"""The base class of the raw-bytes backends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from kvmap.redact import redact_uri
from kvmap.store import Store

__all__ = ["Backend", "as_bytes"]


class Backend(Store[bytes]):
    """A store that keeps ``bytes`` values in one kind of storage.

    A backend is built from a URI by :meth:`from_uri`. ``options`` declares the
    options it takes and their types, so that values read from environment
    variables can be cast (a nested mapping declares a group of options).
    """

    #: Option names and their types (``str``, ``int``, ``float``, ``bool``,
    #: ``dict``, or a nested mapping of these).
    options: ClassVar[Mapping[str, Any]] = {}
    #: Whether options not in ``options`` are accepted and passed through.
    accepts_other_options: ClassVar[bool] = False

    uri: str

    @classmethod
    def from_uri(cls, uri: str, **options: Any) -> Self:
        """Build the backend for ``uri`` with the given backend options."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact_uri(self.uri)!r})"


def as_bytes(value: Any, key: str) -> bytes:
    """Return ``value`` as ``bytes`` if it is bytes-like, else raise TypeError."""
    if type(value) is bytes:
        return value
    try:
        return memoryview(value).tobytes()
    except TypeError:
        raise TypeError(
            f"cannot store {type(value).__name__} under key {key!r}: a raw backend "
            "holds bytes-like values only; use a serializer layer "
            "(kvmap.SerializerLayer, or get_store(serialization_mode='auto'))"
        ) from None
