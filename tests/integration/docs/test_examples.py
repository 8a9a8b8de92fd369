"""Every code example the documentation presents as runnable is run, and checked.

The convention, visible in the pages' source:

- ``<!-- runnable -->`` on the line before a ```` ```python ```` block marks it
  runnable: it is run on its own as a script.
- ``<!-- runnable: NAME -->`` marks one part of a longer example: the blocks of one
  page that share a name are joined, in order, and run as one script (so prose can
  sit between them).
- Each example checks itself: with ``assert`` statements, or with trailing
  ``# prints: TEXT`` comments: the script's standard output must have a line equal
  to each ``TEXT``, in order (other lines may come between).

Each example runs in a fresh Python process against the session's Prefect test
server (``PREFECT_API_URL``), with Prefect's and failtrack's homes and the audit
database in a temporary folder of its own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
MARKED = re.compile(
    r"^<!--\s*runnable(?::\s*(?P<name>[\w.-]+))?\s*-->[ \t]*\n```python[^\n]*\n(?P<code>.*?)^```",
    re.M | re.S,
)
PRINTS = re.compile(r"#\s*prints:\s*(?P<text>.+?)\s*$", re.M)
TIMEOUT_S = 120


@dataclass(frozen=True)
class Example:
    page: str
    name: str
    code: str

    @property
    def expected_lines(self) -> list[str]:
        return [match["text"] for match in PRINTS.finditer(self.code)]


def collect(docs: Path = DOCS) -> list[Example]:
    """The runnable examples of the README and of every page under `docs`, in page order."""
    examples: list[Example] = []
    for page in [ROOT / "README.md", *sorted(docs.rglob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        parts: dict[str, list[str]] = {}
        for number, match in enumerate(MARKED.finditer(text), start=1):
            name = match["name"] or f"block-{number}"
            parts.setdefault(name, []).append(match["code"])
        relative = page.relative_to(docs if page.is_relative_to(docs) else ROOT).as_posix()
        examples += [Example(relative, name, "\n".join(code)) for name, code in parts.items()]
    return examples


EXAMPLES = collect()


def test_the_pages_have_runnable_examples() -> None:
    pages = {example.page for example in EXAMPLES}
    assert len(EXAMPLES) >= 5, EXAMPLES
    assert {"README.md", "index.md", "how-to/write-rules.md", "how-to/tune-retry-policies.md", "reports.md"} <= pages


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.page}:{e.name}")
def test_example_runs_and_checks_itself(example: Example, tmp_path: Path) -> None:
    assert example.expected_lines or re.search(r"^\s*assert\b", example.code, re.M), (
        f"{example.page}: the example {example.name!r} checks nothing "
        "(add an assert, or a trailing '# prints: ...' comment)"
    )
    script = tmp_path / "example.py"
    script.write_text(example.code, encoding="utf-8")
    home = tmp_path / "failtrack"
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_INTEGRATIONS_FAILTRACK_HOME": str(home),
        "PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL": f"sqlite:///{home / 'failtrack.db'}",
        "PYTHONUNBUFFERED": "1",
    }
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=TIMEOUT_S,
    )
    where = f"{example.page}: example {example.name!r}"
    assert done.returncode == 0, f"{where} failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    lines = [line.strip() for line in done.stdout.splitlines()]
    position = 0
    for expected in example.expected_lines:
        try:
            position = lines.index(expected, position) + 1
        except ValueError:
            pytest.fail(f"{where}: no line {expected!r} (in order) in its output:\n{done.stdout}")
