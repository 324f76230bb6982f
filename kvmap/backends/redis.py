"""The Redis backend: each key is one Redis string, optionally under a prefix."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Self

from kvmap.backends.base import Backend, as_bytes
from kvmap.backends.redis_client import (
    CONNECTION_OPTIONS,
    ERROR_REPLY,
    UNAVAILABLE,
    RedisClient,
    debug_from_environment,
)
from kvmap.backends.redis_names import (
    SEPARATOR,
    check_prefix,
    flat_mset,
    glob_escape,
    milliseconds,
)
from kvmap.errors import ConfigError, InvalidKeyError, ProcessLocalError
from kvmap.keys import check_key
from kvmap.store import BATCH_SIZE, batched, pairs_of

__all__ = ["PIPELINE_SIZE", "RedisBackend"]

#: How many keys one pipeline carries before it is sent.
PIPELINE_SIZE = 10 * BATCH_SIZE


class RedisBackend(Backend):
    """Keep each value as one Redis string, key ``k`` as ``<redis_prefix>:k``.

    ``uri`` is a redis-py URL: ``redis://[[user]:password@]host[:port][/db]``,
    ``rediss://`` for TLS or ``unix:///path/to.sock?db=0``; its query and the
    options (see :data:`RedisBackend.options`) set up the connection. Values
    are ``bytes``; a missing key raises ``KeyError``. A server that cannot be
    reached, times out or refuses the password raises
    :class:`~kvmap.errors.BackendUnavailableError`, naming ``host:port``.

    Iteration lists the names that are valid kvmap keys, so every listed key
    reads back; it walks the database with ``SCAN`` (``scan_count`` names per
    call, never ``KEYS``): O(number of keys in the database) server work and
    O(keys listed) memory, to report each key once. With ``redis_prefix``,
    ``len()`` counts the listed keys the same way. Without one the store is
    the whole database and ``len()`` is one ``DBSIZE``: it also counts names
    other clients wrote that are no valid keys (``a//b``, non-UTF-8 bytes),
    which iteration leaves out.

    Keys expire natively: :meth:`set` and :meth:`setitems` with a ttl send
    ``PX`` milliseconds (at least 1); ttl ``0`` or ``None`` sends no expiry.
    ``getitems`` is one ``MGET`` per :data:`~kvmap.store.BATCH_SIZE` keys,
    ``setitems`` one pipeline of ``MSET`` (or ``SET ... PX``) commands and
    ``delitems`` one ``UNLINK`` per chunk, each pipeline sent every
    :data:`PIPELINE_SIZE` keys; a pipeline is not a transaction.

    Notes
    -----
    Safe to share between threads: one redis-py connection pool per store.
    Safe across processes as Redis is; the last write wins. The store pickles
    to its URI and options and connects again where it is unpickled (also
    after a fork). In debug mode (``debug=True``, or ``KVMAP_REDIS_DEBUG=1`` /
    ``REDIS_DEBUG=1`` when the store is made) the data lives in a fakeredis
    server in this process, shared by the stores with the same URI; such a
    store refuses to be unpickled in another process.
    """

    native_ttl = True
    options: ClassVar[Mapping[str, Any]] = {
        "redis_prefix": str,
        "debug": bool,
        "scan_count": int,
        **CONNECTION_OPTIONS,
    }

    def __init__(
        self,
        uri: str = "redis://localhost:6379/0",
        *,
        redis_prefix: str = "",
        debug: bool | None = None,
        scan_count: int = BATCH_SIZE,
        **connection_options: Any,
    ) -> None:
        self.uri = uri
        self.redis_prefix = check_prefix(redis_prefix)
        self.debug = debug_from_environment() if debug is None else debug
        if type(scan_count) is not int or scan_count < 1:
            raise ConfigError(f"scan_count={scan_count!r} is not valid: an int >= 1")
        self.scan_count = scan_count
        self._connection_options = connection_options
        self._pid = os.getpid()
        self._redis = RedisClient(uri, connection_options, debug=self.debug)
        self._unavailable = self._redis.unavailable
        self._name_prefix = self.redis_prefix + SEPARATOR if self.redis_prefix else ""
        self._execute = self._redis.client.execute_command

    @classmethod
    def from_uri(cls, uri: str, **options: Any) -> Self:
        return cls(uri, **options)

    def _name(self, key: str) -> str:
        return self._name_prefix + check_key(key)

    def __getitem__(self, key: str) -> bytes:
        try:
            value = self._execute("GET", self._name_prefix + check_key(key))
        except UNAVAILABLE as error:
            raise self._unavailable(error) from None
        except ERROR_REPLY as error:
            if not str(error).startswith("WRONGTYPE"):
                raise
            raise TypeError(
                f"Redis holds another type than a string under key {key!r} "
                "(written by another client): it is no value of this store"
            ) from None
        if value is None:
            raise KeyError(key)
        return value  # type: ignore[no-any-return]

    def __setitem__(self, key: str, value: bytes) -> None:
        name = self._name_prefix + check_key(key)
        try:
            self._execute("SET", name, as_bytes(value, key))
        except UNAVAILABLE as error:
            raise self._unavailable(error) from None

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        name = self._name_prefix + check_key(key)
        if ttl is None or (ttl == 0.0 and type(ttl) is float):
            command: tuple[Any, ...] = ("SET", name, as_bytes(value, key))
        else:
            expiry_ms = milliseconds(ttl)
            expiry = ("PX", expiry_ms) if expiry_ms else ()
            command = ("SET", name, as_bytes(value, key), *expiry)
        try:
            self._execute(*command)
        except UNAVAILABLE as error:
            raise self._unavailable(error) from None

    def __delitem__(self, key: str) -> None:
        try:
            deleted = self._execute("DEL", self._name(key))
        except UNAVAILABLE as error:
            raise self._unavailable(error) from None
        if not deleted:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        try:
            name = self._name_prefix + check_key(key)
            return bool(self._execute("EXISTS", name))
        except UNAVAILABLE as error:
            raise self._unavailable(error) from None

    def getrange(self, key: str, start: int, stop: int | None = None) -> bytes:
        if start < 0 or (stop is not None and stop < 0):
            return self[key][start:stop]
        name = self._name(key)
        if stop is not None and stop <= start:
            value = b""
        else:
            end = -1 if stop is None else stop - 1
            value = self._call("GETRANGE", name, start, end)
        # GETRANGE answers b"" for a missing key too: only then ask EXISTS.
        if not value and not self._call("EXISTS", name):
            raise KeyError(key)
        return value

    def __len__(self) -> int:
        if not self._name_prefix:
            return int(self._call("DBSIZE"))
        return sum(1 for _ in self.iter_keys())

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        start = len(self._name_prefix)
        for name in self._scan_names(prefix):
            try:
                yield check_key(name.decode("utf-8")[start:])
            except (UnicodeDecodeError, InvalidKeyError):
                continue  # written by another client, and no key kvmap can read

    def _scan_names(self, prefix: str) -> Iterator[bytes]:
        pattern = glob_escape(self._name_prefix + prefix) + "*"
        seen: set[bytes] = set()
        cursor = 0
        while True:
            # TYPE string: hashes, lists and other types that other clients
            # keep in the database are no values of this store (Redis >= 6).
            cursor, names = self._call(
                "SCAN",
                cursor,
                "MATCH",
                pattern,
                "COUNT",
                self.scan_count,
                "TYPE",
                "string",
            )
            for name in names:
                # SCAN may return a name twice; report each once.
                if name not in seen:
                    seen.add(name)
                    yield name
            if not int(cursor):
                return

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        wanted = list(keys)
        start = self._name_prefix
        # Names go out as bytes: redis-py passes bytes through untouched.
        names = [(start + check_key(key)).encode() for key in wanted]
        if len(names) <= BATCH_SIZE:
            values = self._call("MGET", *names) if names else []
        else:
            chunks = batched(names, BATCH_SIZE)
            replies = self._send([(b"MGET", *chunk) for chunk in chunks])
            values = [value for reply in replies for value in reply]
        return {
            key: value
            for key, value in zip(wanted, values, strict=True)
            if value is not None
        }

    def setitems(
        self,
        items: Mapping[str, bytes] | Iterable[tuple[str, bytes]],
        ttl: float | None = None,
    ) -> None:
        pairs = pairs_of(items)
        expiry_ms = milliseconds(ttl)
        start = self._name_prefix
        for chunk in batched(pairs, PIPELINE_SIZE):
            names = [(start + check_key(key)).encode() for key, _ in chunk]
            values = [as_bytes(value, key) for key, value in chunk]
            commands: list[Sequence[bytes]]
            if expiry_ms:
                expiry = b"%d" % expiry_ms
                commands = [
                    (b"SET", name, value, b"PX", expiry)
                    for name, value in zip(names, values, strict=True)
                ]
            else:
                commands = [
                    flat_mset(names[i : i + BATCH_SIZE], values[i : i + BATCH_SIZE])
                    for i in range(0, len(names), BATCH_SIZE)
                ]
            self._send(commands)

    def delitems(self, keys: Iterable[str]) -> None:
        names = [self._name(key).encode() for key in keys]
        for group in batched(names, PIPELINE_SIZE):
            self._send([(b"UNLINK", *chunk) for chunk in batched(group, BATCH_SIZE)])

    def clear(self) -> None:
        """Delete every key of this store (only those under ``redis_prefix``)."""
        for chunk in batched(self._scan_names(""), BATCH_SIZE):
            self._call("UNLINK", *chunk)

    def close(self) -> None:
        self._redis.close()

    def _call(self, *command: Any) -> Any:
        try:
            return self._execute(*command)
        except UNAVAILABLE as error:
            raise self._unavailable(error) from None

    def _send(self, commands: Sequence[Sequence[bytes]]) -> list[Any]:
        if len(commands) == 1:
            return [self._call(*commands[0])]
        try:
            return self._redis.send(commands)
        except UNAVAILABLE as error:
            raise self._unavailable(error) from None

    def __repr__(self) -> str:
        shown = f"{type(self).__name__}({self._redis.shown_uri!r}"
        if self.redis_prefix:
            shown += f", redis_prefix={self.redis_prefix!r}"
        if self.debug:
            shown += ", debug=True"
        return shown + ")"

    def __reduce__(self) -> tuple[Any, ...]:
        settings = {
            "redis_prefix": self.redis_prefix,
            "debug": self.debug,
            "scan_count": self.scan_count,
            **self._connection_options,
        }
        return (_reopen, (type(self), self.uri, settings, self._pid))


def _reopen(
    kind: type[RedisBackend], uri: str, settings: dict[str, Any], pid: int
) -> RedisBackend:
    if settings.get("debug") and pid != os.getpid():
        raise ProcessLocalError(
            "a redis store in debug mode (fakeredis) was unpickled in another "
            "process: its data exists only in the process that made it. Unset "
            "KVMAP_REDIS_DEBUG / REDIS_DEBUG to share a real Redis server."
        )
    return kind(uri, **settings)
