"""The exceptions kvmap raises.

A missing key is always the built-in :class:`KeyError`. Everything else kvmap
raises on purpose derives from :class:`KvmapError`, and also from the built-in
exception a caller would naturally catch (``ValueError`` for bad input,
``ConnectionError`` for an unreachable service), so both styles of handling work.
"""

from __future__ import annotations

__all__ = [
    "BackendUnavailableError",
    "ConfigError",
    "CorruptValueError",
    "InvalidKeyError",
    "KvmapError",
    "ProcessLocalError",
    "ReadOnlyError",
    "StatementError",
    "TTLNotSupportedError",
    "UnsafeValueError",
    "ValueTooLargeError",
]


class KvmapError(Exception):
    """Base class of every error kvmap raises on purpose."""


class ConfigError(KvmapError, ValueError):
    """A setting, variable or backend option has a value that is not allowed.

    The message names the variable or option, the value, and what is allowed.
    """


class InvalidKeyError(KvmapError, ValueError):
    """A key breaks the key rules; the message names the key and the rule."""


class ReadOnlyError(KvmapError, PermissionError):
    """A write or delete was attempted on a store opened read-only."""


class UnsafeValueError(KvmapError, ValueError):
    """A stored value was refused instead of being loaded.

    Raised for a pickled value when pickles are not allowed, or when the value
    does not carry a valid signature for the configured signing key.
    """


class CorruptValueError(KvmapError, ValueError):
    """A stored value cannot be decoded in the store's serialization mode.

    The message names the key and the mode; the stored bytes are unchanged.
    """


class StatementError(KvmapError, RuntimeError):
    """The service failed an operation for a reason other than a lost connection.

    For example a SQL deadlock, a lock wait timeout or a full disk. The message
    names the host, port and database and gives the service's own reason; a
    SQL transaction was rolled back, so nothing of the call was written.
    """


class ValueTooLargeError(KvmapError, ValueError):
    """A value is larger than the backend takes in one write.

    The message names the key, the value's size and the limit (such as
    ``max_allowed_packet`` on MariaDB and MySQL). Nothing was sent.
    """


class TTLNotSupportedError(KvmapError, TypeError):
    """A time to live was given to a backend that cannot expire keys itself."""


class BackendUnavailableError(KvmapError, ConnectionError):
    """The service behind a store cannot be reached or refused the connection.

    The message names the host and port (never a password).
    """


class ProcessLocalError(KvmapError, RuntimeError):
    """A store that lives in one process's memory was unpickled in another."""
