"""The typed byte format of the ``auto`` serialization mode.

A value is stored as follows, so that plain bytes stay plain bytes on disk:

- ``bytes`` (and ``memoryview``, which reads back as ``bytes``) are stored as
  they are, unless they happen to start with the
  marker ``b"\\x00kvmap:"``: then they are stored as marker + ``b"b"`` + bytes.
- Every other value is stored as the marker, one tag byte, and a payload:

  ===  ================================================================
  tag  payload
  ===  ================================================================
  u    a ``str``, as UTF-8 (lone surrogates kept with ``surrogatepass``)
  j    tagged JSON (below), UTF-8
  n    a numpy array: 4-byte big-endian header length, a JSON header
       ``{"descr": ..., "shape": [...]}``, then the array's bytes in C order
  p    a pickle, for any other type
  s    a signed pickle: a 32-byte HMAC-SHA256 of the pickle, then the pickle
  t    reserved for the expiry envelope of :class:`kvmap.TTLLayer`
  ===  ================================================================

Tagged JSON writes ``int``, ``float``, ``bool``, ``None``, ``str``, ``list`` and
``dict`` with ``str`` keys as plain JSON. Other types become a JSON object whose
``"__kvmap__"`` member names the type: ``tuple``, ``set``, ``frozenset``,
``dict`` (any keys, or a dict that has a ``"__kvmap__"`` key), ``bytes``,
``datetime``, ``date``, ``time``, ``timedelta``, ``decimal``, ``uuid``,
``complex``, ``ndarray``, ``numpy-scalar`` and ``dataclass``. Decoding it
never runs stored code and imports nothing: a dataclass is rebuilt by filling
the fields of the class it names, which must be a dataclass of a module the
reader has imported.

Only exact types use this encoding (a subclass of ``int`` or ``tuple``, such as
an enum or a named tuple, is pickled), so every value reads back with the same
type and value.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import json
import sys
import uuid
from typing import Any

__all__ = ["MARKER", "NeedsPickle", "dumps_typed", "loads_typed"]

MARKER = b"\x00kvmap:"
TAG = "__kvmap__"

_PLAIN = (int, float, bool, str, type(None))


class NeedsPickle(Exception):
    """The value holds a type that the typed encoding does not cover."""


def dumps_typed(value: Any) -> bytes:
    """Encode ``value`` with the typed format (no pickle), or raise NeedsPickle."""
    kind = type(value)
    if kind is bytes:
        plain: bytes = value
        return MARKER + b"b" + plain if plain.startswith(MARKER) else plain
    if kind is str:
        text: str = value
        return MARKER + b"u" + text.encode("utf-8", "surrogatepass")
    if kind is memoryview:
        return dumps_typed(value.tobytes())
    numpy = sys.modules.get("numpy")
    if numpy is not None and kind is numpy.ndarray and value.dtype.kind != "O":
        return _dumps_array(numpy, value)
    text = json.dumps(_to_json(value), separators=(",", ":"), ensure_ascii=False)
    return MARKER + b"j" + text.encode("utf-8", "surrogatepass")


def loads_typed(tag: bytes, payload: bytes) -> Any:
    """Decode a payload written by :func:`dumps_typed` under ``tag``."""
    if tag == b"b":
        return payload
    if tag == b"u":
        return payload.decode("utf-8", "surrogatepass")
    if tag == b"j":
        text = payload.decode("utf-8", "surrogatepass")
        return json.loads(text, object_hook=_from_json)
    if tag == b"n":
        return _loads_array(payload)
    raise ValueError(f"unknown kvmap value tag {tag!r}")


def _to_json(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is list:
        return [_to_json(item) for item in value]
    if kind is dict:
        if TAG not in value and all(type(key) is str for key in value):
            return {key: _to_json(item) for key, item in value.items()}
        items = [[_to_json(key), _to_json(item)] for key, item in value.items()]
        return {TAG: "dict", "items": items}
    if kind in (tuple, set, frozenset):
        return {TAG: kind.__name__, "items": [_to_json(item) for item in value]}
    if kind is bytes:
        return {TAG: "bytes", "base64": base64.b64encode(value).decode("ascii")}
    return _to_json_object(value)


def _to_json_object(value: Any) -> Any:
    kind = type(value)
    if kind is datetime.datetime or kind is datetime.time:
        if value.tzinfo is not None and type(value.tzinfo) is not datetime.timezone:
            raise NeedsPickle(kind)
        return {TAG: kind.__name__, "iso": value.isoformat(), "fold": value.fold}
    if kind is datetime.date:
        return {TAG: "date", "iso": value.isoformat()}
    if kind is datetime.timedelta:
        parts = [value.days, value.seconds, value.microseconds]
        return {TAG: "timedelta", "parts": parts}
    if kind is decimal.Decimal:
        return {TAG: "decimal", "text": str(value)}
    if kind is uuid.UUID:
        return {TAG: "uuid", "hex": value.hex}
    if kind is complex:
        return {TAG: "complex", "parts": [value.real, value.imag]}
    numpy = sys.modules.get("numpy")
    if numpy is not None and kind is numpy.ndarray and value.dtype.kind != "O":
        data = base64.b64encode(_dumps_array(numpy, value)).decode("ascii")
        return {TAG: "ndarray", "base64": data}
    if numpy is not None and isinstance(value, numpy.generic) and value.dtype != object:
        # A numpy scalar (np.float64, np.int32, np.bool_...) is stored as the
        # 0-d array that holds it, and read back as the same scalar type.
        scalar = base64.b64encode(_dumps_array(numpy, numpy.asarray(value)))
        return {TAG: "numpy-scalar", "base64": scalar.decode("ascii")}
    if dataclasses.is_dataclass(value) and "<locals>" not in kind.__qualname__:
        fields = {
            field.name: _to_json(getattr(value, field.name))
            for field in dataclasses.fields(value)
        }
        name = [kind.__module__, kind.__qualname__]
        return {TAG: "dataclass", "class": name, "fields": fields}
    raise NeedsPickle(kind)


def _from_json(obj: dict[str, Any]) -> Any:
    tag = obj.get(TAG)
    if tag is None:
        return obj
    if tag in ("tuple", "set", "frozenset"):
        return {"tuple": tuple, "set": set, "frozenset": frozenset}[tag](obj["items"])
    if tag == "dict":
        return {key: item for key, item in obj["items"]}
    if tag == "bytes":
        return base64.b64decode(obj["base64"])
    if tag == "datetime":
        return datetime.datetime.fromisoformat(obj["iso"]).replace(fold=obj["fold"])
    if tag == "time":
        return datetime.time.fromisoformat(obj["iso"]).replace(fold=obj["fold"])
    if tag == "date":
        return datetime.date.fromisoformat(obj["iso"])
    if tag == "timedelta":
        days, seconds, microseconds = obj["parts"]
        return datetime.timedelta(days, seconds, microseconds)
    if tag == "decimal":
        return decimal.Decimal(obj["text"])
    if tag == "uuid":
        return uuid.UUID(hex=obj["hex"])
    if tag == "complex":
        return complex(*obj["parts"])
    if tag == "ndarray":
        return _loads_array(base64.b64decode(obj["base64"])[len(MARKER) + 1 :])
    if tag == "numpy-scalar":
        array = _loads_array(base64.b64decode(obj["base64"])[len(MARKER) + 1 :])
        return array[()]
    if tag == "dataclass":
        return _make_dataclass(obj["class"], obj["fields"])
    raise ValueError(f"unknown kvmap JSON tag {tag!r}")


def _make_dataclass(name: list[str], fields: dict[str, Any]) -> Any:
    # Only modules that are already imported are searched: importing one
    # would run its code, chosen by whoever wrote the value.
    module_name, qualname = name
    target: Any = sys.modules.get(module_name)
    if target is None:
        raise ValueError(
            f"the value is a {module_name}.{qualname} dataclass: import "
            f"{module_name} before reading it"
        )
    for part in qualname.split("."):
        target = getattr(target, part, None)
    if not (isinstance(target, type) and dataclasses.is_dataclass(target)):
        raise ValueError(f"{module_name}.{qualname} is not a dataclass")
    instance = target.__new__(target)
    for field, value in fields.items():
        object.__setattr__(instance, field, value)
    return instance


def _dumps_array(numpy: Any, array: Any) -> bytes:
    descr = numpy.lib.format.dtype_to_descr(array.dtype)
    header = json.dumps({"descr": descr, "shape": list(array.shape)}).encode()
    body: bytes = numpy.ascontiguousarray(array).tobytes()
    return MARKER + b"n" + len(header).to_bytes(4, "big") + header + body


def _loads_array(payload: bytes) -> Any:
    import numpy

    size = int.from_bytes(payload[:4], "big")
    header = json.loads(payload[4 : 4 + size])
    descr = header["descr"]
    if isinstance(descr, list):
        descr = [tuple(field) for field in descr]
    dtype = numpy.lib.format.descr_to_dtype(descr)
    array = numpy.frombuffer(payload[4 + size :], dtype=dtype)
    return array.reshape(header["shape"]).copy()
