"""`record_metrics`: numbers a run reports about itself (rows read, rows written, bytes...)."""

from __future__ import annotations

import math
from numbers import Real

from prefect.context import FlowRunContext, TaskRunContext
from prefect.logging import get_logger

from ..redaction import get_redactor
from .memory import MEMORY

logger = get_logger("prefect_failtrack.metrics")


def record_metrics(**metrics: float) -> None:
    """Attach numbers to the current run's outcome (the row that ends its attempt) and so to
    its flow run's summary.

    Call it inside a task or a flow; values add up across calls within an
    attempt. The flow summary counts each run's latest attempt, so a retried
    load is not counted twice. A value that is not a finite number is skipped
    with a warning (the run goes on).

    Examples:
        >>> record_metrics(rows_read=10_000, rows_written=9_800, bytes=1 << 20)  # doctest: +SKIP
    """
    try:
        _record(metrics)
    except Exception:  # a metric must never fail the run that reports it
        logger.warning("failtrack: record_metrics failed; nothing was recorded.", exc_info=True)


def _record(metrics: dict[str, object]) -> None:
    task_ctx = TaskRunContext.get()
    flow_ctx = FlowRunContext.get()
    run = task_ctx.task_run if task_ctx else getattr(flow_ctx, "flow_run", None)
    if run is None:
        logger.warning(
            "failtrack: record_metrics(%s) was called outside a task or flow run; "
            "call it inside one. Nothing was recorded.", ", ".join(metrics),
        )
        return
    good = {}
    for key, value in metrics.items():
        if _finite(value):
            good[key] = value
        else:
            logger.warning(
                "failtrack: record_metrics(%s=%s) skipped: metrics must be finite numbers.",
                key, _shown(value),
            )
    if not good:
        return
    redact = get_redactor().redact  # a name may quote anything, a connection string too
    good = {redact(key): value for key, value in good.items()}
    memory = MEMORY.run(str(run.id))
    with MEMORY.lock:  # reports from several threads of one run add up
        for key, value in good.items():
            memory.pending_metrics[key] = memory.pending_metrics.get(key, 0) + value


def _finite(value: object) -> bool:
    """A real number that is finite as a float (a 400-digit integer is not)."""
    if not isinstance(value, Real) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except Exception:  # too large for a float, or a number whose float() raises
        return False


def _shown(value: object) -> str:
    try:
        return repr(value)[:100]
    except Exception:
        return f"<{type(value).__name__}>"
