"""``failtrack classify``: one exception, or the stored failures replayed with today's rules."""

from __future__ import annotations

import json
from typing import Annotated, Any

from cyclopts import Parameter

from ._common import CLIError, open_engine, out, parse_duration, show


def classify(
    exception: str | None = None,
    *,
    replay: bool = False,
    explain: bool = False,
    since: str = "7d",
    url: str | None = None,
    as_json: Annotated[bool, Parameter(name="--json")] = False,
) -> None:
    """Classify an exception given as ``module.Class: message`` (or a Python expression that
    makes one) and show the deciding rule; with ``--explain``, every rule asked and the facts read.

    With ``--replay``: re-classify the failures stored in the window with today's rules
    (a shadow run, nothing is written) and count them per old -> new class.

    Parameters
    ----------
    exception
        For example ``"httpx.ConnectTimeout: timed out"`` or ``"ValueError: bad date"``, or a
        Python expression such as ``"pymysql.err.OperationalError(2013, 'Lost connection')"``
        (the modules it names are imported).
    replay
        Re-classify stored failures instead of one exception.
    explain
        Show every rule asked, layer by layer, the one that decided and the facts read
        (status, SQLSTATE, errno, codes, the library's verdict, delay).
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
    from ..classification.text import exception_from_expression, exception_from_text

    exc = exception_from_expression(exception) or exception_from_text(exception, allow_import=True)
    if exc is None:
        raise CLIError(f"cannot read an exception from {exception!r}: use 'module.Class: message'")
    if explain:
        from ..classification.explain import explain as explain_exception

        _show_explanation(explain_exception(exc), as_json)
        return
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


def _show_explanation(found: Any, as_json: bool) -> None:
    """`classify --explain`: the explanation as JSON, or as lines."""
    if as_json:
        out.print_json(json.dumps(found.as_dict()))
        return
    retry = "retryable" if found.retryable else "not retryable"
    lines = [f"{found.error_type} ({retry}) — decided by {found.reason!r}"
             f" in {found.decided_in or 'no layer'}"]
    if found.text_only:
        lines.append("  judged on the message text only: nothing the library states decided")
    lines.append("Exceptions (outermost first) and what each states about itself:")
    for link in found.chain:
        facts = ", ".join(f"{k}={v!r}" for k, v in link.facts.items()) or "nothing"
        lines.append(f"  {link.exception}: {link.message!r}\n    facts: {facts}")
    lines.append("Rules asked, in order:")
    for step in found.steps:
        lines.append(f"  [{step.layer}] {step.exception} — {step.rule}: {step.verdict or 'no'}")
    if found.retry_after is not None:
        lines.append(f"The error asks to wait {found.retry_after:g} s.")
    out.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)
