"""failtrack's verdict on Prefect's own OpenTelemetry span of a task run.

Prefect 3 opens one span per task run (``prefect/telemetry/run_telemetry.py``) and makes
it current while the run executes (``task_engine.py``: ``trace.use_span`` in ``start``);
it ends the span when the run fails, before the failure hooks run. So failtrack sets its
attributes from the retry condition, which Prefect calls while the span is current, and
from the failure hook only if the span still records (a task with no retries left never
asks the condition).

Attributes, after OpenTelemetry's conventions: ``error.type`` is the exception's
fully-qualified class (semantic conventions, "Recording errors"); failtrack's own are
namespaced ``failtrack.*``.
"""

from __future__ import annotations

from typing import Any

from ..policy import RetryDecision
from ..redaction import get_redactor
from .failure import Failure


def annotate(failure: Failure, decision: RetryDecision | None) -> None:
    """Put the class, the deciding rule, the decision and the fingerprint on the current
    span, when it is a recording one (never raises)."""
    try:
        from opentelemetry import trace

        span = trace.get_current_span()
        if not span.is_recording():
            return
        classification = failure.classification
        attributes: dict[str, Any] = {
            "error.type": classification.error_class,
            "failtrack.error_type": classification.error_type.value,
            "failtrack.retryable": classification.retryable,
            "failtrack.rule": failure.columns().get("reason") or classification.reason,
            "failtrack.fingerprint": failure.columns().get("fingerprint") or "",
        }
        if decision is not None:
            attributes["failtrack.decision"] = "retry" if decision.retry else "no retry"
            attributes["failtrack.decision.message"] = get_redactor().redact(decision.message)
        span.set_attributes(attributes)
    except Exception:  # telemetry is a courtesy: it never changes a run
        return
