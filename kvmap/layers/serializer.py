"""The serializer layer: Python objects outside, bytes inside."""

from __future__ import annotations

import hashlib
import hmac
import json
import pickle
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

import cloudpickle

from kvmap.auto_format import MARKER, NeedsPickle, dumps_typed, loads_typed
from kvmap.backends.base import as_bytes
from kvmap.errors import ConfigError, CorruptValueError, UnsafeValueError
from kvmap.layers.base import Layer
from kvmap.store import Store, pairs_of

__all__ = ["MODES", "SerializerLayer"]

MODES = ("raw", "json", "pickle", "cloudpickle", "auto")

_PICKLE = MARKER + b"p"
_SIGNED = MARKER + b"s"
_MARKER_LENGTH = len(MARKER)
_MAC_LENGTH = 32


class SerializerLayer(Layer[Any]):
    """Turn values into bytes for ``inner`` and back, in one of five modes.

    - ``raw``: values must be bytes-like and are stored as they are.
    - ``json``: any JSON value, stored as UTF-8 JSON text.
    - ``pickle`` / ``cloudpickle``: any picklable object (cloudpickle also takes
      lambdas and local classes).
    - ``auto`` (the default): bytes stay plain bytes, common types use a typed
      encoding that loads without running code, and other objects fall back to
      pickle. :mod:`kvmap.auto_format` describes the bytes.

    Loading a pickle runs code chosen by whoever wrote it. ``allow_pickle=False``
    refuses to write or load any pickle (:class:`~kvmap.errors.UnsafeValueError`).
    With a ``signing_key``, every pickle is written with an HMAC-SHA256 signature
    and a pickle whose signature is missing or wrong is refused instead of
    loaded. The key is never shown in ``repr`` or in errors.

    Keys pass through unchanged; a missing key raises ``KeyError``; ``len()``
    and iteration cost what they cost on ``inner``.

    Notes
    -----
    Holds no state besides its settings: as safe across threads and processes
    as ``inner``. Pickling the layer carries the signing key with it, so a
    worker process can check signatures too.
    """

    def __init__(
        self,
        inner: MutableMapping[str, Any],
        mode: str = "auto",
        *,
        allow_pickle: bool = True,
        signing_key: str | bytes | None = None,
    ) -> None:
        super().__init__(inner)
        if mode not in MODES:
            raise ConfigError(
                f"serialization mode {mode!r} is not known; allowed: {', '.join(MODES)}"
            )
        if mode in ("pickle", "cloudpickle") and not allow_pickle:
            raise ConfigError(
                f"serialization mode {mode!r} stores every value as a pickle, which "
                "allow_pickle=False forbids; use 'auto' or 'json' instead"
            )
        self.mode = mode
        self.allow_pickle = allow_pickle
        if isinstance(signing_key, str):
            signing_key = signing_key.encode("utf-8")
        self._signing_key = signing_key or None

    def dumps(self, key: str, value: Any) -> bytes:
        """Return the bytes stored for ``value`` under ``key``."""
        mode = self.mode
        if mode == "auto":
            try:
                return dumps_typed(value)
            except NeedsPickle:
                return self._dump_pickle(key, value, pickle.dumps)
        if mode == "raw":
            return as_bytes(value, key)
        if mode == "json":
            return self._dump_json(key, value)
        dump = pickle.dumps if mode == "pickle" else cloudpickle.dumps
        return self._dump_pickle(key, value, dump, marked=False)

    def loads(self, key: str, stored: bytes) -> Any:
        """Return the value that ``stored`` (read under ``key``) encodes.

        Raises
        ------
        UnsafeValueError
            For a pickle that the settings forbid loading.
        CorruptValueError
            For bytes that do not decode in this mode, naming the key.
        """
        try:
            return self._decode(key, stored)
        except UnsafeValueError:
            raise
        except Exception as error:
            raise CorruptValueError(
                f"cannot decode the value of key {key!r} in serialization mode "
                f"{self.mode!r}: {type(error).__name__}: {error}"
            ) from error

    def _decode(self, key: str, stored: bytes) -> Any:
        mode = self.mode
        if mode == "auto":
            if not stored.startswith(MARKER):
                return stored
            tag = stored[_MARKER_LENGTH : _MARKER_LENGTH + 1]
            if tag in (b"p", b"s"):
                return self._load_pickle(key, stored)
            return loads_typed(tag, stored[_MARKER_LENGTH + 1 :])
        if mode == "raw":
            return stored
        if mode == "json":
            return json.loads(stored)
        return self._load_pickle(key, stored)

    def _dump_json(self, key: str, value: Any) -> bytes:
        try:
            text = json.dumps(value, separators=(",", ":"), allow_nan=False)
            return text.encode("utf-8")
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"cannot store the value for key {key!r} as JSON ({error}); use "
                "serialization mode 'auto' for other Python types"
            ) from None

    def _dump_pickle(
        self, key: str, value: Any, dump: Any, *, marked: bool = True
    ) -> bytes:
        if not self.allow_pickle:
            raise UnsafeValueError(
                f"the value for key {key!r} ({type(value).__name__}) can only be "
                "stored as a pickle, and allow_pickle is False"
            )
        payload: bytes
        try:
            payload = dump(value, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError) as error:
            if self.mode != "auto":
                raise TypeError(
                    f"cannot pickle the value for key {key!r} in mode {self.mode!r} "
                    f"({error}); mode 'cloudpickle' also takes lambdas and local "
                    "classes"
                ) from error
            payload = cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        if self._signing_key is not None:
            return _SIGNED + self._sign(payload) + payload
        return _PICKLE + payload if marked else payload

    def _load_pickle(self, key: str, stored: bytes) -> Any:
        if not self.allow_pickle:
            raise UnsafeValueError(
                f"refusing to load the pickled value of key {key!r}: "
                "allow_pickle is False (KVMAP_ALLOW_PICKLE)"
            )
        signed = stored.startswith(_SIGNED)
        if self._signing_key is not None:
            if not signed:
                raise UnsafeValueError(
                    f"refusing to load the value of key {key!r}: it is a pickle "
                    "without a signature, and a signing key is set"
                )
            start = _MARKER_LENGTH + 1
            mac = stored[start : start + _MAC_LENGTH]
            payload = stored[start + _MAC_LENGTH :]
            if not hmac.compare_digest(mac, self._sign(payload)):
                raise UnsafeValueError(
                    f"refusing to load the value of key {key!r}: its signature "
                    "does not match the signing key"
                )
            return pickle.loads(payload)
        if signed:
            raise UnsafeValueError(
                f"refusing to load the value of key {key!r}: it is signed, and no "
                "signing key is set (KVMAP_SIGNING_KEY)"
            )
        if stored.startswith(_PICKLE):
            stored = stored[_MARKER_LENGTH + 1 :]
        return pickle.loads(stored)

    def _sign(self, payload: bytes) -> bytes:
        assert self._signing_key is not None
        return hmac.new(self._signing_key, payload, hashlib.sha256).digest()

    def __getitem__(self, key: str) -> Any:
        return self.loads(key, self.inner[key])

    def getrange(self, key: str, start: int, stop: int | None = None) -> Any:
        """Return ``self[key][start:stop]``, reading only the range for bytes.

        In ``raw`` mode, and in ``auto`` mode for a value stored as plain bytes,
        the range is read from ``inner`` (after a look at the first bytes, in
        ``auto`` mode). Other values are read whole, decoded and sliced.
        """
        if not isinstance(self.inner, Store) or self.mode not in ("raw", "auto"):
            return _slice(key, self[key], start, stop)
        # In auto mode every encoded value starts with the whole marker, and
        # anything else is plain bytes. A writer replacing the value between
        # the two reads can make the range come from the newer value.
        if (
            self.mode == "auto"
            and self.inner.getrange(key, 0, _MARKER_LENGTH) == MARKER
        ):
            return _slice(key, self[key], start, stop)
        return self.inner.getrange(key, start, stop)

    def __setitem__(self, key: str, value: Any) -> None:
        self.inner[key] = self.dumps(key, value)

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        self.set_inner(key, self.dumps(key, value), ttl)

    def getitems(self, keys: Iterable[str]) -> dict[str, Any]:
        stored = self.getitems_inner(keys)
        return {key: self.loads(key, value) for key, value in stored.items()}

    def setitems(
        self,
        items: Mapping[str, Any] | Iterable[tuple[str, Any]],
        ttl: float | None = None,
    ) -> None:
        encoded = {key: self.dumps(key, value) for key, value in pairs_of(items)}
        self.setitems_inner(encoded, ttl)

    def _repr_settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {"mode": self.mode}
        if not self.allow_pickle:
            settings["allow_pickle"] = False
        if self._signing_key is not None:
            settings["signed"] = True
        return settings


def _slice(key: str, value: Any, start: int, stop: int | None) -> Any:
    try:
        return value[start:stop]
    except TypeError:
        raise TypeError(
            f"the value of key {key!r} is a {type(value).__name__}, which has no "
            "ranges to read"
        ) from None
