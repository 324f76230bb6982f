"""Hide secrets in URIs and option mappings before they are shown anywhere."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

__all__ = ["MASK", "is_secret_name", "redact_options", "redact_uri"]

MASK = "***"

_SECRET_WORDS = (
    "pass",
    "secret",
    "token",
    "credential",
    "private",
    "pkey",
    "auth",
    "signature",
    "_key",
    "key_",
    "apikey",
    "connection_string",
    "sas",
)
_SECRET_NAMES = frozenset({"key", "pwd", "sig", "x-amz-signature", "x-amz-credential"})
#: Schemes whose user part alone can be a secret (a token sent as the user name).
_TOKEN_USER_SCHEMES = ("http://", "https://", "ftp://", "ws://", "wss://")
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>[^@/]*)@")


def is_secret_name(name: str) -> bool:
    """Tell whether an option or query parameter named ``name`` holds a secret."""
    lowered = name.lower()
    return lowered in _SECRET_NAMES or any(word in lowered for word in _SECRET_WORDS)


def redact_uri(uri: str) -> str:
    """Return ``uri`` with its password and secret query values masked."""
    match = _USERINFO.match(uri)
    if match and ":" in match["info"]:
        user = match["info"].split(":", 1)[0]
        uri = f"{match['scheme']}{user}:{MASK}@{uri[match.end() :]}"
    elif match and match["info"] and match["scheme"].lower() in _TOKEN_USER_SCHEMES:
        uri = f"{match['scheme']}{MASK}@{uri[match.end() :]}"
    if "?" not in uri:
        return uri
    # Rebuild the query only: urlunsplit would drop the "//" of unix:///path.
    base, _, rest = uri.partition("?")
    query, hash_sign, fragment = rest.partition("#")
    shown = [
        (name, MASK if is_secret_name(name) else value)
        for name, value in parse_qsl(query, keep_blank_values=True)
    ]
    return f"{base}?{urlencode(shown, safe='*')}{hash_sign}{fragment}"


def redact_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``options`` with every secret value masked, at any depth."""
    shown: dict[str, Any] = {}
    for name, value in options.items():
        if isinstance(value, Mapping):
            shown[name] = redact_options(value)
        elif is_secret_name(str(name)) and value is not None:
            shown[name] = MASK
        elif isinstance(value, str) and "://" in value:
            shown[name] = redact_uri(value)
        else:
            shown[name] = value
    return shown
