"""What is specific to the generic fsspec backend.

The contract suite runs on it over fsspec's memory file system (see
``tests/factories/local.py``). These tests use a recording file system to
check where options go and which errors count as missing, and a zip file to
read a store that another tool wrote.
"""

from __future__ import annotations

import pickle
import uuid
import zipfile
from typing import ClassVar

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem
from fsspec.spec import AbstractFileSystem

import kvmap
from kvmap import ConfigError, ProcessLocalError, ReadOnlyError
from kvmap.backends import backend_class
from kvmap.backends.fsspec import VALUE_FILE, FsspecBackend

PROTOCOL = "kvmaptestfs"


class RecordingFileSystem(MemoryFileSystem):
    """A memory file system that records its options and per-call keywords.

    Paths in ``failures`` raise the given exception when read or inspected.
    """

    protocol = PROTOCOL
    root_marker = "/"
    created: ClassVar[list[dict]] = []
    call_keywords: ClassVar[list[dict]] = []
    failures: ClassVar[dict[str, BaseException]] = {}

    def __init__(self, colour: str = "none", flag: bool = True):
        super().__init__()
        type(self).created.append({"colour": colour, "flag": flag})

    def _fail(self, path):
        error = self.failures.get(self._strip_protocol(path))
        if error is not None:
            raise error

    def cat_file(self, path, start=None, end=None, **kwargs):
        self.call_keywords.append(kwargs)
        self._fail(path)
        return super().cat_file(path, start=start, end=end, **kwargs)

    def pipe_file(self, path, value, **kwargs):
        self.call_keywords.append(kwargs)
        return super().pipe_file(path, value, **kwargs)

    def info(self, path, **kwargs):
        self.call_keywords.append(kwargs)
        self._fail(path)
        return super().info(path, **kwargs)

    def ls(self, path, detail=True, **kwargs):
        self._fail(path)
        return super().ls(path, detail=detail, **kwargs)

    # List folder by folder through walk(), as most file systems do, instead
    # of the memory file system's single pass.
    find = AbstractFileSystem.find


fsspec.register_implementation(PROTOCOL, RecordingFileSystem, clobber=True)


@pytest.fixture
def recording():
    RecordingFileSystem.created.clear()
    RecordingFileSystem.call_keywords.clear()
    RecordingFileSystem.failures.clear()
    root = f"/{uuid.uuid4().hex}"
    yield root
    RecordingFileSystem.failures.clear()


def test_unknown_protocols_of_fsspec_use_the_generic_backend():
    assert backend_class(f"{PROTOCOL}://root") is FsspecBackend
    assert backend_class("zip://::archive.zip") is FsspecBackend


def test_options_reach_the_constructor_and_no_other_call(recording):
    store = FsspecBackend(
        f"{PROTOCOL}://{recording}", colour="blue", skip_instance_cache=True
    )
    store["a"] = b"1"
    store.setitems({"a/b": b"2", "c": b"3"})
    assert store.getitems(["a", "a/b", "missing"]) == {"a": b"1", "a/b": b"2"}
    assert "c" in store
    assert RecordingFileSystem.created[-1]["colour"] == "blue"
    assert RecordingFileSystem.call_keywords
    assert all(
        "colour" not in keywords for keywords in RecordingFileSystem.call_keywords
    )


def test_boolean_options_from_the_environment_arrive_as_booleans(
    recording, monkeypatch
):
    monkeypatch.setenv("KVMAP_URI", f"{PROTOCOL}://{recording}")
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__FLAG", "false")
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__COLOUR", "green")
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__SKIP_INSTANCE_CACHE", "true")
    store = kvmap.get_store()
    store["key"] = "value"
    assert store["key"] == "value"
    assert RecordingFileSystem.created[-1]["flag"] is False
    assert RecordingFileSystem.created[-1]["colour"] == "green"


def test_options_the_file_system_refuses_are_a_config_error(recording):
    store = FsspecBackend(f"{PROTOCOL}://{recording}", unknown_option=1, secret="x")
    with pytest.raises(ConfigError, match="unknown_option") as raised:
        store["key"]
    assert "'x'" not in str(raised.value)


@pytest.mark.parametrize(
    "error", [PermissionError("denied"), TimeoutError("slow"), OSError(5, "I/O")]
)
def test_errors_other_than_missing_are_raised(recording, error):
    store = FsspecBackend(f"{PROTOCOL}://{recording}", skip_instance_cache=True)
    store.setitems({"good": b"1", "bad": b"2"})
    RecordingFileSystem.failures[store.path("bad")] = error
    with pytest.raises(type(error)):
        store["bad"]
    with pytest.raises(type(error)):
        store.getitems(["good", "bad"])
    with pytest.raises(type(error)):
        "bad" in store  # noqa: B015
    assert store.getitems(["good", "missing"]) == {"good": b"1"}


