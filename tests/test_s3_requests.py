"""How many requests S3 batches and listings send, counted by spies on s3fs.

Against a moto server over real HTTP.
"""

from __future__ import annotations

import kvmap
from tests.factories.s3 import s3_options
from tests.s3_support import bucket as bucket
from tests.s3_support import endpoint as endpoint
from tests.s3_support import open_s3


def test_batches_are_bulk_requests(endpoint, bucket):
    store = open_s3(endpoint, f"s3://{bucket}/batch")
    calls = _spy(store, ["cat", "pipe", "cat_file", "pipe_file"])
    requests = _spy_requests(store)
    pairs = {f"k/{number}": bytes([number % 256]) for number in range(1500)}
    store.setitems(pairs)
    assert store.getitems([*pairs, "missing"]) == pairs
    store.delitems([*pairs, "missing"])
    assert [name for name, _ in calls] == ["pipe", "cat"]
    assert len(calls[1][1][0]) == 1501
    assert [name for name, _ in requests] == ["delete_objects", "delete_objects"]
    assert list(store) == []


def test_ranged_batches_are_one_concurrent_call(endpoint, bucket):
    store = open_s3(endpoint, f"s3://{bucket}/ranges")
    store.setitems({"long": b"0123456789", "short": b"01", "empty": b""})
    calls = _spy(store, ["cat_ranges", "cat_file"])
    found = store.getranges(["long", "short", "empty", "missing"], 2, 5)
    assert found == {"long": b"234", "short": b"", "empty": b""}
    assert calls[0][0] == "cat_ranges"
    assert len(calls[0][1][0]) == 4


def test_listing_through_the_ttl_layer_reads_heads_in_one_batch(endpoint, bucket):
    store = kvmap.get_store(f"s3://{bucket}/listing", **s3_options(endpoint))
    store.setitems({f"k{number}": b"x" * 100 for number in range(50)}, ttl=60)
    backend = store.inner.inner
    calls = _spy(backend, ["cat_ranges", "cat_file"])
    assert len([key for key in store]) == 50
    assert [name for name, _ in calls] == ["cat_ranges"]


def test_prefix_listing_asks_the_server_for_that_prefix(endpoint, bucket):
    store = open_s3(endpoint, f"s3://{bucket}/sub")
    store.setitems({"a/1": b"", "b/1": b""})
    requests = _spy_requests(store)
    assert [key for key in store.keys(prefix="a/")] == ["a/1"]
    assert requests == [("list_objects_v2", {"Bucket": bucket, "Prefix": "sub/a/"})]


def _spy(store, names):
    calls = []
    for name in names:
        method = getattr(store.fs, name)

        def spy(*args, _name=name, _method=method, **kwargs):
            calls.append((_name, args))
            return _method(*args, **kwargs)

        setattr(store.fs, name, spy)
    return calls


def _spy_requests(store):
    requests = []
    call_s3 = store.fs.call_s3

    def spy(method, **kwargs):
        requests.append((method, kwargs))
        return call_s3(method, **kwargs)

    store.fs.call_s3 = spy
    return requests
