"""Layers that watch or disturb the calls a library makes to a store."""

from __future__ import annotations

import threading
import time
from collections import Counter

from kvmap import BackendUnavailableError, Layer


class CountingLayer(Layer):
    """Count the bytes each key returns, by whole reads and by ranged reads."""

    def __init__(self, inner):
        super().__init__(inner)
        self.whole = Counter()
        self.ranged = Counter()

    def __getitem__(self, key):
        value = self.inner[key]
        self.whole[key] += len(value)
        return value

    def getrange(self, key, start, stop=None):
        value = self.inner.getrange(key, start, stop)
        self.ranged[key] += len(value)
        return value


class SlowLayer(Layer):
    """Sleep before every read, and record the most reads in flight at once."""

    def __init__(self, inner, seconds):
        super().__init__(inner)
        self.seconds = seconds
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def __getitem__(self, key):
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.seconds)
            return self.inner[key]
        finally:
            with self._lock:
                self.in_flight -= 1


class FailingLayer(Layer):
    """Fail every read of a key under ``prefix`` as an unreachable service."""

    def __init__(self, inner, prefix):
        super().__init__(inner)
        self.prefix = prefix

    def _check(self, key):
        if key.startswith(self.prefix):
            raise BackendUnavailableError(f"cannot reach the service for {key!r}")

    def __getitem__(self, key):
        self._check(key)
        return self.inner[key]

    def getrange(self, key, start, stop=None):
        self._check(key)
        return self.inner.getrange(key, start, stop)

    def __contains__(self, key):
        self._check(key)
        return key in self.inner
