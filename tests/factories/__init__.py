"""Factories of raw backends for the contract suite.

Every module in this package defines ``FACTORIES``: a dict from a test id to a
function ``(tmp_path, request) -> Backend`` that returns an empty backend and
cleans it up through ``request.addfinalizer`` when needed. A new backend joins
every contract test by adding a module here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

Factory = Callable[[Any, Any], Any]


def all_factories() -> dict[str, Factory]:
    """Collect ``FACTORIES`` from every module of this package."""
    found: dict[str, Factory] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        found.update(getattr(module, "FACTORIES", {}))
    return found
