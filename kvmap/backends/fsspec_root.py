"""Where an fsspec store keeps its values: the file system, the root, the paths.

:class:`FsspecRoot` opens the file system of a URI (again after a fork or an
unpickling), turns keys into paths under the root and listed paths back into
keys, finds which file holds a key's value, and decides which errors mean a
missing file. :class:`~kvmap.backends.fsspec.FsspecBackend` builds the mapping
on it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, ClassVar, NoReturn, Self
from urllib.parse import quote, unquote

from kvmap.backends import uri_scheme
from kvmap.backends.base import Backend
from kvmap.backends.fsspec_paths import VALUE_FILE
from kvmap.errors import ConfigError, InvalidKeyError, ProcessLocalError, ReadOnlyError
from kvmap.keys import check_key
from kvmap.redact import redact_options, redact_uri

__all__ = ["FLAT_PROTOCOLS", "READ_ONLY_PROTOCOLS", "FsspecRoot"]

logger = logging.getLogger(__name__)

#: Protocols whose file systems can only be read.
READ_ONLY_PROTOCOLS = frozenset({"http", "https"})
#: Object stores, where ``"a"`` and ``"a/b"`` are unrelated names.
FLAT_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "oss"})


class FsspecRoot(Backend):
    """The file system and root path of an fsspec store, without the mapping.

    The base of :class:`~kvmap.backends.fsspec.FsspecBackend`, which documents
    the store; it holds no values of its own. ``uri`` names the root, every
    option except ``read_only`` goes to the file system's constructor, and
    key ``"a/b"`` is the path ``<root>/a/b`` (or ``<root>/a/b/.kvmap-value``
    when ``"a/b"`` is also a folder, on file systems with folders).

    Notes
    -----
    Safe across threads as far as the file system is. It pickles to its URI
    and options and opens the file system again on first use after
    unpickling or in a forked child; a ``memory://`` root refuses to be
    unpickled in another process.
    """

    options: ClassVar[Mapping[str, Any]] = {"read_only": bool}
    accepts_other_options = True
    #: The exceptions that mean "no such file" rather than a failure.
    missing_exceptions: tuple[type[BaseException], ...] = (FileNotFoundError,)
    #: Whether ``"a"`` and ``"a/b"`` can both be files without help.
    flat: bool = False

    def __init__(self, uri: str, *, read_only: bool = False, **options: Any) -> None:
        self.uri = uri
        self.storage_options = options
        self.protocol = uri_scheme(uri)
        self.read_only = bool(read_only) or self.protocol in READ_ONLY_PROTOCOLS
        self.flat = self.flat or self.protocol in FLAT_PROTOCOLS
        self._fs: Any = None
        self._base = ""
        self._pid = 0

    @classmethod
    def from_uri(cls, uri: str, **options: Any) -> Self:
        return cls(uri, **options)

    @property
    def fs(self) -> Any:
        """The file system, opened on first use and again after a fork."""
        # Two threads may both open it; the last one wins, which is harmless.
        if self._fs is None or self._pid != os.getpid():
            filesystem, root = self.open_filesystem()
            logger.debug(
                "opened %s for %s with options %s",
                type(filesystem).__name__,
                redact_uri(self.uri),
                redact_options(self.storage_options),
            )
            self._base = root.rstrip("/") + "/" if root else ""
            self._fs, self._pid = filesystem, os.getpid()
        return self._fs

    def open_filesystem(self) -> tuple[Any, str]:
        """Return a new file system and the root path inside it."""
        from fsspec.core import url_to_fs

        try:
            return url_to_fs(self.uri, **self.storage_options)  # type: ignore[no-any-return]
        except (TypeError, ImportError) as error:
            names = sorted(self.storage_options) or "none"
            raise ConfigError(
                f"cannot open {redact_uri(self.uri)!r} with options {names}: {error}"
            ) from None

    def close(self) -> None:
        self._fs = None

    def path(self, key: str) -> str:
        """Return the path of ``key``'s file (without ``.kvmap-value``).

        On HTTP(S) it is a URL: the key is percent-encoded, so that ``%``,
        ``#``, ``?`` and spaces reach the server as part of the name.
        """
        filesystem = self.fs  # sets self._base
        del filesystem
        key = check_key(key)
        if self.protocol in READ_ONLY_PROTOCOLS:
            key = quote(key, safe="/")
        return self._base + key

    def is_missing(self, error: BaseException) -> bool:
        """Tell whether ``error``, raised for one path, means "no such file"."""
        if isinstance(error, self.missing_exceptions):
            return True
        return not self.flat and isinstance(error, NotADirectoryError)

    def translate(self, error: BaseException) -> BaseException:
        """Return the error to raise for ``error`` (subclasses add context)."""
        return error

    def refuse_if_read_only(self, what: str) -> None:
        """Raise ReadOnlyError when this store may not be changed."""
        if self.read_only:
            raise ReadOnlyError(f"cannot {what}: {redact_uri(self.uri)} is read-only")

    def _raise(self, error: BaseException) -> NoReturn:
        translated = self.translate(error)
        if translated is error:
            raise error
        raise translated from error

    def _kind(self, path: str) -> str | None:
        # "file", "directory" or None; fsspec's isfile() would hide errors.
        try:
            info = self.fs.info(path)
        except Exception as error:
            if self.is_missing(error):
                return None
            self._raise(error)
        if self.protocol in READ_ONLY_PROTOCOLS:
            # A web server answers a folder's URL with a redirect to the URL
            # with a trailing "/", and then with the folder's listing page.
            url = str(info.get("url", path))
            if url.endswith("/") and not path.endswith("/"):
                return "directory"
        return str(info["type"])

    def is_folder_page(self, path: str, value: bytes | None) -> bool:
        """Tell whether HTTP ``value``, read at ``path``, is a folder's page.

        Only a value that may be markup (or part of one, read by range) costs
        a request to ask where ``path`` leads; other values and other
        protocols cost nothing.
        """
        if self.protocol not in READ_ONLY_PROTOCOLS or path.endswith(VALUE_FILE):
            return False
        if value is not None and value.lstrip()[:1] != b"<":
            return False
        return self._kind(path) == "directory"

    def listing_error(self, error: BaseException) -> None:
        """Raise ``error``, met while listing a folder, unless the folder is gone.

        fsspec's listing skips folders it cannot read by default, which would
        show an unreachable store as an empty one.
        """
        if not self.is_missing(error):
            self._raise(error)

    def _value_path(self, path: str) -> str | None:
        # The file that holds the value at ``path``, or None when missing.
        for candidate in self._candidates(path):
            if self._kind(candidate) == "file":
                return candidate
        return None

    def _candidates(self, path: str) -> list[str]:
        # Where the value at ``path`` may be, in the order to look. Web
        # servers answer a folder's URL with a listing page, so on HTTP the
        # value file comes first.
        if self.flat:
            return [path]
        value_path = path + "/" + VALUE_FILE
        if self.protocol in READ_ONLY_PROTOCOLS:
            return [value_path, path]
        return [path, value_path]

    def path_of_root(self) -> str:
        """Return the path of the root folder."""
        root_marker = self.fs.root_marker  # opening the file system sets _base
        return self._base.rstrip("/") or root_marker

    def key_of(self, path: str) -> str | None:
        """Return the key stored at a listed ``path``, or None if it holds none."""
        if not path.startswith(self._base) or path.endswith("/"):
            return None
        key = path[len(self._base) :]
        if self.protocol in READ_ONLY_PROTOCOLS:
            key = unquote(key)  # links in HTML listings are percent-encoded
        if key.endswith("/" + VALUE_FILE) and not self.flat:
            key = key[: -len(VALUE_FILE) - 1]
        try:
            return check_key(key)
        except InvalidKeyError:
            return None  # kvmap's own files, and names no key can have

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Exception as error:
            self._raise(error)

    def __getstate__(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "read_only": self.read_only,
            "storage_options": self.storage_options,
            "pid": os.getpid(),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        in_memory = uri_scheme(state["uri"]) == "memory"
        if in_memory and state.get("pid", os.getpid()) != os.getpid():
            raise ProcessLocalError(
                f"{redact_uri(state['uri'])} lives in the memory of the process "
                "that pickled it: another process would see an empty store and "
                "its writes would be lost. Use a file, redis, sql or s3 URI."
            )
        self.__init__(  # type: ignore[misc]
            state["uri"], read_only=state["read_only"], **state["storage_options"]
        )
