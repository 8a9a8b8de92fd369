"""prefect-failtrack: failure classification, class-driven retries and an audit trail for Prefect.

The configuration block (`FailtrackConfig`, `apply_config`) is loaded when first asked
for (PEP 562): a flow-run process that never reads it does not pay for its models.
``prefect block register -m prefect_failtrack`` finds it all the same (it reads the
module's members, which asks for it).
"""

from typing import TYPE_CHECKING, Any

from ._version import __version__
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
from .liveness import record_progress
from .policy import Backoff, RetryDecision, RetryPolicy

if TYPE_CHECKING:
    from .blocks import FailtrackConfig
    from .config import apply_config

_LAZY = {"FailtrackConfig": ".blocks", "apply_config": ".config"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
