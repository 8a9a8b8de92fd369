"""The failure-summary artifact speaks plainly, then gives the detail; from the stored view."""

from __future__ import annotations

from prefect_failtrack.capture import summary
from prefect_failtrack.classification import Classification, ErrorType
from prefect_failtrack.store.summaries import FlowRunView, RunOutcome


def outcome(name: str, kind: ErrorType | None, state: str = "Failed", state_type: str = "FAILED",
            attempts: int = 1, exhausted: bool = False) -> RunOutcome:
    return RunOutcome(
        run_id=f"id-{name}", name=name.split("-")[0], state=state, state_type=state_type,
        attempts=attempts, last_at=None, error_type=kind.value if kind else None,
        error_class="mod.Error" if kind else None, message="boom | bang" if kind else None,
        reason="rule" if kind else None, fingerprint="v1:ab" if kind else None,
        run_name=name, retries_exhausted=exhausted,
    )


def test_summary_speaks_plainly_then_gives_detail() -> None:
    view = FlowRunView(flow_run_id="f", tasks=[
        outcome("extract-1", None, "Completed", "COMPLETED"),
        outcome("pull-1", ErrorType.TIMEOUT, attempts=2, exhausted=True),
        outcome("check-2", ErrorType.PERMANENT, attempts=3),
        outcome("publish-3", ErrorType.DEPENDENCY, "NotReady", "PENDING", attempts=0),
    ])
    text = summary.render("brave-otter", "Failed", view, None)
    assert text.splitlines()[:9] == [
        "# Flow run 'brave-otter' ended Failed",
        "",
        "**2 of 4 task runs failed**; 1 never ran because an upstream run failed (DEPENDENCY); "
        "partial success: 1 completed.",
        "",
        "## What went wrong",
        "",
        (
            "- **pull-1**: TIMEOUT, it took longer than allowed; look for a slow dependency or "
            "raise the timeout (2 attempts, retries exhausted)."
        ),
        (
            "- **check-2**: PERMANENT, a problem no retry can fix (permissions, a missing "
            "object, credentials or configuration); fix the cause before running again "
            "(3 attempts)."
        ),
        (
            "- **publish-3**: DEPENDENCY, something it depends on failed first; look at that "
            "failure first (never ran: an upstream run did not complete)."
        ),
    ]
    assert "| pull-1 | TIMEOUT | rule | mod.Error | boom \\| bang | 2 | `v1:ab` |" in text
    assert view.failures_by_class == {"DEPENDENCY": 1, "PERMANENT": 1, "TIMEOUT": 1}


def test_summary_of_many_failures_is_bounded() -> None:
    total = summary.LISTED + 7
    view = FlowRunView(
        flow_run_id="f", tasks=[outcome(f"t-{i}", ErrorType.UNKNOWN) for i in range(total)]
    )
    text = summary.render("x", "Failed", view, None)
    assert f"**{total} of {total} task runs failed**; none completed." in text
    assert "- ... and 7 more failed task run(s)." in text
    assert text.count("| UNKNOWN |") == summary.LISTED


def test_a_failed_subflow_is_listed_and_counted() -> None:
    child = outcome("child-flow", ErrorType.PERMANENT)
    view = FlowRunView(flow_run_id="f", subflows=[child])
    text = summary.render("parent", "Failed", view, None)
    assert "**1 of 1 subflow runs failed**." in text
    assert "- **subflow child**: PERMANENT" in text


def test_without_the_stored_view_the_flow_failure_is_told_and_where_to_look() -> None:
    flow_failure = (
        Classification(ErrorType.VALIDATION, False, "type builtins.ValueError", "ValueError",
                       "ValueError"),
        "rows must be positive",
        "v1:cd",
    )
    text = summary.render("r", "Failed", None, flow_failure, flow_run_id="1234")
    assert "could not be read when the flow run ended" in text
    assert "`failtrack timeline 1234`" in text
    assert "The flow itself failed: VALIDATION" in text
