"""Capture: the decorators, the hooks and the retry bridge; nothing else knows Prefect's hooks."""

from .decorators import FlowOptions, flow_options, task_options, tracked_flow, tracked_task
from .metrics import record_metrics
from .tracker import COUNTERS, Tracker

__all__ = [
    "COUNTERS",
    "FlowOptions",
    "Tracker",
    "flow_options",
    "record_metrics",
    "task_options",
    "tracked_flow",
    "tracked_task",
]
