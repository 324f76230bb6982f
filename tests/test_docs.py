"""Run the Python examples of README.md and of every page under docs/.

The ```python blocks of one page run in order in one namespace, in a fresh
temporary folder, without the developer's KVMAP_* variables, so a page reads
like a session a user types. A block whose info string is ``python no-run``
is shown but not run (for examples that need a service the page explains).
"""

from __future__ import annotations

import importlib.util
import re
import sys
import types
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
    # A real module, so that classes defined by an example can be imported
    # back by name (as pickle and kvmap's dataclass encoding do).
    module = types.ModuleType(f"docs_example_{page.stem.replace('-', '_')}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for number, block in enumerate(python_blocks(page), start=1):
        code = compile(block, f"{page.name}, python block {number}", "exec")
        exec(code, module.__dict__)


def test_readme_has_exactly_the_two_set_up_commands_ci_runs():
    spec = importlib.util.spec_from_file_location(
        "readme_commands", ROOT / ".ci" / "readme_commands.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    commands = module.readme_commands((ROOT / "README.md").read_text("utf-8"))
    assert len(commands) == 2
    assert "kvmap put" in commands[0] and "kvmap get" in commands[0]
    assert commands[1].endswith("pytest")
