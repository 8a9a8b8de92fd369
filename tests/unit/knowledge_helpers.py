"""Helpers shared by the knowledge tests: provoke a real exception, read a decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect_failtrack import ErrorType, classify


def raised(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> BaseException:
    """The exception `fn(*args, **kwargs)` really raises."""
    try:
        fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001
        return exc
    raise AssertionError("expected an exception")


def decision(exc: BaseException) -> tuple[ErrorType, str]:
    """(class, deciding rule) of an exception."""
    result = classify(exc)
    return result.error_type, result.reason
