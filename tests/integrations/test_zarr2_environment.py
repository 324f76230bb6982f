"""Run the zarr 2 tests in their own environment from the main suite.

zarr 2 and zarr 3 cannot share one environment, so this builds the ``zarr2``
tox environment (``zarr<3`` and kvmap's backends; it downloads them, or takes
them from pip's cache) and runs ``test_zarr2.py`` there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_zarr2_tests_pass_in_the_zarr2_environment(tmp_path):
    tox = Path(sys.executable).with_name("tox")
    if not tox.exists():
        pytest.fail("tox is not installed: pip install '.[test]'")
    result = subprocess.run(
        [str(tox), "-e", "zarr2", "--workdir", str(tmp_path), "--", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "PY_COLORS": "0"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert " passed" in output
    assert " failed" not in output
