"""The hot-path helpers of the hooks give what the plain expressions gave."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from prefect.states import Running

from prefect_failtrack.capture.tracker import _iso_id, _ms_between


def test_milliseconds_between_prefect_and_plain_timestamps() -> None:
    start = Running().timestamp  # Prefect's own (pendulum) timestamp
    later = start + timedelta(seconds=1.5)
    assert _ms_between(start, later) == 1500
    assert _ms_between(start, datetime.fromtimestamp(start.timestamp() + 2, UTC)) == 2000
    assert _ms_between(later, start) == 0  # clocks may disagree: never negative
    assert _ms_between(None, start) is None


def test_ids_as_text() -> None:
    run_id = uuid.uuid4()
    assert _iso_id(run_id) == str(run_id)
    assert _iso_id(run_id) == str(run_id)  # again, from the cache
    assert _iso_id(None) is None
    assert _iso_id(["not", "hashable"]) == "['not', 'hashable']"
