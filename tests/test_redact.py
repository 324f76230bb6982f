"""Secrets are masked in URIs and option mappings before they are shown."""

from __future__ import annotations

import pytest

from kvmap.redact import MASK, redact_options, redact_uri


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("redis://:pw@host:6379/0", "redis://:***@host:6379/0"),
        ("postgresql://user:pw@host/db", "postgresql://user:***@host/db"),
        ("postgresql://postgres@host/db", "postgresql://postgres@host/db"),
        ("https://TOKEN@host/data", "https://***@host/data"),
        ("s3://b/p?secret=x&region=eu", "s3://b/p?secret=***&region=eu"),
        ("https://h/f?X-Amz-Signature=abc&sig=def", None),
        ("sftp://h/x?pass=p", "sftp://h/x?pass=***"),
    ],
)
def test_uri_secrets_are_masked(uri, shown):
    redacted = redact_uri(uri)
    if shown is not None:
        assert redacted == shown
    for secret in ("pw", "TOKEN", "abc", "def", "=x&", "=p"):
        if secret in uri:
            assert secret not in redacted


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "secret",
        "key",
        "token",
        "passphrase",
        "pkey",
        "private_key",
        "account_key",
        "connection_string",
        "access_key",
        "api_key",
        "aws_secret_access_key",
        "Authorization",
        "signing_key",
    ],
)
def test_secret_options_are_masked_at_any_depth(name):
    shown = redact_options({"outer": {name: "hunter2"}, "table": "kv"})
    assert shown == {"outer": {name: MASK}, "table": "kv"}


def test_uris_without_a_host_keep_their_form():
    assert redact_uri("unix:///tmp/redis.sock?db=1") == "unix:///tmp/redis.sock?db=1"
    assert (
        redact_uri("sqlite:////abs/x.db?timeout=5") == "sqlite:////abs/x.db?timeout=5"
    )
