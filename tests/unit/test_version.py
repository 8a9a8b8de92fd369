"""One version, in three places that must agree: the package, its metadata, the changelog."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import prefect_failtrack

CHANGELOG = Path(__file__).resolve().parents[2] / "CHANGELOG.md"


def test_version_is_exposed_and_matches_the_installed_metadata() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc)?\d*", prefect_failtrack.__version__)
    assert version("prefect-failtrack") == prefect_failtrack.__version__


def test_the_changelog_has_an_entry_for_this_version() -> None:
    headings = re.findall(r"^## \[([^\]]+)\]", CHANGELOG.read_text(encoding="utf-8"), re.M)
    assert headings[0] == "Unreleased"
    assert prefect_failtrack.__version__ in headings
