"""How the Redis backend names keys and commands on the server.

Key ``k`` of a store with ``redis_prefix`` ``p`` is the Redis key ``p:k``.
The prefix may not contain the separator, so the first ``:`` of a name ends
its prefix, and stores with different prefixes never share a name.
"""

from __future__ import annotations

from typing import Any

from kvmap.errors import ConfigError
from kvmap.store import check_ttl

__all__ = [
    "MAX_TTL",
    "SEPARATOR",
    "check_prefix",
    "flat_mset",
    "glob_escape",
    "milliseconds",
]

#: What joins ``redis_prefix`` and a key in the Redis key name.
SEPARATOR = ":"
#: The longest ttl Redis takes, in seconds: it refuses an expiry time past
#: 2**63 - 1 milliseconds after 1970, so this leaves room for the clock.
MAX_TTL = 2.0**62 / 1000
_GLOB = str.maketrans({char: "\\" + char for char in "*?[]\\"})


def glob_escape(text: str) -> str:
    """Return ``text`` with Redis glob characters escaped, to match it literally."""
    return text.translate(_GLOB)


def check_prefix(given: Any) -> str:
    """Return ``given`` as a ``redis_prefix`` (a trailing ``:`` dropped), or raise.

    Raises
    ------
    ConfigError
        If it is not a str, or holds the separator or a control character.
    """
    if not isinstance(given, str):
        raise ConfigError(f"redis_prefix must be a str, not {type(given).__name__}")
    prefix = given.removesuffix(SEPARATOR)
    if given and not prefix.strip():
        raise ConfigError(
            f"redis_prefix={given!r} is not valid: it names no prefix; leave it "
            "unset for a store that owns the whole database"
        )
    if SEPARATOR in prefix or not prefix.isprintable():
        raise ConfigError(
            f"redis_prefix={prefix!r} is not valid: it may not contain "
            f"{SEPARATOR!r} (kvmap puts {SEPARATOR!r} between the prefix and each "
            "key, so stores with different prefixes never share keys) nor "
            "control characters; use e.g. 'team.app' or 'team/app'"
        )
    return prefix


def flat_mset(names: list[bytes], values: list[bytes]) -> list[bytes]:
    """Return the command ``MSET name1 value1 name2 value2 ...``."""
    command = [b"MSET"] * (2 * len(names) + 1)
    command[1::2] = names
    command[2::2] = values
    return command


def milliseconds(ttl: float | None) -> int:
    """Return ``ttl`` seconds as Redis ``PX`` milliseconds, at least 1; 0 = never.

    Raises
    ------
    ValueError
        If ``ttl`` is not a number of seconds >= 0.
    """
    seconds = check_ttl(ttl)
    if not seconds:
        return 0
    if seconds > MAX_TTL:
        raise ValueError(
            f"ttl must be at most {MAX_TTL:.0f} seconds on Redis, got {ttl!r}"
        )
    return max(1, round(seconds * 1000))
