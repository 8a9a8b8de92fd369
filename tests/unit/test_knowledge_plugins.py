"""Knowledge packs from other packages, found for real by ``importlib.metadata``: the packs
under ``tests/unit/packs`` have real ``.dist-info`` folders with ``entry_points.txt``; the
tests put that folder on ``sys.path``. A broken pack is reported once and skipped."""

from __future__ import annotations

import importlib
import logging
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from prefect_failtrack import ErrorType, classify
from prefect_failtrack.classification import plugins, reload_knowledge

PACKS = Path(__file__).parent / "packs"


def _acme(name: str, **attributes) -> BaseException:
    cls = type(name, (Exception,), {"__module__": "acme.errors"})
    exc = cls("failed")
    for key, value in attributes.items():
        setattr(exc, key, value)
    return exc


@pytest.fixture
def installed_packs():
    sys.path.insert(0, str(PACKS))
    importlib.invalidate_caches()
    reload_knowledge()
    yield
    sys.path.remove(str(PACKS))
    for name in [m for m in sys.modules if m.startswith("acme_failtrack_pack")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    reload_knowledge()


def test_the_entry_points_are_real():
    sys.path.insert(0, str(PACKS))
    importlib.invalidate_caches()
    try:
        names = {ep.name for ep in entry_points(group=plugins.GROUP)}
    finally:
        sys.path.remove(str(PACKS))
        importlib.invalidate_caches()
    assert {"acme", "not_importable", "raises_on_import", "bad_tables"} <= names


def test_a_pack_teaches_classify_its_library(installed_packs):
    assert "acme" in plugins.loaded_names()
    assert classify(_acme("WarehouseError", acme_code="WH-503")).reason == "acme code WH-503"
    assert classify(_acme("WarehouseError", acme_code="WH-404")).error_type is ErrorType.PERMANENT
    unknown_code = _acme("WarehouseError", acme_code="WH-999", can_retry=True)
    assert classify(unknown_code).reason == "can_retry=True"
    assert classify(_acme("QuotaExceeded")).error_type is ErrorType.TRANSIENT
    suspended = classify(RuntimeError("warehouse ETL_WH is suspended"))
    assert suspended.reason == "message 'acme: warehouse suspended'"


def test_without_the_pack_nothing_is_known():
    reload_knowledge()
    assert classify(_acme("WarehouseError", acme_code="WH-503")).error_type is ErrorType.UNKNOWN


def test_broken_packs_are_reported_once_and_skipped(installed_packs, caplog):
    caplog.set_level(logging.WARNING, logger=plugins.__name__)
    reload_knowledge()
    for _ in range(3):
        classify(ValueError("x"))
    reported = [r.getMessage() for r in caplog.records if r.name == plugins.__name__]
    assert len(reported) == 3, reported  # one line per broken pack, however many calls
    assert any("not_importable" in line for line in reported)
    assert any("raises_on_import" in line for line in reported)
    assert any("bad_tables" in line and "cannot use" in line for line in reported)
    # the good pack still counts
    assert classify(_acme("WarehouseError", acme_code="WH-422")).error_type is ErrorType.VALIDATION


def test_packs_load_lazily_not_at_import():
    source = (Path(plugins.__file__).parent / "knowledge" / "__init__.py").read_text()
    assert "plugins.with_packs" in source.split("def layers", 1)[1]  # only inside layers()
