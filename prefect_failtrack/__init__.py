"""prefect-failtrack: failure classification, class-driven retries and an audit trail for Prefect."""

from ._version import __version__
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

__all__ = [
    "Classification",
    "DependencyFailed",
    "ErrorType",
    "InvalidInput",
    "PermanentError",
    "TimeoutExceeded",
    "TransientError",
    "__version__",
    "add_rules",
    "classify",
    "error_type",
    "mark",
]
