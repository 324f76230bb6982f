"""The S3 backend in other processes: pickled into a new one, forked into a child."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

import kvmap
from tests.factories.s3 import s3_options
from tests.s3_support import bucket as bucket
from tests.s3_support import endpoint as endpoint
from tests.s3_support import open_s3


def test_pickled_store_reconnects_in_a_new_process(endpoint, bucket):
    store = kvmap.get_store(f"s3://{bucket}/p", backend_config=s3_options(endpoint))
    store["from parent"] = "hello"
    script = (
        "import pickle, sys\n"
        "store = pickle.loads(sys.stdin.buffer.read())\n"
        "store['from child'] = store['from parent'] + ' back'\n"
    )
    subprocess.run(
        [sys.executable, "-c", script], input=pickle.dumps(store), check=True
    )
    assert store["from child"] == "hello back"


def test_forked_child_opens_its_own_connection(endpoint, bucket):
    multiprocessing = pytest.importorskip("multiprocessing")
    store = open_s3(endpoint, f"s3://{bucket}")
    store["parent"] = b"1"
    parent_fs = store.fs
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        pool.apply(_write_in_child, (store,))
    assert store["child"] == b"read 1"
    assert store.fs is parent_fs


def _write_in_child(store):
    store["child"] = b"read " + store["parent"]
