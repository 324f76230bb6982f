"""Hide secrets in URIs and option mappings before they are shown anywhere."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["MASK", "is_secret_name", "redact_options", "redact_uri"]

MASK = "***"

_SECRET_WORDS = ("password", "passwd", "secret", "token", "signing_key", "credential")
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>[^@/]*)@")


def is_secret_name(name: str) -> bool:
    """Tell whether an option or query parameter named ``name`` holds a secret."""
    lowered = name.lower()
    return lowered in ("key", "pwd") or any(word in lowered for word in _SECRET_WORDS)


def redact_uri(uri: str) -> str:
    """Return ``uri`` with its password and secret query values masked."""
    match = _USERINFO.match(uri)
    if match and ":" in match["info"]:
        user = match["info"].split(":", 1)[0]
        uri = f"{match['scheme']}{user}:{MASK}@{uri[match.end() :]}"
    if "?" not in uri:
        return uri
    parts = urlsplit(uri)
    query = [
        (name, MASK if is_secret_name(name) else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


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
