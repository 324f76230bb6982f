"""Copy every key of one store into another, in batches.

This is what ``kvmap copy`` runs. Values are copied as the stored bytes, so they
arrive unchanged whatever their serialization. Both sides take the ``KVMAP_*``
settings (``KVMAP_KEY_PREFIX`` scopes both; ``KVMAP_READ_ONLY`` refuses the
copy); a ``KVMAP_BACKEND_CONFIG__*`` option goes to each side whose backend
takes it, and explicit per-side options win over it.

Expiry: between two backends that keep expiry in the value (files, memory,
object stores) the values carry their expiry times along, and keys that have
expired already are left out. When either side
expires keys natively (Redis, SQL), keys are copied through the TTL layer:
expired keys are left out, and copied keys get the target's ``default_ttl``
(``KVMAP_DEFAULT_TTL``, 0 = never) rather than their remaining time to live.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from kvmap.backends import Backend, backend_class
from kvmap.backends.file import FileBackend
from kvmap.errors import ConfigError, ReadOnlyError
from kvmap.factory import open_backend
from kvmap.layers.prefix import PrefixLayer
from kvmap.layers.ttl import TTLLayer
from kvmap.redact import redact_uri
from kvmap.settings import (
    BACKEND_CONFIG_PREFIX,
    Settings,
    backend_environment_config,
)
from kvmap.store import BATCH_SIZE, Store, batched

__all__ = ["copy_store"]


def copy_store(
    source_uri: str,
    target_uri: str,
    *,
    prefix: str = "",
    source_options: Mapping[str, Any] | None = None,
    target_options: Mapping[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Copy the keys under ``prefix`` from one store to another; return the count.

    ``progress`` is called with the number of keys copied so far after each
    batch of :data:`~kvmap.store.BATCH_SIZE` keys.

    Raises
    ------
    ConfigError
        For a bad setting, or a ``KVMAP_BACKEND_CONFIG__*`` option that
        neither side takes.
    ReadOnlyError
        When ``KVMAP_READ_ONLY`` is set.
    FileNotFoundError
        When the source is a folder or SQLite file that does not exist.
    """
    source_backend, source_settings = _open_side(source_uri, source_options)
    target_backend, target_settings = _open_side(target_uri, target_options)
    _check_environment_options_are_used(source_backend, target_backend)
    if target_settings.read_only:
        raise ReadOnlyError(
            f"cannot copy into {redact_uri(target_uri)}: KVMAP_READ_ONLY is set"
        )
    _check_source_exists(source_backend)

    through_ttl = source_backend.native_ttl or target_backend.native_ttl
    source = _scoped(source_backend, source_settings, through_ttl, 0)
    target = _scoped(target_backend, target_settings, through_ttl, None)
    # Values are copied with their expiry envelopes; listing through a TTL
    # layer leaves out the keys that have expired already.
    listing = source if through_ttl else TTLLayer(source)
    copied = 0
    with source_backend, target_backend:
        for keys in batched(listing.iter_keys(prefix), BATCH_SIZE):
            values = source.getitems(keys)
            target.setitems(values)
            copied += len(values)
            if progress is not None:
                progress(copied)
    return copied


def _open_side(uri: str, options: Mapping[str, Any] | None) -> tuple[Backend, Settings]:
    backend = backend_class(uri)
    from_environment = {
        name: value
        for name, value in backend_environment_config(backend).items()
        if _takes(backend, name)
    }
    config = {**from_environment, **(options or {})}
    settings = Settings.load(uri=uri, backend_environment=False, backend_config=config)
    return open_backend(settings.uri, settings.backend_config), settings


def _check_source_exists(backend: Backend) -> None:
    # Opening a missing folder or SQLite file would make an empty one, and
    # the copy would "succeed" with nothing copied.
    if isinstance(backend, FileBackend) and not os.path.isdir(backend.root):
        raise FileNotFoundError(f"the source folder {backend.root} does not exist")
    url = getattr(backend, "url", None)
    if url is not None and url.get_backend_name() == "sqlite":
        database = url.database
        if database and database != ":memory:" and not os.path.exists(database):
            raise FileNotFoundError(f"the source database {database} does not exist")


def _check_environment_options_are_used(source: Backend, target: Backend) -> None:
    for name in backend_environment_config(type(source)):
        if not (_takes(type(source), name) or _takes(type(target), name)):
            variable = BACKEND_CONFIG_PREFIX + name.upper()
            names = sorted({type(source).__name__, type(target).__name__})
            raise ConfigError(
                f"{variable} is not an option of {' or '.join(names)}: no side of "
                "the copy takes it"
            )


def _takes(backend: type[Backend], name: str) -> bool:
    return name in backend.options or backend.accepts_other_options


def _scoped(
    backend: Backend, settings: Settings, through_ttl: bool, ttl: float | None
) -> Store[Any]:
    store: Store[Any] = backend
    if settings.key_prefix:
        store = PrefixLayer(store, settings.key_prefix)
    if through_ttl:
        default_ttl = settings.default_ttl if ttl is None else ttl
        store = TTLLayer(store, default_ttl)
    return store
