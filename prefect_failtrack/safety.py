"""failtrack never changes a run's outcome: its own failures are logged and counted, not raised.

`guarded` wraps a function so that an error in it is logged (with its traceback the first
three times), counted, and answered with a default instead. Capture's hooks count in
`COUNTERS` (``hook_errors``); resilience counts in a counter of its own
(``prefect_failtrack.resilience.safety.ERRORS``), so that drills can tell them apart.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from prefect.logging import get_logger

F = TypeVar("F", bound=Callable[..., Any])


class ErrorCounter:
    """How often failtrack caught its own failure (``hook_errors``, for the drills and tests)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hook_errors = 0

    def failed(self) -> int:
        with self.lock:
            self.hook_errors += 1
            return self.hook_errors


COUNTERS = ErrorCounter()
"""Capture's counter: failures of hooks, the retry condition and the flow-end work."""


def guarded(
    default: Any = None,
    *,
    counter: ErrorCounter = COUNTERS,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
    then: str = "the run goes on unaffected",
) -> Callable[[F], F]:
    """Never let failtrack's own failure reach the run: log it, count it, return `default`.

    `then` says, in the log line, what happens instead ("the run goes on unaffected")."""
    log = logger or get_logger("prefect_failtrack.capture")

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def safe(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                count = counter.failed()
                log.warning(
                    "failtrack: %s failed (%s: %s); %s [%d so far].",
                    fn.__name__, type(exc).__name__, exc, then, count, exc_info=count <= 3,
                )
                return default

        return safe  # type: ignore[return-value]

    return wrap


__all__ = ["COUNTERS", "ErrorCounter", "guarded"]
