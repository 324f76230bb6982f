"""The S3 backend: each key is one object under ``s3://bucket/prefix``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

from kvmap.backends.fsspec import FsspecBackend
from kvmap.errors import BackendUnavailableError, ConfigError, InvalidKeyError
from kvmap.keys import check_key
from kvmap.redact import redact_uri
from kvmap.store import BATCH_SIZE, batched

__all__ = ["S3Backend"]

#: Error codes of a FileNotFoundError that do not mean a missing object.
NOT_MISSING_CODES = frozenset({"NoSuchBucket"})
#: s3fs reads this part of a path as an object version, not as a name.
VERSION_MARKER = "?versionId="


class S3Backend(FsspecBackend):
    """Keep each value as one S3 object: key ``"a/b"`` is ``<prefix>/a/b``.

    ``uri`` is ``s3://bucket`` or ``s3://bucket/prefix`` (``s3a://`` too);
    the store sees only the objects under the prefix. Options go to
    :class:`s3fs.S3FileSystem` and nowhere else: ``key``, ``secret``,
    ``token``, ``anon``, ``endpoint_url``, ``client_kwargs`` (such as
    ``{"endpoint_url": ..., "region_name": ...}``), ``config_kwargs`` and any
    other s3fs option. ``max_concurrency`` defaults to 1, so that a read is
    one GET; ``read_only=True`` refuses writes before any request.

    Values are ``bytes``. A missing object raises ``KeyError``; a missing
    bucket raises ``FileNotFoundError`` naming the bucket, a denied access
    ``PermissionError``, an unreachable endpoint
    :class:`~kvmap.errors.BackendUnavailableError`, and none of them is ever
    treated as a missing key, in :meth:`getitems` either. Names are exact:
    ``"a"`` and ``"a/b"`` are two objects, and zero-byte folder markers
    (``"prefix/"``) made by other tools are never listed.

    ``getitems`` is one concurrent ``cat``, ``setitems`` one concurrent
    ``pipe``, ``delitems`` one DeleteObjects request per 1000 keys, ``in`` one
    HEAD request. ``len()`` and iteration page through ListObjectsV2 under the
    prefix (1000 keys a request); a key prefix narrows the listing on the
    server.

    Notes
    -----
    Safe across threads: s3fs runs every request on its own event loop
    thread. Each store has its own S3FileSystem (``skip_instance_cache``),
    opened on first use and again in a forked child, so no connection is
    shared across processes. The store pickles to its URI and options,
    credentials included. S3 gives read-after-write consistency; two writers
    of one key race, and the last completed PUT wins.
    """

    options: ClassVar[Mapping[str, Any]] = {
        "read_only": bool,
        "anon": bool,
        "key": str,
        "secret": str,
        "token": str,
        "username": str,
        "password": str,
        "profile": str,
        "endpoint_url": str,
        "use_ssl": bool,
        "requester_pays": bool,
        "cache_regions": bool,
        "max_concurrency": int,
        "client_kwargs": dict,
        "config_kwargs": dict,
        "s3_additional_kwargs": dict,
    }
    flat = True

    def __init__(self, uri: str, *, read_only: bool = False, **options: Any) -> None:
        super().__init__(uri, read_only=read_only, **options)
        self.bucket, self.prefix = _split_uri(uri)

    def open_filesystem(self) -> tuple[Any, str]:
        try:
            import s3fs
        except ImportError as error:
            raise ConfigError(
                f"{redact_uri(self.uri)!r} needs s3fs ({error}): "
                "pip install 'kvmap[s3]'"
            ) from None
        options = {"max_concurrency": 1, **self.storage_options}
        try:
            filesystem = s3fs.S3FileSystem(skip_instance_cache=True, **options)
            filesystem.connect()
        except (TypeError, ValueError) as error:
            raise ConfigError(
                f"s3fs refused the options {sorted(options)} of "
                f"{redact_uri(self.uri)!r}: {error}"
            ) from None
        return filesystem, self.bucket + "/" + self.prefix

    @property
    def endpoint(self) -> str:
        """The endpoint URL the options name, redacted, or AWS's default."""
        client_kwargs = self.storage_options.get("client_kwargs") or {}
        endpoint = self.storage_options.get("endpoint_url")
        endpoint = endpoint or client_kwargs.get("endpoint_url")
        return redact_uri(str(endpoint)) if endpoint else "the default AWS endpoint"

    def path(self, key: str) -> str:
        path = super().path(key)
        if VERSION_MARKER in key:
            raise InvalidKeyError(
                f"invalid key {key!r}: S3 keys may not contain {VERSION_MARKER!r}, "
                "which s3fs reads as an object version"
            )
        return path

    def is_missing(self, error: BaseException) -> bool:
        if not isinstance(error, self.missing_exceptions):
            return False
        return error_code(error) not in NOT_MISSING_CODES

    def translate(self, error: BaseException) -> BaseException:
        where = f"{redact_uri(self.uri)} at {self.endpoint}"
        if error_code(error) == "NoSuchBucket":
            return FileNotFoundError(
                f"S3 bucket {self.bucket!r} does not exist ({where}): "
                "create it or correct the URI"
            )
        kind = type(error).__name__
        if kind in ("EndpointConnectionError", "ConnectTimeoutError"):
            return BackendUnavailableError(f"cannot reach S3 for {where}: {error}")
        if kind in ("ReadTimeoutError", "ConnectionClosedError"):
            return TimeoutError(f"S3 did not answer in time for {where}: {error}")
        if isinstance(error, PermissionError):
            return PermissionError(f"S3 denied access to {where}: {error}")
        return error

    def _object_name(self, key: str) -> str:
        return self.path(key)[len(self.bucket) + 1 :]

    def __contains__(self, key: object) -> bool:
        name = self._object_name(check_key(key))
        try:
            self.fs.call_s3("head_object", Bucket=self.bucket, Key=name)
        except Exception as error:
            if not self.is_missing(error):
                self._raise(error)
            self._check_bucket()  # a HEAD 404 does not say which is missing
            return False
        return True

    def _check_bucket(self) -> None:
        try:
            self.fs.call_s3("head_bucket", Bucket=self.bucket)
        except FileNotFoundError as error:
            raise self.translate(_NoSuchBucket()) from error
        except Exception as error:
            self._raise(error)

    def getrange(self, key: str, start: int, stop: int | None = None) -> bytes:
        try:
            return super().getrange(key, start, stop)
        except OSError as error:
            if error_code(error) != "InvalidRange":
                raise
        return self[key][start:stop]  # the range starts past the end

    def __delitem__(self, key: str) -> None:
        self.refuse_if_read_only(f"delete key {key!r}")
        if key not in self:
            raise KeyError(key)
        self.delitems([key])

    def delitems(self, keys: Iterable[str]) -> None:
        self.refuse_if_read_only("delete a batch of keys")
        names = [self._object_name(key) for key in keys]
        for chunk in batched(names, BATCH_SIZE):
            objects = [{"Key": name} for name in chunk]
            request = {"Objects": objects, "Quiet": True}
            answer = self._call(
                self.fs.call_s3, "delete_objects", Bucket=self.bucket, Delete=request
            )
            if answer.get("Errors"):
                raise self._delete_error(answer["Errors"])

    def _delete_error(self, errors: list[dict[str, str]]) -> OSError:
        first = errors[0]
        key = first.get("Key", "")[len(self.prefix) :]
        message = (
            f"S3 did not delete {len(errors)} key(s) of {redact_uri(self.uri)}, "
            f"first {key!r}: {first.get('Code')} {first.get('Message', '')}"
        )
        if first.get("Code") == "AccessDenied":
            return PermissionError(message)
        return OSError(message)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        request = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
        root = self.bucket + "/"
        while True:
            page = self._call(self.fs.call_s3, "list_objects_v2", **request)
            for item in page.get("Contents", []):
                key = self.key_of(root + item["Key"])
                if key is not None:
                    yield key
            if not page.get("IsTruncated"):
                return
            request["ContinuationToken"] = page["NextContinuationToken"]


class _NoSuchBucket(FileNotFoundError):
    response: ClassVar[dict[str, Any]] = {"Error": {"Code": "NoSuchBucket"}}


def error_code(error: BaseException) -> str | None:
    """Return the S3 error code behind ``error`` (or its causes), if any."""
    current: BaseException | None = error
    for _ in range(4):
        if current is None:
            return None
        response = getattr(current, "response", None)
        if isinstance(response, Mapping):
            code = response.get("Error", {}).get("Code")
            return str(code) if code is not None else None
        current = current.__cause__
    return None


def _split_uri(uri: str) -> tuple[str, str]:
    rest = uri.split("://", 1)[-1].strip("/")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ConfigError(
            f"URI {redact_uri(uri)!r} names no bucket: use s3://bucket or "
            "s3://bucket/prefix"
        )
    if not prefix:
        return bucket, ""
    try:
        check_key(prefix)
    except InvalidKeyError as error:
        raise ConfigError(f"the prefix of URI {redact_uri(uri)!r}: {error}") from None
    return bucket, prefix + "/"
