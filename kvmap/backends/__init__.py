"""The raw-bytes backends, and the registry that picks one from a URI scheme.

Built-in schemes are listed in :data:`BUILTIN_BACKENDS`. Other packages add
backends through the ``kvmap.backends`` entry point group (the entry point's
name is the scheme, its value ``"module:Class"``), or at run time with
:func:`register_backend`. A URI without a scheme is a local folder; a scheme
that fsspec knows goes to the generic fsspec backend, and so does
``memory://name`` (a bare ``memory://`` is the in-memory backend).
"""

from __future__ import annotations

import importlib
import re
from importlib.metadata import entry_points

from kvmap.backends.base import Backend
from kvmap.errors import ConfigError
from kvmap.redact import redact_uri

__all__ = [
    "BUILTIN_BACKENDS",
    "Backend",
    "backend_class",
    "register_backend",
    "uri_scheme",
]

_FSSPEC = "kvmap.backends.fsspec:FsspecBackend"
_REDIS = "kvmap.backends.redis:RedisBackend"
_SQL = "kvmap.backends.sql:SQLBackend"

#: Scheme -> ``"module:Class"`` of the backend that serves it.
BUILTIN_BACKENDS: dict[str, str] = {
    "memory": "kvmap.backends.memory:MemoryBackend",
    "file": "kvmap.backends.file:FileBackend",
    "local": "kvmap.backends.file:FileBackend",
    "redis": _REDIS,
    "rediss": _REDIS,
    "unix": _REDIS,
    "sqlite": _SQL,
    "postgresql": _SQL,
    "postgres": _SQL,
    "mysql": _SQL,
    "mariadb": _SQL,
    "s3": "kvmap.backends.s3:S3Backend",
    "s3a": "kvmap.backends.s3:S3Backend",
}

#: The extra that installs what each backend module needs.
EXTRAS = {
    "kvmap.backends.redis": "redis",
    "kvmap.backends.sql": "sql",
    "kvmap.backends.s3": "s3",
}

_registered: dict[str, str | type[Backend]] = {}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


def register_backend(scheme: str, backend: str | type[Backend]) -> None:
    """Serve URIs with ``scheme`` by ``backend`` (a class or ``"module:Class"``)."""
    _registered[scheme.lower()] = backend


def uri_scheme(uri: str) -> str:
    """Return the scheme of ``uri`` in lower case, or ``"file"`` for a path."""
    match = _SCHEME.match(uri)
    return match[1].lower() if match else "file"


def backend_class(uri: str) -> type[Backend]:
    """Return the backend class that serves ``uri``.

    Raises
    ------
    ConfigError
        If no backend serves the scheme, or its optional dependencies are
        missing (the message names the extra to install).
    """
    scheme = uri_scheme(uri)
    if scheme == "memory" and uri.partition("://")[2].strip("/"):
        # memory://name is fsspec's memory file system, shared by name within
        # the process; a bare memory:// is a store of its own.
        return _load(_FSSPEC, uri)
    for name in (scheme, scheme.split("+", 1)[0]):
        target = _registered.get(name) or BUILTIN_BACKENDS.get(name)
        if target is None:
            target = _from_entry_points(name)
        if target is not None:
            return _load(target, uri)
    if _fsspec_knows(scheme):
        return _load(_FSSPEC, uri)
    known = sorted(set(BUILTIN_BACKENDS) | set(_registered))
    raise ConfigError(
        f"no backend serves the scheme {scheme!r} of URI {redact_uri(uri)!r}; "
        f"known schemes: {', '.join(known)}, any fsspec protocol, or a folder path"
    )


def _from_entry_points(scheme: str) -> str | None:
    for entry_point in entry_points(group="kvmap.backends"):
        if entry_point.name.lower() == scheme:
            return entry_point.value
    return None


def _fsspec_knows(scheme: str) -> bool:
    from fsspec.registry import known_implementations, registry

    return scheme in known_implementations or scheme in registry


def _load(target: str | type[Backend], uri: str) -> type[Backend]:
    if not isinstance(target, str):
        return target
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        extra = EXTRAS.get(module_name)
        hint = f": pip install 'kvmap[{extra}]'" if extra else ""
        raise ConfigError(
            f"the backend for {redact_uri(uri)!r} cannot be loaded ({error}){hint}"
        ) from error
    backend: type[Backend] = getattr(module, class_name)
    return backend
