"""prefect-failtrack: failure classification, class-driven retries and an audit trail for Prefect."""

from ._version import __version__
from .blocks import FailtrackConfig
from .capture import flow_options, record_metrics, task_options, tracked_flow, tracked_task
from .classification import (
    Classification,
    DependencyFailed,
    ErrorType,
    InvalidInput,
    PermanentError,
    TimeoutExceeded,
    TransientError,
    add_rules,
    classify,
    error_type,
    mark,
)
from .config import apply_config
from .liveness import record_progress  # liveness:
from .policy import Backoff, RetryDecision, RetryPolicy

__all__ = [
    "Backoff",
    "Classification",
    "DependencyFailed",
    "ErrorType",
    "FailtrackConfig",
    "InvalidInput",
    "PermanentError",
    "RetryDecision",
    "RetryPolicy",
    "TimeoutExceeded",
    "TransientError",
    "__version__",
    "add_rules",
    "apply_config",
    "classify",
    "error_type",
    "flow_options",
    "mark",
    "record_metrics",
    "record_progress",
    "task_options",
    "tracked_flow",
    "tracked_task",
]
