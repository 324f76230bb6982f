"""S3 backends on a moto server that the tests start on a free loopback port.

The server is a separate process (``python -m moto.server``), so s3fs talks
to it over real HTTP. One server serves the whole session; every backend gets
a bucket of its own, deleted after its test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid

import pytest

from kvmap.backends.s3 import S3Backend

#: Credentials moto accepts; it checks none unless auth is switched on.
CREDENTIALS = {"key": "testing", "secret": "testing"}
REGION = "us-east-1"

_servers: dict[str, str] = {}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_moto(config, environment: dict[str, str] | None = None) -> str:
    """Start a moto server process, stopped when the session ends; return its URL.

    ``environment`` adds variables for the server process only (for example
    ``INITIAL_NO_AUTH_ACTION_COUNT`` to make it check credentials).
    """
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(
        command,
        env={**os.environ, **(environment or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )
    config.add_cleanup(lambda: _stop(process))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"moto server exited with code {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    pytest.fail("moto server did not start within 60 seconds")


def _die_with_parent() -> None:
    # On Linux, ask the kernel to stop the server if the test process is
    # killed before its cleanup runs; elsewhere the cleanup alone stops it.
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        set_death_signal = 1  # PR_SET_PDEATHSIG
        ctypes.CDLL(None).prctl(set_death_signal, signal.SIGTERM)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def moto_endpoint(config) -> str:
    """The URL of the session's shared moto server, started on first use."""
    if "shared" not in _servers:
        _servers["shared"] = start_moto(config)
    return _servers["shared"]


def s3_options(endpoint: str) -> dict:
    """Backend options for the moto server at ``endpoint``."""
    client_kwargs = {"endpoint_url": endpoint, "region_name": REGION}
    return {**CREDENTIALS, "client_kwargs": client_kwargs}


def admin_filesystem(endpoint: str):
    """An s3fs file system for setting up the server at ``endpoint``."""
    import s3fs

    return s3fs.S3FileSystem(**s3_options(endpoint))


def make_bucket(request, endpoint: str) -> str:
    """Create a bucket for one test, emptied and deleted after it."""
    filesystem = admin_filesystem(endpoint)
    bucket = f"kvmap-{uuid.uuid4().hex[:16]}"
    filesystem.call_s3("create_bucket", Bucket=bucket)

    def remove() -> None:
        # Object by object: s3fs's recursive rm would trip on odd names.
        while True:
            page = filesystem.call_s3("list_objects_v2", Bucket=bucket)
            objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if not objects:
                break
            delete = {"Objects": objects, "Quiet": True}
            filesystem.call_s3("delete_objects", Bucket=bucket, Delete=delete)
        filesystem.call_s3("delete_bucket", Bucket=bucket)

    request.addfinalizer(remove)
    return bucket


def s3_sub_path(tmp_path, request):
    endpoint = moto_endpoint(request.config)
    bucket = make_bucket(request, endpoint)
    return S3Backend(f"s3://{bucket}/sub/path", **s3_options(endpoint))


FACTORIES = {"s3": s3_sub_path}
