"""Build the redis-py client behind :class:`~kvmap.backends.redis.RedisBackend`.

The URI is parsed by redis-py's own parser, options from ``backend_config``
are laid over it, and the connection is forced to exchange bytes. In debug
mode the same options build a client of fakeredis, an in-process imitation of
a Redis server. Nothing here opens a connection: redis-py connects on the
first command.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.connection import ConnectionPool, SSLConnection, parse_url

from kvmap.errors import BackendUnavailableError, ConfigError
from kvmap.redact import MASK, redact_options, redact_uri
from kvmap.settings import BACKEND_CONFIG_PREFIX

__all__ = [
    "CONNECTION_OPTIONS",
    "DEBUG_VARIABLES",
    "POOL_OPTIONS",
    "UNAVAILABLE",
    "RedisClient",
    "debug_from_environment",
]

logger = logging.getLogger(__name__)

#: The environment variables that turn on debug mode (fakeredis), first wins.
DEBUG_VARIABLES = ("KVMAP_REDIS_DEBUG", "REDIS_DEBUG")

#: The redis-py connection options a store accepts in ``backend_config``.
CONNECTION_OPTIONS: Mapping[str, type] = {
    "db": int,
    "username": str,
    "password": str,
    "socket_timeout": float,
    "socket_connect_timeout": float,
    "socket_keepalive": bool,
    "health_check_interval": int,
    "max_connections": int,
    "client_name": str,
    "protocol": int,
    "decode_responses": bool,
    "ssl_ca_certs": str,
    "ssl_certfile": str,
    "ssl_keyfile": str,
    "ssl_cert_reqs": str,
    "ssl_check_hostname": bool,
}

#: The options that go to the connection pool; every other one goes to each
#: connection.
POOL_OPTIONS = frozenset({"max_connections"})


def _count(least: int) -> Callable[[Any], bool]:
    return lambda value: type(value) is int and value >= least


def _seconds(value: Any) -> bool:
    if value is None:
        return True
    return type(value) in (int, float) and value > 0


def _client_name(value: Any) -> bool:
    # Redis refuses spaces, newlines and other characters outside '!'..'~'.
    return isinstance(value, str) and all("!" <= char <= "~" for char in value)


#: What the options whose values redis-py checks late (or never) allow:
#: a test of the value, and the words of the error.
_ALLOWED: Mapping[str, tuple[Callable[[Any], bool], str]] = {
    "db": (_count(0), "an int >= 0"),
    "protocol": (lambda value: type(value) is int and value in (2, 3), "2 or 3"),
    "max_connections": (_count(1), "an int >= 1"),
    "health_check_interval": (_count(0), "an int of seconds >= 0"),
    "socket_timeout": (_seconds, "a number of seconds > 0"),
    "socket_connect_timeout": (_seconds, "a number of seconds > 0"),
    "client_name": (_client_name, "a str without spaces or control characters"),
    "ssl_cert_reqs": (
        lambda value: (
            not isinstance(value, str) or value in ("none", "optional", "required")
        ),
        "'none', 'optional' or 'required'",
    ),
}

#: redis-py errors that mean the server cannot be used right now.
UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
#: An error reply of the server, such as WRONGTYPE.
ERROR_REPLY = redis.exceptions.ResponseError

_pack: Callable[[tuple[Any, ...]], bytes] | None
try:
    from hiredis import pack_command as _pack
except ImportError:  # redis-py then packs commands in Python
    _pack = None

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def _check_database_path(uri: str) -> None:
    # redis-py reads a path that is not a number as database 0, silently.
    scheme, _, rest = uri.partition("://")
    if scheme.lower() == "unix":
        return
    path = rest.partition("?")[0].partition("/")[2].strip("/")
    if path and not path.isdigit():
        raise ConfigError(
            f"Redis URI {redact_uri(uri)!r}: the path names the database and must "
            f"be a number such as /0, not {path!r}"
        )


def debug_from_environment() -> bool:
    """Tell whether ``KVMAP_REDIS_DEBUG`` or ``REDIS_DEBUG`` asks for fakeredis."""
    for variable in DEBUG_VARIABLES:
        value = os.environ.get(variable)
        if value is None:
            continue
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(
            f"{variable}={value!r} is not valid: a boolean (1/0, true/false, "
            "yes/no, on/off)"
        )
    return False


class RedisClient:
    """A redis-py client for a URI and options, with errors that name the server.

    ``client`` is a :class:`redis.Redis` over one connection pool.
    ``address`` is ``host:port`` (or the socket path) for error messages.

    Notes
    -----
    The client is safe to share between threads, as redis-py's pool is; after
    a fork, redis-py's pool opens new connections in the child by itself.
    """

    def __init__(self, uri: str, options: Mapping[str, Any], *, debug: bool) -> None:
        try:
            settings = parse_url(uri)
        except ValueError as error:
            raise ConfigError(f"Redis URI {redact_uri(uri)!r}: {error}") from None
        _check_database_path(uri)
        settings.update(options)
        if settings.pop("decode_responses", False):
            logger.debug("ignoring decode_responses: kvmap exchanges bytes")
        settings["decode_responses"] = False
        _check_ssl_options(uri, settings)
        _check_values(settings)
        self.password: str | None = settings.get("password")
        self.address = _address(settings)
        self.shown_uri = _shown_uri(uri, settings.get("db", 0))
        if debug:
            settings = _fake_settings(settings)
        else:
            settings["redis_connect_func"] = self._connect
        _check_connection_options(uri, settings)
        self.pool = ConnectionPool(**settings)
        self.client = redis.Redis(connection_pool=self.pool)
        logger.debug(
            "redis client for %s (%s) with options %s",
            redact_uri(uri),
            "fakeredis, debug mode" if debug else self.address,
            redact_options(options),
        )

    def unavailable(self, error: Exception) -> BackendUnavailableError:
        """Return the kvmap error for a redis-py connection or timeout error."""
        message = f"{type(error).__name__}: {error}"
        if self.password:
            message = message.replace(self.password, MASK)
        if isinstance(error, redis.exceptions.AuthenticationError):
            problem = "refused the credentials"
        elif str(error) == "Too many connections":  # every pool connection in use
            limit = self.pool.max_connections
            problem = f"has no free connection in this store's pool of {limit}"
        elif isinstance(error, redis.exceptions.TimeoutError):
            problem = "did not answer in time"
        else:
            problem = "cannot be reached"
        return BackendUnavailableError(f"Redis at {self.address} {problem} ({message})")

    def _connect(self, connection: Any) -> None:
        # Run by redis-py on each new connection, after the socket opens.
        try:
            connection.on_connect()
        except redis.exceptions.ResponseError as error:
            if "DB index" not in str(error):
                raise
            raise ConfigError(
                f"Redis at {self.address} has no database {connection.db} "
                f"({error}): the option db ({BACKEND_CONFIG_PREFIX}DB, or the "
                "URI path) must be below the server's 'databases' setting "
                "(16 unless configured)"
            ) from None

    def send(self, commands: Sequence[Sequence[bytes]]) -> list[Any]:
        """Send ``commands`` in one round trip; return their replies in order.

        What a redis-py pipeline without a transaction does, minus its work
        per command (the batch path of the store spends most of its time
        there): arguments are bytes already and replies are not converted.
        An error reply raises :class:`redis.ResponseError`. The connection is
        checked when taken from the pool, so one that broke while idle (a
        server restart) is replaced first; one that breaks during the batch
        is dropped and the error raised.
        """
        # types-redis describes redis-py 4, whose pool wanted a command name
        # and whose connections sent only str.
        connection = self.pool.get_connection()  # type: ignore[call-arg]
        try:
            if _pack is None:
                packed = connection.pack_commands(commands)
            else:
                packed = [_pack(tuple(command)) for command in commands]
            connection.send_packed_command(packed)  # type: ignore[arg-type]
            return [connection.read_response() for _ in commands]
        except BaseException:
            connection.disconnect()
            raise
        finally:
            self.pool.release(connection)

    def close(self) -> None:
        """Close every pooled connection; the next command opens a new one."""
        self.pool.disconnect()


def _address(settings: Mapping[str, Any]) -> str:
    if "path" in settings:
        return str(settings["path"])
    host = str(settings.get("host", "localhost"))
    port = settings.get("port", 6379)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _shown_uri(uri: str, db: int) -> str:
    """Return ``uri`` redacted, naming database ``db`` where it differs."""
    if parse_url(uri).get("db", 0) == db:
        return redact_uri(uri)
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query = [(name, value) for name, value in query if name != "db"]
    if parts.scheme == "unix":  # the db goes in the query; keep "unix://"
        query.append(("db", str(db)))
        return redact_uri(uri.split("?")[0] + "?" + urlencode(query))
    parts = parts._replace(path=f"/{db}", query=urlencode(query))
    return redact_uri(urlunsplit(parts))


def _check_values(settings: Mapping[str, Any]) -> None:
    for name, (allowed, words) in _ALLOWED.items():
        if name in settings and not allowed(settings[name]):
            variable = BACKEND_CONFIG_PREFIX + name.upper()
            raise ConfigError(
                f"Redis option {name}={settings[name]!r} is not valid: {words} "
                f"(set in backend_config, {variable} or the URI)"
            )


def _check_ssl_options(uri: str, settings: Mapping[str, Any]) -> None:
    ssl_options = sorted(name for name in settings if name.startswith("ssl_"))
    if ssl_options and settings.get("connection_class") is not SSLConnection:
        raise ConfigError(
            f"the options {', '.join(ssl_options)} need a rediss:// URI (TLS); "
            f"{redact_uri(uri)!r} is not one"
        )


def _fake_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    import fakeredis

    fake = {
        name: value
        for name, value in settings.items()
        if not name.startswith("ssl_") and name != "connection_class"
    }
    fake["connection_class"] = fakeredis.FakeRedisConnection
    return fake


def _check_connection_options(uri: str, settings: Mapping[str, Any]) -> None:
    # Building a connection object opens no socket, and it is where redis-py
    # refuses an unknown option; refuse it now rather than on first use.
    connection_class = settings.get("connection_class", redis.Connection)
    skipped = POOL_OPTIONS | {"connection_class"}
    arguments = {k: v for k, v in settings.items() if k not in skipped}
    try:
        connection_class(**arguments)
    except TypeError as error:
        raise ConfigError(
            f"Redis URI {redact_uri(uri)!r} or its options hold an option that "
            f"redis-py does not take ({error}); allowed in backend_config: "
            f"{', '.join(CONNECTION_OPTIONS)}, and any redis-py connection "
            "option in the URI query"
        ) from None
