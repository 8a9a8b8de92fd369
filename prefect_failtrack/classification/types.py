"""The vocabulary of classification: error classes, verdicts and markers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .facts import Facts

E = TypeVar("E", bound=BaseException)


class ErrorType(StrEnum):
    """What kind of failure an exception is; the value equals the name."""

    TRANSIENT = "TRANSIENT"
    PERMANENT = "PERMANENT"
    TIMEOUT = "TIMEOUT"
    VALIDATION = "VALIDATION"
    DEPENDENCY = "DEPENDENCY"
    UNKNOWN = "UNKNOWN"

    @property
    def retryable(self) -> bool:
        """Whether failures of this class are worth retrying by nature."""
        return self in (ErrorType.TRANSIENT, ErrorType.TIMEOUT)

    @property
    def severity(self) -> int:
        """How bad a class is when several compete (exception groups): higher is worse."""
        return _SEVERITY[self]


_SEVERITY = {
    ErrorType.TRANSIENT: 0,
    ErrorType.TIMEOUT: 1,
    ErrorType.UNKNOWN: 2,
    ErrorType.DEPENDENCY: 3,
    ErrorType.VALIDATION: 4,
    ErrorType.PERMANENT: 5,
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one rule says of one exception."""

    error_type: ErrorType
    reason: str
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    """The answer of `classify`: the class, the rule that decided, and what the error asked for.

    Attributes:
        error_type: the class of the failure.
        retryable: whether the class is worth retrying (the policy decides how often).
        reason: the rule that decided, e.g. ``"http 503"`` or ``"type builtins.ValueError"``.
        error_class: qualified class name of the classified exception.
        decided_by: qualified class name of the exception in the chain or group that decided.
        retry_after: seconds the error itself asked to wait (``Retry-After``), if any.
        facts: what the exception that decided stated about itself and was read to decide
            (status, SQLSTATE, errno, vendor code, the library's verdict, delay:
            `facts.Facts`); ``None`` when the decision read none (a type, a message).
    """

    error_type: ErrorType
    retryable: bool
    reason: str
    error_class: str
    decided_by: str
    retry_after: float | None = None
    facts: Facts | None = None

    def describe(self) -> str:
        """A short human form, e.g. ``TRANSIENT (http 503)``."""
        return f"{self.error_type.value} ({self.reason})"


#: Attribute read on exception classes and instances to carry a class or a delay.
ERROR_TYPE_ATTR = "failtrack_error_type"
RETRY_AFTER_ATTR = "failtrack_retry_after"


class FailtrackMarker(Exception):
    """Base of the marker exceptions: raise one to state the class of a failure yourself."""

    failtrack_error_type: ErrorType = ErrorType.UNKNOWN

    def __init__(self, *args: Any, retry_after: float | None = None) -> None:
        super().__init__(*args)
        if retry_after is not None:
            self.failtrack_retry_after = float(retry_after)


class TransientError(FailtrackMarker):
    """A failure that is expected to go away on its own; retried per the TRANSIENT policy."""

    failtrack_error_type = ErrorType.TRANSIENT


class PermanentError(FailtrackMarker):
    """A failure that no retry will fix."""

    failtrack_error_type = ErrorType.PERMANENT


class TimeoutExceeded(FailtrackMarker, TimeoutError):
    """An operation took longer than allowed."""

    failtrack_error_type = ErrorType.TIMEOUT


class InvalidInput(FailtrackMarker, ValueError):
    """The data or parameters are wrong; retrying the same input cannot help."""

    failtrack_error_type = ErrorType.VALIDATION


class DependencyFailed(FailtrackMarker):
    """Something this work depends on failed first."""

    failtrack_error_type = ErrorType.DEPENDENCY


def error_type(kind: ErrorType | str, *, retry_after: float | None = None) -> Any:
    """Class decorator: attach a class (and optionally a delay) to your own exception type.

    Examples:
        >>> @error_type(ErrorType.PERMANENT)
        ... class QuotaGone(Exception): ...
    """
    kind = ErrorType(kind)

    def attach(cls: type[BaseException]) -> type[BaseException]:
        setattr(cls, ERROR_TYPE_ATTR, kind)
        if retry_after is not None:
            setattr(cls, RETRY_AFTER_ATTR, float(retry_after))
        return cls

    return attach


def mark(
    exc: E, kind: ErrorType | str | None = None, *, retry_after: float | None = None
) -> E:
    """Carry a class and/or a delay on one exception instance; returns the same exception.

    Examples:
        >>> raise mark(exc, ErrorType.TRANSIENT, retry_after=30)  # doctest: +SKIP
    """
    if kind is not None:
        setattr(exc, ERROR_TYPE_ATTR, ErrorType(kind))
    if retry_after is not None:
        setattr(exc, RETRY_AFTER_ATTR, float(retry_after))
    return exc