@pytest.mark.parametrize(
    "error",
    [ConnectionRefusedError("refused"), PermissionError("denied"), OSError(5, "I/O")],
)
@pytest.mark.parametrize("folder", ["", "sub"])
def test_listing_raises_errors_instead_of_skipping_folders(recording, error, folder):
    store = FsspecBackend(f"{PROTOCOL}://{recording}", skip_instance_cache=True)
    store.setitems({"top": b"1", "sub/key": b"2"})
    assert sorted(store) == ["sub/key", "top"]
    failing = store.path(folder) if folder else store.path_of_root()
    RecordingFileSystem.failures[failing] = error
    actions = [lambda: list(store), lambda: len(store)]
    if folder:
        actions.append(lambda: list(store.keys(prefix=f"{folder}/")))
    for action in actions:
        with pytest.raises(type(error)):
            action()
    RecordingFileSystem.failures.clear()
    assert list(store.keys(prefix="missing/")) == []


def test_missing_exceptions_is_a_named_set_subclasses_can_widen(recording):
    class LenientBackend(FsspecBackend):
        missing_exceptions = (FileNotFoundError, TimeoutError)

    store = LenientBackend(f"{PROTOCOL}://{recording}", skip_instance_cache=True)
    store["bad"] = b"1"
    RecordingFileSystem.failures[store.path("bad")] = TimeoutError("slow")
    with pytest.raises(KeyError):
        store["bad"]


def test_a_key_that_is_also_a_folder_keeps_its_value_in_a_value_file(recording):
    store = FsspecBackend(f"memory://{recording}")
    store["a"] = b"parent"
    store["a/b"] = b"child"
    filesystem = fsspec.filesystem("memory")
    assert filesystem.cat_file(f"{recording}/a/{VALUE_FILE}") == b"parent"
    assert filesystem.cat_file(f"{recording}/a/b") == b"child"
    assert sorted(store) == ["a", "a/b"]
    store.setitems({"x": b"1", "x/y": b"2", "x/y/z": b"3"})
    assert store.getitems(["x", "x/y", "x/y/z"]) == {
        "x": b"1",
        "x/y": b"2",
        "x/y/z": b"3",
    }
    store.clear()
    assert list(store) == []


def test_keys_with_glob_characters_are_exact(recording):
    store = FsspecBackend(f"memory://{recording}")
    store.setitems({"a*": b"star", "ab": b"plain", "[x]": b"bracket"})
    assert store.getitems(["a*", "[x]", "b*"]) == {"a*": b"star", "[x]": b"bracket"}
    store.delitems(["a*"])
    assert sorted(store) == ["[x]", "ab"]


def test_read_only_option_refuses_writes_before_opening_anything(recording):
    store = FsspecBackend(f"{PROTOCOL}://{recording}", read_only=True)
    for action in (
        lambda: store.__setitem__("key", b"value"),
        lambda: store.__delitem__("key"),
        lambda: store.setitems({"key": b"value"}),
        lambda: store.delitems(["key"]),
        lambda: store.clear(),
    ):
        with pytest.raises(ReadOnlyError, match="read-only"):
            action()
    assert RecordingFileSystem.created == []


def test_zip_archive_is_a_store_to_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with zipfile.ZipFile("archive.zip", "w") as archive:
        archive.writestr("x", b"X")
        archive.writestr("dir/y", b"Y")
        archive.writestr(f"dir/{VALUE_FILE}", b"dir's value")
    store = kvmap.get_store("zip://::archive.zip", serialization_mode="raw")
    assert sorted(store) == ["dir", "dir/y", "x"]
    assert store["dir"] == b"dir's value"
    assert store.getitems(["x", "dir/y", "missing"]) == {"x": b"X", "dir/y": b"Y"}
    assert "missing" not in store


def test_fsspec_memory_store_refuses_to_unpickle_in_another_process():
    store = FsspecBackend(f"memory://kvmap-pickle/{uuid.uuid4().hex}")
    store["key"] = b"value"
    assert pickle.loads(pickle.dumps(store))["key"] == b"value"
    state = store.__getstate__()
    state["pid"] = -1  # as if the pickle had been made by another process
    copy = FsspecBackend.__new__(FsspecBackend)
    with pytest.raises(ProcessLocalError, match="another process"):
        copy.__setstate__(state)
