"""`Tracker`: what one decorator was given (policy, rules, origin), and the hooks Prefect calls.

The hooks live by side, as Prefect splits ``task_engine.py`` and ``flow_engine.py``:
`TaskHooks` (``task_hooks.py``: task hooks and the retry condition) and `FlowHooks`
(``flow_hooks.py``: flow hooks, flow retries, what a failed flow run tells Prefect),
both built on `Recording` (``recording.py``: classification, policy, the hand-over to
the recorder). Nothing else in failtrack knows Prefect's hook signatures.
"""

from __future__ import annotations

from dataclasses import dataclass

from .failure import FailedWithoutException
from .flow_hooks import TRACKED_LABEL, FlowHooks, flow_run_count
from .guard import COUNTERS, guarded
from .recording import exception_of, iso_id, ms_between
from .task_hooks import TaskHooks


@dataclass(frozen=True, eq=False)
class Tracker(TaskHooks, FlowHooks):
    """Classification, policy and recording for the runs of one decorated task or flow."""


# The names earlier releases had here.
_iso_id, _ms_between = iso_id, ms_between

__all__ = [
    "COUNTERS",
    "TRACKED_LABEL",
    "FailedWithoutException",
    "Tracker",
    "exception_of",
    "flow_run_count",
    "guarded",
]
