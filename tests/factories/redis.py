"""Redis backends: the shared server, a server of our own, and fakeredis.

- ``redis``: the server at ``KVMAP_TEST_REDIS_URL`` (127.0.0.1:6379), each
  test under a fresh ``redis_prefix``, whose keys are deleted afterwards.
- ``redis-db``: a whole database of a ``redis-server`` these tests start on a
  free loopback port (never the shared one), emptied before each test, so the
  unprefixed code paths (``DBSIZE``) run against a real server too.
- ``fakeredis``: debug mode, the same backend over fakeredis.
"""

from __future__ import annotations

import atexit
import ctypes
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from urllib.parse import urlsplit

import pytest
import redis

from kvmap.backends.redis import RedisBackend
from tests.services import REDIS_URL, in_ci, require_port

FAKE_URL = "redis://127.0.0.1:6379/15"


def require_shared_redis() -> None:
    """Skip (fail under CI) when the shared Redis server is not running."""
    parts = urlsplit(REDIS_URL)
    require_port("Redis", parts.hostname or "127.0.0.1", parts.port or 6379)


def unique_prefix() -> str:
    return f"kvmap-test-{uuid.uuid4().hex[:12]}"


def free_port() -> int:
    """A loopback TCP port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OwnRedisServer:
    """A ``redis-server`` process on a free loopback port, started by the tests.

    ``arguments`` are extra server options (``["--requirepass", "..."]``).
    The data folder persists across :meth:`restart`, so keys written before a
    restart come back after it (the server saves on shutdown).
    """

    def __init__(self, *arguments: str) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            reason = "redis-server is not installed"
            if in_ci():
                pytest.fail(f"{reason}; CI must test every backend", pytrace=False)
            pytest.skip(reason)
        self.executable = executable
        self.arguments = list(arguments)
        self.port = free_port()
        self.folder = tempfile.mkdtemp(prefix="kvmap-redis-")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        command = [self.executable, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--dir", self.folder, "--dbfilename", "dump.rdb"]
        command += ["--save", "", "--appendonly", "no", *self.arguments]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_stop_with_parent,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """Stop the server; it saves its data first (SIGTERM makes it save)."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self, **options: object) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, **options)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _stop_with_parent() -> None:
    # Linux: the server gets SIGTERM when the test process dies, even killed.
    try:
        libc = ctypes.CDLL(None)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


_session_server: OwnRedisServer | None = None


def session_server() -> OwnRedisServer:
    """The server of our own that the whole test session shares."""
    global _session_server
    if _session_server is None:
        _session_server = OwnRedisServer()
        atexit.register(_session_server.remove)
    return _session_server


def shared(tmp_path, request):
    require_shared_redis()
    backend = RedisBackend(REDIS_URL, redis_prefix=unique_prefix(), debug=False)
    request.addfinalizer(backend.close)
    request.addfinalizer(backend.clear)
    return backend


def own_database(tmp_path, request):
    server = session_server()
    server.client().flushdb()
    backend = RedisBackend(server.url, debug=False)
    request.addfinalizer(backend.close)
    return backend


def fake(tmp_path, request):
    backend = RedisBackend(FAKE_URL, debug=True)
    backend.clear()
    request.addfinalizer(backend.clear)
    return backend


FACTORIES = {"redis": shared, "redis-db": own_database, "fakeredis": fake}
