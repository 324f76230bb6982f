"""Which keys of a shared store belong to zarr.

:class:`~kvmap.zarr.ZarrStore` deletes only these when zarr clears the root
of a store that may also hold other keys.
"""

from __future__ import annotations

import re

__all__ = ["METADATA_NAMES", "ROOT_CHUNK_KEY", "zarr_keys"]

#: The names of zarr's metadata documents (zarr 3, then zarr 2).
METADATA_NAMES = frozenset({"zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"})

# Chunk keys of an array at the root: "c", "c/0/1" (zarr 3), "0.1", "0/1" (zarr 2).
ROOT_CHUNK_KEY = re.compile(r"c(/\d+)*|\d+([./]\d+)*")


def zarr_keys(keys: list[str], root_is_an_array: bool) -> list[str]:
    """Return the keys of ``keys`` that zarr owns, for a delete at the root."""
    documents = [key for key in keys if key.rpartition("/")[2] in METADATA_NAMES]
    folders = {key.rpartition("/")[0] for key in documents} - {""}
    owned = []
    for key in keys:
        if (
            key.rpartition("/")[2] in METADATA_NAMES
            or any(key.startswith(folder + "/") for folder in folders)
            or (root_is_an_array and ROOT_CHUNK_KEY.fullmatch(key))
        ):
            owned.append(key)
    return owned
