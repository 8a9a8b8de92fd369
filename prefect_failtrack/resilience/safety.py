"""Resilience never changes a flow's outcome: its errors are logged and counted, not raised.

`neutral` guards an entry point (the answer on error is the neutral one: no circuit, no
dependency); `bounded` runs a database call in a daemon thread and waits for it a
bounded time (a database that hangs must not hang a task; a daemon thread, so a call
that never returns does not hold the process at exit).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from prefect.logging import get_logger

from ..safety import ErrorCounter, guarded

logger = get_logger("prefect_failtrack.resilience")
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
STORE_TIMEOUT_S = 2.0
"""Longest a task waits for one breaker read or write. Past it the breaker reads circuits as
closed for a while (`breaker.HUNG_BACKOFF_S`): a database that hangs costs a process one
such wait per half-minute or so, not one per task."""


ERRORS = ErrorCounter()
"""Resilience's own counter (``ERRORS.hook_errors``), apart from capture's."""


class StoreTimeout(TimeoutError):
    """A breaker read or write took longer than `STORE_TIMEOUT_S`."""


def neutral(default: Any = None) -> Callable[[F], F]:
    """Log and count any error of the decorated function, and answer `default` instead."""
    return guarded(default, counter=ERRORS, logger=logger,
                   then="the run goes on as if no circuit were involved")


def bounded(call: Callable[[], T], timeout: float = STORE_TIMEOUT_S) -> T:
    """``call()`` in a daemon thread; its result, or its error, or `StoreTimeout`."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append((True, call()))
        except BaseException as exc:  # handed to the caller, who decides
            box.append((False, exc))

    worker = threading.Thread(target=run, name="failtrack-breaker-store", daemon=True)
    worker.start()
    worker.join(timeout)
    if not box:
        raise StoreTimeout(f"the audit database did not answer within {timeout:.0f} s")
    ok, value = box[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


__all__ = ["ERRORS", "STORE_TIMEOUT_S", "StoreTimeout", "bounded", "neutral"]
