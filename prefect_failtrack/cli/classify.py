"""``failtrack classify``: one exception, or the stored failures replayed with today's rules."""

from __future__ import annotations

import json
from typing import Annotated

from cyclopts import Parameter

from ._common import CLIError, open_engine, out, parse_duration, show


def classify(
    exception: str | None = None,
    *,
    replay: bool = False,
    since: str = "7d",
    url: str | None = None,
    as_json: Annotated[bool, Parameter(name="--json")] = False,
) -> None:
    """Classify an exception given as ``module.Class: message`` and show the deciding rule.

    With ``--replay``: re-classify the failures stored in the window with today's rules
    (a shadow run, nothing is written) and count them per old -> new class.

    Parameters
    ----------
    exception
        For example ``"httpx.ConnectTimeout: timed out"`` or ``"ValueError: bad date"``.
    replay
        Re-classify stored failures instead of one exception.
    since
        With --replay: how far back to look (90s, 15m, 1h, 7d, 2w).
    url
        With --replay: the audit database (SQLAlchemy URL); default as everywhere.
    as_json
        Print JSON instead of a sentence or a table.
    """
    if replay:
        if exception is not None:
            raise CLIError("give either an exception or --replay, not both")
        from ..reports import replay as replay_failures
        from ..reports.render import render_replay

        window = parse_duration(since)
        show(replay_failures(open_engine(url, as_json), since=window), as_json, render_replay)
        return
    if exception is None:
        raise CLIError("give an exception as 'module.Class: message', or --replay")
    from ..classification import classify as classify_exception
    from ..classification.text import exception_from_text

    exc = exception_from_text(exception, allow_import=True)
    if exc is None:
        raise CLIError(f"cannot read an exception from {exception!r}: use 'module.Class: message'")
    result = classify_exception(exc)
    payload = {
        "error_type": result.error_type.value,
        "retryable": result.retryable,
        "reason": result.reason,
        "error_class": result.error_class,
        "retry_after": result.retry_after,
    }
    if as_json:
        out.print_json(json.dumps(payload))
    else:
        retry = "retryable" if result.retryable else "not retryable"
        out.print(
            f"{result.error_type.value} ({retry}) — decided by {result.reason!r}", markup=False
        )
