"""Run the Python examples of README.md and of every page under docs/.

The ```python blocks of one page run in order in one namespace, in a fresh
temporary folder, without the developer's KVMAP_* variables, so a page reads
like a session a user types. A block whose info string is ``python no-run``
is shown but not run (for examples that need a service the page explains).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\s*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "page", [page for page in PAGES if python_blocks(page)], ids=lambda p: p.name
)
def test_page_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for number, block in enumerate(python_blocks(page), start=1):
        code = compile(block, f"{page.name}, python block {number}", "exec")
        exec(code, namespace)
