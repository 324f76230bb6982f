"""Backends that need no service: memory, local files, fsspec over memory."""

from __future__ import annotations

import uuid

from kvmap.backends.file import FileBackend
from kvmap.backends.fsspec import FsspecBackend
from kvmap.backends.memory import MemoryBackend


def memory(tmp_path, request):
    return MemoryBackend()


def file(tmp_path, request):
    return FileBackend(tmp_path / "store")


def fsspec_memory(tmp_path, request):
    backend = FsspecBackend(f"memory://kvmap-tests/{uuid.uuid4().hex}")
    request.addfinalizer(backend.clear)
    return backend


FACTORIES = {"memory": memory, "file": file, "fsspec-memory": fsspec_memory}
