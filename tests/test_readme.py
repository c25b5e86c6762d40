"""Every example in README.md stays true: its shell and Python blocks run, its scenario YAML loads.

Fenced blocks, in README order, in one scratch folder holding a copy of ``scenarios/``:
    ```sh                  run by bash (``set -euo pipefail``) with this environment's ``iobench`` on PATH
    ```python file=NAME    written to NAME (a module the next examples import)
    ```python              run by this Python
    ```yaml file=NAME      written to NAME
    ```yaml                loaded as a scenario; a block without ``name:`` is a fragment, merged into the last
                           full one before it
A block right after ``<!-- not run by the suite: REASON -->`` is skipped with that reason; blocks with no language
are sample output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.scenario.loader import parse_scenario
from tests.conftest import REPO

README = REPO / "README.md"
SKIP = re.compile(r"^<!-- not run by the suite: (.+) -->$")
FENCE = re.compile(r"^```(\w+)?(?:\s+file=(\S+))?\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block of the README."""

    line: int
    """Line of its opening fence (1-based)."""
    language: str
    file: str | None
    text: str
    skip: str | None
    """Why the suite does not run it, or None."""


def blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text, with their languages, file names and skip reasons."""
    found = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if fence is None:
            i += 1
            continue
        end = lines.index("```", i + 1)
        skip = SKIP.match(lines[i - 1]) if i else None
        found.append(
            Block(
                line=i + 1,
                language=fence.group(1) or "",
                file=fence.group(2),
                text="\n".join(lines[i + 1 : end]) + "\n",
                skip=skip.group(1) if skip else None,
            )
        )
        i = end + 1
    return found


EXAMPLES = [b for b in blocks(README.read_text(encoding="utf-8")) if b.language in ("sh", "python", "yaml")]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch project folder shared by the examples, in README order."""
    folder = tmp_path_factory.mktemp("readme")
    shutil.copytree(REPO / "scenarios", folder / "scenarios")
    return folder


def _merge(base: dict[str, Any], fragment: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in fragment.items():
        merged[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


_last_full_yaml: dict[str, Any] = {}


def test_the_readme_has_examples_of_each_kind() -> None:
    kinds = {(b.language, b.file is not None) for b in EXAMPLES if b.skip is None}
    assert {("sh", False), ("python", False), ("python", True), ("yaml", False), ("yaml", True)} <= kinds
    assert blocks("x\n<!-- not run by the suite: slow -->\n```sh file=a.sh\necho\n```\n") == [
        Block(line=3, language="sh", file="a.sh", text="echo\n", skip="slow")
    ]


@pytest.mark.e2e
@pytest.mark.parametrize("block", EXAMPLES, ids=[f"README.md:{b.line}:{b.language}" for b in EXAMPLES])
def test_readme_example(block: Block, workspace: Path) -> None:
    if block.skip:
        pytest.skip(f"README.md:{block.line}: not run by the suite: {block.skip}")
    if block.file is not None:
        (workspace / block.file).write_text(block.text, encoding="utf-8")
        return
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    if block.language == "yaml":
        data = yaml.safe_load(block.text)
        if "name" in data:
            _last_full_yaml.clear()
            _last_full_yaml.update(data)
        else:
            assert _last_full_yaml, f"README.md:{block.line}: a YAML fragment with no full scenario before it"
            data = _merge(_last_full_yaml, data)
        parse_scenario(yaml.safe_dump(data), f"README.md:{block.line}")
        return
    command = ["bash", "-c", "set -euo pipefail\n" + block.text] if block.language == "sh" else [sys.executable, "-"]
    done = subprocess.run(
        command,
        input=block.text if block.language == "python" else None,
        capture_output=True,
        text=True,
        cwd=workspace,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"README.md:{block.line}:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
