"""Calls on an fsspec file system that keep every path exact.

fsspec's bulk calls (``cat``, ``rm``) expand paths with ``*``, ``?`` or ``[``
as glob patterns; these helpers send such paths one by one instead. The rest
moves a value out of the way of a folder and removes folders left empty, for
file systems where a file cannot also be a folder.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from kvmap.keys import RESERVED_SEGMENT_PREFIX

__all__ = [
    "GLOB_CHARACTERS",
    "VALUE_FILE",
    "cat_many",
    "find_files",
    "folders_above",
    "is_literal",
    "move_into_folder",
    "prune_folders",
]

#: Where the value of a key lives when the key is also a folder of other keys.
VALUE_FILE = RESERVED_SEGMENT_PREFIX + "value"
#: Characters that make fsspec's bulk calls expand a path as a glob pattern.
GLOB_CHARACTERS = re.compile(r"[*?\[]")

_counter = itertools.count()


def is_literal(path: str) -> bool:
    """Tell whether fsspec's bulk calls take ``path`` as it is."""
    return GLOB_CHARACTERS.search(path) is None


def cat_many(filesystem: Any, paths: list[str]) -> dict[str, Any]:
    """Read ``paths``: ``{path: bytes or the exception raised for it}``.

    One ``cat`` of the literal paths, which asynchronous file systems run
    concurrently; paths with glob characters are read one by one.
    """
    literal = [path for path in paths if is_literal(path)]
    results: dict[str, Any] = {}
    if literal:
        stripped = {filesystem._strip_protocol(path): path for path in literal}
        returned = filesystem.cat(literal, on_error="return")
        for path, result in returned.items():
            results[stripped.get(path, path)] = result
    for path in paths:
        if path not in results:
            try:
                results[path] = filesystem.cat_file(path)
            except Exception as error:
                results[path] = error
    return results


def cat_ranges_many(
    filesystem: Any, paths: list[str], start: int, stop: int
) -> list[Any]:
    """Read ``[start:stop]`` of each path: bytes or the exception raised for it.

    One ``cat_ranges`` call, which asynchronous file systems run concurrently.
    """
    count = len(paths)
    results: list[Any] = filesystem.cat_ranges(
        paths, [start] * count, [stop] * count, on_error="return"
    )
    return results


def folders_above(paths: Iterable[str]) -> set[str]:
    """Return every folder that holds one of ``paths``, at any depth."""
    folders: set[str] = set()
    for path in paths:
        folder = path.rpartition("/")[0]
        while folder and folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    return folders


def move_into_folder(filesystem: Any, path: str) -> None:
    """Turn the file ``path`` into a folder that keeps it as its value file.

    The file goes first to a temporary name that is never listed as a key, so
    a crash in between leaves the value on the file system.
    """
    parent = path.rpartition("/")[0]
    name = f"{RESERVED_SEGMENT_PREFIX}moving-{os.getpid()}-{next(_counter)}"
    temporary = parent + "/" + name if parent else name
    filesystem.mv(path, temporary)
    filesystem.makedirs(path, exist_ok=True)
    filesystem.mv(temporary, path + "/" + VALUE_FILE)


def prune_folders(filesystem: Any, paths: Iterable[str], root: str) -> None:
    """Remove the folders that deleting ``paths`` left empty, up to ``root``.

    Deepest first; a folder that is not empty (or not there) stops the climb.
    """
    folders = set(paths)
    folders |= {path.rpartition("/")[0] for path in folders}
    for folder in sorted(folders, key=len, reverse=True):
        while len(folder) > len(root):
            try:
                filesystem.rmdir(folder)
            except OSError:
                break
            folder = folder.rpartition("/")[0]


def find_files(
    filesystem: Any, top: str, on_error: Callable[[OSError], None]
) -> list[str]:
    """Return the path of every file under ``top``, sorted.

    ``on_error`` gets every error met listing a folder and may raise it.
    fsspec's own ``walk()`` passes its ``on_error`` to the top folder only
    and skips sub-folders it cannot list, so file systems that list through
    it are walked here, folder by folder; the others keep their own
    ``find()``.
    """
    if not _lists_through_walk(filesystem):
        found = filesystem.find(top, withdirs=False, on_error=on_error)
        return sorted(map(str, found))
    files: list[str] = []
    folders, seen = [top], {top.rstrip("/")}
    while folders:
        folder = folders.pop()
        try:
            entries = filesystem.ls(folder, detail=True)
        except OSError as error:
            on_error(error)
            continue
        for entry in entries:
            name = str(entry["name"])
            if entry["type"] != "directory":
                files.append(name)
            elif name.rstrip("/") not in seen:
                seen.add(name.rstrip("/"))
                folders.append(name)
    return sorted(files)


def _lists_through_walk(filesystem: Any) -> bool:
    from fsspec.asyn import AsyncFileSystem
    from fsspec.spec import AbstractFileSystem

    kind = type(filesystem)
    if isinstance(filesystem, AsyncFileSystem):
        return kind._find is AsyncFileSystem._find
    return kind.find is AbstractFileSystem.find
