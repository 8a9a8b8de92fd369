"""The ``failtrack`` command.

Bad input (a malformed duration, an unknown run id, an unreachable database)
gets one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import timedelta
from typing import Annotated, Any

from cyclopts import App, Parameter
from rich.console import Console

from ._version import __version__

app = App(
    name="failtrack",
    help="Failure classification and audit trail for Prefect flows.",
    version=__version__,
)
db_app = App(name="db", help="The audit database: create or upgrade its schema.")
app.command(db_app)

out = Console()
err = Console(stderr=True, soft_wrap=True)


class CLIError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``1h``, ``7d``, ``2w`` -> timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise CLIError(
            f"malformed duration {text!r}: use a number and a unit, such as 90s, 15m, 1h, 7d or 2w"
        )
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


@app.command
def classify(
    exception: str,
    *,
    as_json: Annotated[bool, Parameter(name="--json")] = False,
) -> None:
    """Classify an exception given as ``module.Class: message`` and show the deciding rule.

    Parameters
    ----------
    exception
        For example ``"httpx.ConnectTimeout: timed out"`` or ``"ValueError: bad date"``.
    as_json
        Print JSON instead of a sentence.
    """
    from .classification import classify as classify_exception
    from .classification.text import exception_from_text

    exc = exception_from_text(exception, allow_import=True)
    if exc is None:
        raise CLIError(
            f"cannot read an exception from {exception!r}: use 'module.Class: message'"
        )
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
        out.print(f"{result.error_type.value} ({retry}) — decided by {result.reason!r}")


@db_app.command
def upgrade(url: str | None = None) -> None:
    """Create or upgrade the audit schema (idempotent).

    Parameters
    ----------
    url
        SQLAlchemy URL; default: PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL, the block, or SQLite.
    """
    from .store.database import current_revision, resolve_database_url
    from .store.database import upgrade as upgrade_schema

    target = url or resolve_database_url()
    before = current_revision(target)
    upgrade_schema(target)
    after = current_revision(target)
    shown = _safe_url(target)
    if before == after:
        out.print(f"Audit schema at {shown} is up to date (revision {after!r}).")
    else:
        out.print(f"Upgraded audit schema at {shown} from {before!r} to {after!r}.")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable url>"


@app.command
def reconcile(
    *,
    since: str = "1h",
    all_runs: bool = False,
    as_json: Annotated[bool, Parameter(name="--json")] = False,
) -> None:
    """Insert what the audit table lacks, from the Prefect API's state history.

    Parameters
    ----------
    since
        How far back to look: 90s, 15m, 1h, 7d, 2w.
    all_runs
        Also plain Prefect runs that failtrack never tracked.
    as_json
        Print the counts as JSON.
    """
    from .reconcile import reconcile as run_reconcile

    window = parse_duration(since)
    result = run_reconcile(window, all_runs=all_runs)
    if as_json:
        out.print_json(result.model_dump_json())
    else:
        out.print(
            f"Reconciled {result.flow_runs} flow run(s) and {result.task_runs} task run(s) "
            f"since {since!r}: read {result.states_read} state(s), added {result.inserted} row(s) "
            f"and {result.summaries_added} summary(ies)."
        )


@app.command
def version() -> None:
    """Print the version of prefect-failtrack."""
    out.print(__version__)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script: one line and exit 2 on errors the user can fix."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        app(argv if argv is not None else sys.argv[1:], exit_on_error=True)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    except CLIError as problem:
        err.print(f"failtrack: {problem}")
        return 2
    except SQLAlchemyError as problem:
        err.print(f"failtrack: the audit database cannot be used: {_first_line(problem)}")
        return 2
    return 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
