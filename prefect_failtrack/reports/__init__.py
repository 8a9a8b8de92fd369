"""Reports: pure queries over the audit store, returned as pydantic models, rendered elsewhere.

Every figure comes from SQL that runs on SQLite and PostgreSQL alike, aggregated in the
database. Modules by topic: `rates` (flow and task failure rates, classes, partial
success), `patterns` (fingerprints), `retries`, `stuck`, `durations` (slowest states),
`timeline`, `runs` (recent flow runs), `replay` (shadow re-classification); `build` puts
the report together.
"""

from .build import build_patterns, build_report, build_stuck
from .models import (
    FailureReport,
    PartialRun,
    Pattern,
    PatternReport,
    ReplayChange,
    ReplayReport,
    RetryStats,
    RunList,
    RunRate,
    RunSummary,
    SlowState,
    StuckReport,
    StuckRun,
    Timeline,
    TimelineEntry,
)
from .replay import replay
from .runs import recent_runs
from .timeline import build_timeline

__all__ = [
    "FailureReport",
    "PartialRun",
    "Pattern",
    "PatternReport",
    "ReplayChange",
    "ReplayReport",
    "RetryStats",
    "RunList",
    "RunRate",
    "RunSummary",
    "SlowState",
    "StuckReport",
    "StuckRun",
    "Timeline",
    "TimelineEntry",
    "build_patterns",
    "build_report",
    "build_stuck",
    "build_timeline",
    "recent_runs",
    "replay",
]
