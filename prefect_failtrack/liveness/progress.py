"""`record_progress`: how far a running task (or flow) has got, carried by its heartbeat."""

from __future__ import annotations

import time
from numbers import Integral

from prefect.context import FlowRunContext, TaskRunContext

from .heartbeat import BEAT, logger

MESSAGE_CHARS = 1000
"""Characters of a message kept at the call (the beat redacts, then keeps 200)."""
LOGGED = 10
"""Bad calls logged per process; the rest are counted (`COMPLAINTS`)."""


class _Complaints:
    count = 0


COMPLAINTS = _Complaints()


def record_progress(
    rows: int | None = None, message: str | None = None, *unexpected: object, **unknown: object
) -> None:
    """Say how far the current task run (or flow run) has got: shown by ``failtrack stuck``
    and ``failtrack timeline`` while it runs, and kept on the ``Crashed`` row should its
    process die.

    Each call replaces what it gives (``rows`` is a count so far, not an increment) and
    keeps the rest. It costs a microsecond or two and never raises: bad input (``rows``
    not a whole number of 0 or more, ``message`` not text, other arguments, a call outside
    a run) is skipped with one log line. The heartbeat carries the latest values at its
    next beat; only runs of ``tracked_task`` / ``tracked_flow`` have one.

    Examples:
        >>> for n, batch in enumerate(batches, 1):  # doctest: +SKIP
        ...     load(batch)
        ...     record_progress(rows=n * len(batch), message=f"batch {n} of {total}")
    """
    try:
        _record(rows, message, unexpected, unknown)
    except Exception as exc:  # never the task's problem
        _complain(f"failed ({type(exc).__name__}: {exc})")


def _record(
    rows: object, message: object, unexpected: tuple[object, ...], unknown: dict[str, object]
) -> None:
    if unexpected or unknown:
        extra = [f"{len(unexpected)} more positional argument(s)"] if unexpected else []
        extra += [f"{name}=" for name in unknown]
        _complain(f"takes rows= and message= only; ignored: {', '.join(extra)}")
    if rows is not None and not _count(rows):
        _complain(f"rows must be a whole number of 0 or more, not {_shown(rows)}; skipped")
        return
    if message is not None and not isinstance(message, str):
        _complain(f"message must be text, not {type(message).__name__}; skipped")
        return
    if rows is None and message is None:
        if not (unexpected or unknown):
            _complain("was given neither rows= nor message=; skipped")
        return
    task_ctx = TaskRunContext.get()
    run = task_ctx.task_run if task_ctx is not None else None
    if run is None:
        flow_ctx = FlowRunContext.get()
        run = flow_ctx.flow_run if flow_ctx is not None else None
    if run is None:
        _complain("was called outside a task or flow run; skipped")
        return
    if not BEAT.running:
        return  # nothing beats in this process (recording is off, or the run is not tracked)
    previous = BEAT.progress.get(run.id)
    if previous is not None:
        rows = rows if rows is not None else previous[0]
        message = message if message is not None else previous[1]
    BEAT.progress[run.id] = (
        int(rows) if rows is not None else None,  # type: ignore[call-overload]
        message[:MESSAGE_CHARS] if isinstance(message, str) else None,
        time.time(),
    )


def _count(rows: object) -> bool:
    """A whole number of 0 or more (an ``int`` told at once: ``Integral``'s check is slow)."""
    if type(rows) is not int and (isinstance(rows, bool) or not isinstance(rows, Integral)):
        return False
    return rows >= 0  # type: ignore[operator]


def _complain(problem: str) -> None:
    COMPLAINTS.count += 1
    if COMPLAINTS.count <= LOGGED:
        more = "; further ones are not logged" if COMPLAINTS.count == LOGGED else ""
        logger.warning("failtrack: record_progress %s%s.", problem, more)


def _shown(value: object) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 40 else text[:39] + "…"
