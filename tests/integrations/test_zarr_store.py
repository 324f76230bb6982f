"""zarr's own store conformance suite, run on ZarrStore over every backend.

Each backend of :mod:`tests.factories` joins bare; memory, local files and
Redis also join inside the full stack that ``get_store`` builds with a key
prefix (the layers must hand zarr's bytes back unchanged).
"""

from __future__ import annotations

import pytest
from zarr.core.buffer import cpu
from zarr.testing.store import StoreTests

from kvmap.zarr import ZarrStore
from tests.conftest import STACKS
from tests.factories import all_factories

FACTORIES = all_factories()
#: Backends that also run inside the full stack (the layers are the same
#: code whatever the backend below them).
STACKED = {"memory", "file", "redis"}
CASES = [(factory, "bare") for factory in sorted(FACTORIES)] + [
    (factory, "stack-prefixed") for factory in sorted(STACKED & set(FACTORIES))
]


class TestZarrStoreConformance(StoreTests[ZarrStore, cpu.Buffer]):
    store_cls = ZarrStore
    buffer_cls = cpu.Buffer

    @pytest.fixture(params=CASES, ids=lambda case: "-".join(case))
    def kvmap_store(self, request, tmp_path):
        factory, stack = request.param
        return STACKS[stack](FACTORIES[factory](tmp_path, request))

    @pytest.fixture
    def store_kwargs(self, kvmap_store):
        return {"store": kvmap_store}

    @pytest.fixture
    def store(self, open_kwargs):
        from zarr.core.sync import sync

        return sync(self.store_cls.open(**open_kwargs))

    @pytest.fixture
    def store_not_open(self, store_kwargs):
        return self.store_cls(**store_kwargs)

    async def set(self, store, key, value):
        store.store[key] = value.to_bytes()

    async def get(self, store, key):
        return self.buffer_cls.from_bytes(store.store[key])

    def test_store_repr(self, store):
        assert repr(store) == f"ZarrStore({store.store!r}, read_only=False)"

    def test_store_supports_writes(self, store):
        assert store.supports_writes

    def test_store_supports_listing(self, store):
        assert store.supports_listing
