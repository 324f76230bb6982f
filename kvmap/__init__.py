"""kvmap: keep Python objects anywhere with plain dict syntax.

>>> import kvmap
>>> store = kvmap.get_store("memory://")
>>> store["answer"] = {"value": 42}
>>> store["answer"]
{'value': 42}
"""

from kvmap.backends import Backend, register_backend
from kvmap.backends.file import FileBackend
from kvmap.backends.memory import MemoryBackend
from kvmap.errors import (
    BackendUnavailableError,
    ConfigError,
    CorruptValueError,
    InvalidKeyError,
    KvmapError,
    ProcessLocalError,
    ReadOnlyError,
    StatementError,
    TTLNotSupportedError,
    UnsafeValueError,
    ValueTooLargeError,
)
from kvmap.factory import build_store, get_store, open_backend, wrap_backend
from kvmap.layers import (
    Layer,
    MissingKeyLayer,
    PrefixLayer,
    ReadOnlyLayer,
    SerializerLayer,
    TTLLayer,
)
from kvmap.settings import Settings
from kvmap.store import Store

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "BackendUnavailableError",
    "ConfigError",
    "CorruptValueError",
    "FileBackend",
    "InvalidKeyError",
    "KvmapError",
    "Layer",
    "MemoryBackend",
    "MissingKeyLayer",
    "PrefixLayer",
    "ProcessLocalError",
    "ReadOnlyError",
    "ReadOnlyLayer",
    "SerializerLayer",
    "Settings",
    "StatementError",
    "Store",
    "TTLLayer",
    "TTLNotSupportedError",
    "UnsafeValueError",
    "ValueTooLargeError",
    "build_store",
    "get_store",
    "open_backend",
    "register_backend",
    "wrap_backend",
]
