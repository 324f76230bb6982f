"""Assemble a store from settings: a backend wrapped in layers."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kvmap.backends import Backend, backend_class
from kvmap.errors import ConfigError
from kvmap.layers.missing import MissingKeyLayer
from kvmap.layers.prefix import PrefixLayer
from kvmap.layers.read_only import ReadOnlyLayer
from kvmap.layers.serializer import SerializerLayer
from kvmap.layers.ttl import TTLLayer
from kvmap.redact import redact_options, redact_uri
from kvmap.settings import Settings
from kvmap.store import Store

__all__ = ["build_store", "get_store", "open_backend", "wrap_backend"]

logger = logging.getLogger(__name__)


def get_store(
    uri: str | None = None,
    *,
    serialization_mode: str | None = None,
    raise_on_nonexist: bool | None = None,
    default_ttl: float | None = None,
    backend_config: Mapping[str, Any] | None = None,
    key_prefix: str | None = None,
    read_only: bool | None = None,
    allow_pickle: bool | None = None,
    signing_key: str | None = None,
    **backend_options: Any,
) -> Store[Any]:
    """Return the store that the environment and the keywords describe.

    Every argument left as ``None`` comes from its ``KVMAP_*`` variable (see
    :mod:`kvmap.settings`), read now. ``backend_options`` are merged into
    ``backend_config``. The stack, from the outside in, is::

        MissingKeyLayer   (only when raise_on_nonexist is false)
        ReadOnlyLayer     (only when read_only is true)
        SerializerLayer   (serialization_mode, allow_pickle, signing_key)
        TTLLayer          (default_ttl; passes ttls down to native expiry)
        PrefixLayer       (only when key_prefix is set)
        backend           (chosen by the URI scheme)

    Raises
    ------
    ConfigError
        If a setting, variable or backend option is not valid.
    """
    if backend_config is not None and not isinstance(backend_config, Mapping):
        raise ConfigError(
            f"backend_config={backend_config!r} is not valid: a mapping of "
            "backend options"
        )
    config = {**(backend_config or {}), **backend_options}
    settings = Settings.load(
        uri=uri,
        serialization_mode=serialization_mode,
        raise_on_nonexist=raise_on_nonexist,
        default_ttl=default_ttl,
        backend_config=config or None,
        key_prefix=key_prefix,
        read_only=read_only,
        allow_pickle=allow_pickle,
        signing_key=signing_key,
    )
    return build_store(settings)


def open_backend(uri: str, backend_config: Mapping[str, Any]) -> Backend:
    """Return the raw-bytes backend for ``uri`` with the given options."""
    backend = backend_class(uri)
    logger.debug(
        "opening %s for %s with options %s",
        backend.__name__,
        redact_uri(uri),
        redact_options(backend_config),
    )
    return backend.from_uri(uri, **backend_config)


def build_store(settings: Settings) -> Store[Any]:
    """Return the store that ``settings`` describe: backend and layers."""
    backend = open_backend(settings.uri, settings.backend_config)
    return wrap_backend(backend, settings)


def wrap_backend(backend: Store[Any], settings: Settings) -> Store[Any]:
    """Wrap ``backend`` in the layers that ``settings`` ask for."""
    store: Store[Any] = backend
    if settings.key_prefix:
        store = PrefixLayer(store, settings.key_prefix)
    store = TTLLayer(store, settings.default_ttl)
    store = SerializerLayer(
        store,
        settings.serialization_mode,
        allow_pickle=settings.allow_pickle,
        signing_key=settings.signing_key,
    )
    if settings.read_only:
        store = ReadOnlyLayer(store)
    if not settings.raise_on_nonexist:
        store = MissingKeyLayer(store, raise_on_nonexist=False)
    return store
