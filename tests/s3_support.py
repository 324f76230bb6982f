"""Fixtures of the S3 backend tests (the tests/test_s3_*.py modules).

Each module imports the fixtures it uses by name, so that pytest finds them
there. Every test runs against the session's moto server over real HTTP.
"""

from __future__ import annotations

import pytest

from kvmap.backends.s3 import S3Backend
from tests.factories.s3 import admin_filesystem, make_bucket, moto_endpoint, s3_options

__all__ = ["SECRET", "admin", "bucket", "endpoint", "open_s3"]

SECRET = "s3cr3t-not-to-be-shown"


@pytest.fixture(scope="session")
def endpoint(request):
    return moto_endpoint(request.config)


@pytest.fixture
def bucket(request, endpoint):
    return make_bucket(request, endpoint)


@pytest.fixture
def admin(endpoint):
    return admin_filesystem(endpoint)


def open_s3(endpoint, uri, **options):
    return S3Backend(uri, **{**s3_options(endpoint), **options})
