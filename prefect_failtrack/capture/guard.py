"""failtrack's own failures never reach a run: they are logged, counted, and the run goes on.

`COUNTERS` and `guarded` are `prefect_failtrack.safety`'s (one guard for capture and
resilience); this module adds the run's logger.
"""

from __future__ import annotations

import logging

from prefect.exceptions import MissingContextError
from prefect.logging import get_logger, get_run_logger

from ..safety import COUNTERS, guarded

logger = get_logger("prefect_failtrack.capture")


def run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The current run's logger (its lines reach the run's logs in the UI), else ours."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logger


__all__ = ["COUNTERS", "guarded", "logger", "run_logger"]
