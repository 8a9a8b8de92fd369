"""The Prefect UI really shows failtrack: the pages of docs/screenshots.py, in headless Chromium.

One ``prefect server start`` for the module (the session's test harness serves no UI:
``SubprocessASGIServer`` starts it with ``PREFECT_UI_ENABLED=0``, prefect/server/api/server.py),
with its own PREFECT_HOME and audit database; only its subprocesses see that environment,
so nothing here touches this process's Prefect settings. The demo and the failure report
run against it, then each page is loaded until its text shows (the page's ``expect``), and
its picture is taken into a temporary folder.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "screenshots.py"


def _load_script() -> ModuleType:
    name = "failtrack_docs_screenshots"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


shots = _load_script()

pytestmark = pytest.mark.skipif(
    shots.find_chromium() is None,
    reason="headless Chromium is not installed (apt-get install -y chromium): "
    "the UI pages cannot be loaded",
)


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """A Prefect server with UI, after the demo and the failure report ran against it."""
    with shots.prefect_ui_server(tmp_path_factory.mktemp("prefect-ui")) as server:
        shots.run_examples(server)
        yield server, shots.find_targets(server.api_url)


@pytest.mark.parametrize(
    "filename",
    [
        "flow-runs-class-tags.png",
        "flow-run-failure-summary.png",
        "task-run-awaiting-retry.png",
        "report-artifact.png",
    ],
)
def test_ui_page_shows_failtrack(
    ui: tuple[Any, Any], filename: str, tmp_path: Path
) -> None:
    server, targets = ui
    (page,) = [p for p in shots.pages(targets) if p.filename == filename]
    text = shots.capture(server.url, page, tmp_path)  # raises, saying what is missing
    assert all(expected in text for expected in page.expect)
    picture = tmp_path / filename
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 10_000 < picture.stat().st_size < shots.PNG_LIMIT


def test_runs_list_checks_every_class_tag(ui: tuple[Any, Any]) -> None:
    """The runs list page expects every ``failtrack:<CLASS>`` tag read back from the failed
    demo run (so the page check above is not vacuous), the filtered class among them."""
    _, targets = ui
    (page,) = [p for p in shots.pages(targets) if p.filename == "flow-runs-class-tags.png"]
    assert shots.CLASS_FILTER in targets.flow_run_tags
    assert {"failtrack:TRANSIENT", "failtrack:DEPENDENCY"} <= set(targets.flow_run_tags)
    assert set(targets.flow_run_tags) <= set(page.expect)
