"""The rules every key follows, the same on every backend.

Keys are ``str``; ``"/"`` separates levels. A key is refused with
:class:`~kvmap.errors.InvalidKeyError` (a ``ValueError``) when it could not be
stored and listed back unchanged everywhere:

- it is empty, starts or ends with ``"/"``, or has an empty segment (``"a//b"``);
- a segment is ``"."`` or ``".."`` (it would escape or alias a folder);
- it holds a NUL character or a lone surrogate (it would not encode as UTF-8);
- a segment is longer than 255 bytes, or the key longer than 1024 bytes, in UTF-8
  (file systems and SQL indexes cap names near these sizes);
- a segment starts with ``".kvmap-"``, a name kvmap keeps for its own files.
"""

from __future__ import annotations

from typing import Any

from kvmap.errors import InvalidKeyError

__all__ = [
    "MAX_KEY_BYTES",
    "MAX_SEGMENT_BYTES",
    "RESERVED_SEGMENT_PREFIX",
    "check_key",
    "check_prefix",
]

MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255
RESERVED_SEGMENT_PREFIX = ".kvmap-"


def check_key(key: Any) -> str:
    """Return ``key`` if it follows the key rules, else raise.

    Raises
    ------
    TypeError
        If ``key`` is not a ``str``.
    InvalidKeyError
        If ``key`` breaks a rule; the message names the key and the rule.
    """
    if type(key) is not str:
        if not isinstance(key, str):
            raise TypeError(f"keys must be str, not {type(key).__name__}: {key!r}")
        key = str(key)
    if (
        not key
        or key[0] == "/"
        or key[-1] == "/"
        or "//" in key
        or "\x00" in key
        or "." in key
        or not key.isascii()
        or len(key) > MAX_SEGMENT_BYTES // 4
    ):
        _check_slowly(key)
    return key  # type: ignore[no-any-return]


def check_prefix(prefix: Any) -> str:
    """Return ``prefix`` if every complete segment of it follows the key rules.

    A prefix lists the keys that start with it: ``""`` lists everything, and
    its last segment may be partial (``"runs/7"`` lists ``"runs/70"`` too). The
    segments before the last ``"/"`` are checked as a key, so a prefix can
    never reach outside the store (``"../"`` is refused).
    """
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be str, not {type(prefix).__name__}")
    folder = prefix.rpartition("/")[0]
    if folder:
        check_key(folder)
    if "\x00" in prefix:
        _refuse(prefix, "a prefix may not contain the NUL character")
    return prefix


def _check_slowly(key: str) -> None:
    if not key:
        _refuse(key, "a key may not be empty")
    if key[0] == "/" or key[-1] == "/":
        _refuse(key, "a key may not start or end with '/'")
    if "\x00" in key:
        _refuse(key, "a key may not contain the NUL character")
    try:
        encoded_length = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        _refuse(key, "a key must be valid Unicode (no lone surrogates)")
    if encoded_length > MAX_KEY_BYTES:
        _refuse(key, f"a key may be at most {MAX_KEY_BYTES} bytes in UTF-8")
    for segment in key.split("/"):
        _check_segment(key, segment)


def _check_segment(key: str, segment: str) -> None:
    if not segment:
        _refuse(key, "a key may not have an empty segment ('//')")
    if segment in (".", ".."):
        _refuse(key, "a key may not have a '.' or '..' segment")
    if segment.startswith(RESERVED_SEGMENT_PREFIX):
        rule = f"segments starting with {RESERVED_SEGMENT_PREFIX!r} are reserved"
        _refuse(key, rule)
    if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
        _refuse(key, f"a segment may be at most {MAX_SEGMENT_BYTES} bytes in UTF-8")


def _refuse(key: str, rule: str) -> None:
    shown = key if len(key) <= 80 else key[:77] + "..."
    raise InvalidKeyError(f"invalid key {shown!r}: {rule}")
