"""HTTP stores: read-only views of a folder served by a loopback web server."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

import kvmap
from kvmap import ReadOnlyError
from kvmap.backends.fsspec import FsspecBackend
from tests.factories.s3 import free_port

FILES = {
    "hello.txt": b"hello",
    "with space.txt": b"spaced",
    "nested/deep/value.bin": b"\x00\x01deep",
    "folder/.kvmap-value": b"folder's own value",
    "folder/child": b"child",
    "pct%41.txt": b"percent",
    "hash#1": b"hash",
    "q?x": b"question",
    "sub/a b%20c": b"escaped space",
}
ODD_NAMES = ["pct%41.txt", "hash#1", "q?x", "sub/a b%20c"]
FAILING = {"/broken": 500, "/forbidden": 403}


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serve the test folder, count requests, and fail on FAILING paths."""

    requests = 0

    def do_GET(self):
        type(self).requests += 1
        if self.path in FAILING:
            self.send_error(FAILING[self.path])
            return
        super().do_GET()

    def do_HEAD(self):
        type(self).requests += 1
        super().do_HEAD()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    for name, content in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    handler = functools.partial(Handler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


@pytest.fixture
def store(site):
    return FsspecBackend(site + "/")


def test_every_served_file_is_a_key_with_its_content(store):
    assert sorted(store) == sorted(FILES.keys() - {"folder/.kvmap-value"} | {"folder"})
    assert {key: store[key] for key in store} == {
        **{key: value for key, value in FILES.items() if "kvmap" not in key},
        "folder": b"folder's own value",
    }


@pytest.mark.parametrize("key", ODD_NAMES)
def test_names_with_percent_hash_and_question_mark_are_exact(store, key):
    assert key in list(store)
    assert store[key] == FILES[key]
    assert key in store
    assert store.getitems([key, "missing"]) == {key: FILES[key]}
    assert store.getrange(key, 1, 3) == FILES[key][1:3]
    assert list(store.keys(prefix=key)) == [key]


@pytest.mark.parametrize("folder", ["nested", "nested/deep", "sub"])
def test_a_folder_is_not_a_value(store, folder):
    assert folder not in list(store)
    with pytest.raises(KeyError):
        store[folder]
    assert folder not in store
    assert store.getitems([folder, "hello.txt"]) == {"hello.txt": b"hello"}
    with pytest.raises(KeyError):
        store.getrange(folder, 2, 10)


def test_missing_file_is_a_keyerror(store):
    with pytest.raises(KeyError):
        store["missing"]
    assert "missing" not in store
    assert "hello.txt" in store
    assert "folder" in store


def test_getitems_reads_a_batch_and_leaves_out_missing_files(store):
    found = store.getitems(["hello.txt", "folder", "missing", "nested/deep/value.bin"])
    assert found == {
        "hello.txt": b"hello",
        "folder": b"folder's own value",
        "nested/deep/value.bin": b"\x00\x01deep",
    }


def test_listing_a_prefix_and_a_sub_path(store, site):
    assert sorted(store.keys(prefix="nested/")) == ["nested/deep/value.bin"]
    assert list(FsspecBackend(site + "/nested")) == ["deep/value.bin"]


def test_getrange_reads_part_of_a_file(store):
    assert store.getrange("hello.txt", 1, 3) == b"el"
    assert store.getrange("hello.txt", 0, 100) == b"hello"


@pytest.mark.parametrize("path", sorted(FAILING))
def test_server_errors_are_not_missing_keys(store, path):
    key = path.lstrip("/")
    for action in (lambda: store[key], lambda: store.getitems(["hello.txt", key])):
        with pytest.raises(Exception) as raised:
            action()
        assert not isinstance(raised.value, KeyError)
        assert getattr(raised.value, "status", None) == FAILING[path]


def test_unreachable_server_is_not_a_missing_key():
    store = FsspecBackend(f"http://127.0.0.1:{free_port()}/")
    with pytest.raises(OSError) as raised:
        store["key"]
    assert not isinstance(raised.value, KeyError)


def test_listing_an_unreachable_server_raises_instead_of_looking_empty():
    uri = f"http://127.0.0.1:{free_port()}/"
    for store in (FsspecBackend(uri), kvmap.get_store(uri, serialization_mode="raw")):
        for action in (list, len, lambda store: list(store.keys(prefix="a/"))):
            with pytest.raises(OSError) as raised:
                action(store)
            assert "127.0.0.1" in str(raised.value)


def test_writes_and_deletes_are_refused_before_any_request(store):
    store["hello.txt"]
    before = Handler.requests
    for action in (
        lambda: store.__setitem__("new", b"value"),
        lambda: store.__delitem__("hello.txt"),
        lambda: store.setitems({"new": b"value"}),
        lambda: store.delitems(["hello.txt"]),
        lambda: store.clear(),
    ):
        with pytest.raises(ReadOnlyError, match="read-only"):
            action()
    assert Handler.requests == before
    assert store["hello.txt"] == b"hello"


def test_get_store_over_http_reads_values_raw(site):
    store = kvmap.get_store(site + "/", serialization_mode="raw")
    assert store["hello.txt"] == b"hello"
    with pytest.raises(ReadOnlyError):
        store["hello.txt"] = b"changed"
