"""The package passes its linters, strict type checks, and the docs build.

These run the same tools as the tox environments, so the test command of the
README covers them too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install '.[test]'")
    return found


def check(*command: str) -> None:
    result = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_check_passes():
    check(tool("ruff"), "check", "kvmap", "tests", "benchmarks")


def test_ruff_format_is_clean():
    check(tool("ruff"), "format", "--check", "kvmap", "tests", "benchmarks")


def test_mypy_strict_passes():
    check(tool("mypy"), "--strict", "kvmap")


def test_docs_build_without_warnings(tmp_path):
    check(tool("mkdocs"), "build", "--strict", "--site-dir", str(tmp_path / "site"))


def test_package_ships_py_typed():
    assert (ROOT / "kvmap" / "py.typed").is_file()
