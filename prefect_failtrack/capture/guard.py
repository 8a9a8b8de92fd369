"""failtrack's own failures never reach a run: they are logged, counted, and the run goes on."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from prefect.exceptions import MissingContextError
from prefect.logging import get_logger, get_run_logger

logger = get_logger("prefect_failtrack.capture")
F = TypeVar("F", bound=Callable[..., Any])


class _Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hook_errors = 0

    def failed(self) -> int:
        with self.lock:
            self.hook_errors += 1
            return self.hook_errors


COUNTERS = _Counters()


def guarded(default: Any = None) -> Callable[[F], F]:
    """Never let failtrack's own failure reach the run: log it, count it, return `default`."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def safe(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                count = COUNTERS.failed()
                logger.warning(
                    "failtrack: %s failed (%s: %s); the run goes on unaffected [%d so far].",
                    fn.__name__, type(exc).__name__, exc, count, exc_info=count <= 3,
                )
                return default

        return safe  # type: ignore[return-value]

    return wrap


def run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The current run's logger (its lines reach the run's logs in the UI), else ours."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logger
