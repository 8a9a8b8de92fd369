"""The failure-summary artifact on a failed flow run: what failed, in words, then the detail.

The first part is for whoever opens the run in the Prefect UI: which task runs (and
subflows) failed, what kind of problem each was, whether retries were spent, which
never ran because an upstream failed, and whether some work still completed (partial
success). The second part is for debugging: error class, deciding rule, the
(redacted) message, fingerprint.

It is rendered from the flow run's view as stored (`prefect_failtrack.store.summaries`),
the same rows whichever process ran the tasks. The artifact carries the key
``failtrack-failure-summary-<flow>``, so that the Artifacts page keeps the history of a
flow's failures, and is attached to the flow run explicitly (not through the run
context, which a hook may lack).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ..classification import Classification, ErrorType
from ..redaction import get_redactor

if TYPE_CHECKING:
    from ..store.summaries import FlowRunView, RunOutcome

KEY_PREFIX = "failtrack-failure-summary"
MESSAGE_CHARS = 300
LISTED = 50  # failed runs described one by one; the rest are counted

#: What each class means to someone who did not write the code, and what to do about it.
MEANING: dict[ErrorType, str] = {
    ErrorType.TRANSIENT: "a temporary problem (network, throttling, a service briefly "
    "unavailable); it may pass on its own, check the service if it keeps happening",
    ErrorType.PERMANENT: "a problem no retry can fix (permissions, a missing object, "
    "credentials or configuration); fix the cause before running again",
    ErrorType.TIMEOUT: "it took longer than allowed; look for a slow dependency or raise "
    "the timeout",
    ErrorType.VALIDATION: "the data or parameters are not valid; running again with the "
    "same input will fail again",
    ErrorType.DEPENDENCY: "something it depends on failed first; look at that failure first",
    ErrorType.UNKNOWN: "an error failtrack does not recognise; the details below say more, "
    "and a classification rule can teach failtrack this error",
}


def artifact_key(flow_name: str) -> str:
    """``failtrack-failure-summary-<flow>``: lowercase letters, digits and dashes only."""
    slug = re.sub(r"[^a-z0-9]+", "-", flow_name.lower()).strip("-")[:80] or "flow"
    return f"{KEY_PREFIX}-{slug}"


def _cell(text: Any, limit: int = MESSAGE_CHARS) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _attempts(outcome: RunOutcome) -> str:
    if outcome.not_ready:
        return "never ran: an upstream run did not complete"
    tries = f"{outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''}"
    if outcome.retries_exhausted:
        return f"{tries}, retries exhausted"
    if outcome.attempts <= 1:
        return f"{tries}, not retried"
    return tries


def _kind(outcome: RunOutcome) -> ErrorType:
    value = outcome.error_type or "UNKNOWN"
    return ErrorType(value) if value in ErrorType.__members__ else ErrorType.UNKNOWN


def _headline(view: FlowRunView) -> list[str]:
    total, failed, completed = len(view.tasks), len(view.failed), view.completed
    never = len(view.not_ready)
    lines: list[str] = []
    if total:
        line = f"**{failed} of {total} task runs failed**"
        if never:
            line += f"; {never} never ran because an upstream run failed (DEPENDENCY)"
        if completed and (failed or never):
            line += f"; partial success: {completed} completed."
        elif not completed:
            line += "; none completed."
        else:
            line += "."
        lines += [line, ""]
    if view.subflows:
        lines += [f"**{len(view.failed_subflows)} of {len(view.subflows)} subflow runs failed**.", ""]
    return lines


def render(
    flow_run_name: str,
    state_name: str,
    view: FlowRunView | None,
    flow_failure: tuple[Classification, str | None, str | None] | None,
    flow_run_id: str | None = None,
) -> str:
    """The markdown of the summary. `view`: the flow run as stored (``None`` when the audit
    database could not be read); `flow_failure`: (classification, message, fingerprint)."""
    md = [f"# Flow run {flow_run_name!r} ended {state_name}", ""]
    failures: list[tuple[str, RunOutcome]] = []
    if view is not None:
        md += _headline(view)
        failures = [("subflow", s) for s in view.failed_subflows]
        failures += [("task", t) for t in view.tasks if t.failed or t.not_ready]
    else:
        shown = f" (`failtrack timeline {flow_run_id}`)" if flow_run_id else ""
        md += [
            "_The task runs' details are not here: the audit database could not be read when "
            f"the flow run ended. They are stored once it answers again{shown}._",
            "",
        ]
    if failures:
        md += ["## What went wrong", ""]
        for kind, f in failures[:LISTED]:
            what = _kind(f)
            label = f"subflow {f.name}" if kind == "subflow" else (f.run_name or f.name)
            md.append(f"- **{_cell(label, 120)}**: {what.value}, {MEANING[what]} ({_attempts(f)}).")
        if len(failures) > LISTED:
            md.append(f"- ... and {len(failures) - LISTED} more failed task run(s).")
        md.append("")
    if flow_failure is not None and not failures:
        classification, _, _ = flow_failure
        kind = classification.error_type
        md += ["## What went wrong", ""]
        md += [f"The flow itself failed: {kind.value}, {MEANING[kind]}.", ""]
    md += ["## Details for debugging", ""]
    redact = get_redactor().redact  # messages are redacted already; a rule's reason may quote one
    md += [
        "| run | class | deciding rule | error | message | attempts | fingerprint |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, f in failures[:LISTED]:
        label = f"subflow {f.name}" if kind == "subflow" else (f.run_name or f.name)
        md.append(
            f"| {_cell(label)} | {_kind(f).value} | {_cell(redact(f.reason or '-'))} "
            f"| {_cell(f.error_class or '-')} | {_cell(f.message or '')} | {f.attempts} "
            f"| `{f.fingerprint or '-'}` |"
        )
    if flow_failure is not None:
        c, message, fingerprint = flow_failure
        md.append(
            f"| flow run | {c.error_type.value} | {_cell(redact(c.reason))} "
            f"| {_cell(c.error_class)} | {_cell(message or '')} | - | `{fingerprint or '-'}` |"
        )
    md += ["", "_Written by prefect-failtrack; the audit table has every transition._"]
    return "\n".join(md)


def publish(flow_run: Any, flow_name: str, markdown: str) -> UUID:
    """Create the artifact on `flow_run` with Prefect's sync client.

    The client, not ``create_markdown_artifact``: that one is ``async_dispatch``ed
    (prefect/artifacts.py) and would hand back an un-awaited coroutine when the
    hook runs inside the async engine's event loop; this works in both engines.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import ArtifactCreate

    artifact = ArtifactCreate(
        key=artifact_key(flow_name),
        type="markdown",
        description=f"failtrack: why flow run {flow_run.name!r} failed",
        data=markdown,
        flow_run_id=flow_run.id,
    )
    with get_client(sync_client=True) as client:
        return client.create_artifact(artifact=artifact).id


__all__ = ["KEY_PREFIX", "MEANING", "artifact_key", "publish", "render"]
