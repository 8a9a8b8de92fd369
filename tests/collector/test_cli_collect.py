"""``failtrack collect``: bad input and an unreachable API get one clear line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from prefect_failtrack.cli import main


def test_once_and_duration_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collect", "--once", "--duration", "1m"]) == 2
    assert capsys.readouterr().err.strip() == (
        "failtrack: give either --once or --duration, not both"
    )


def test_an_unreachable_api_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        code = main(["collect", "--once", "--url", f"sqlite:///{tmp_path / 'a.db'}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == ["failtrack: Prefect's API cannot be reached: All connection attempts failed"]


def test_a_malformed_capture_filter_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--capture", "both"]) == 2
    assert "--capture must be one of tracked, observed, not 'both'" in capsys.readouterr().err
