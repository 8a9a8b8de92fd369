"""The ``failtrack`` command.

Bad input (a malformed duration, an unknown run id, an unreachable database)
gets one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, TypeVar

from cyclopts import App, Parameter
from pydantic import BaseModel
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy import Engine

from ._version import __version__

app = App(
    name="failtrack",
    help="Failure classification and audit trail for Prefect flows.",
    version=__version__,
)
db_app = App(name="db", help="The audit database: create or upgrade its schema.")
app.command(db_app)

M = TypeVar("M", bound=BaseModel)
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
        from .reports import replay as replay_failures
        from .reports.render import render_replay

        window = parse_duration(since)
        show(replay_failures(open_engine(url), since=window), as_json, render_replay)
        return
    if exception is None:
        raise CLIError("give an exception as 'module.Class: message', or --replay")
    from .classification import classify as classify_exception
    from .classification.text import exception_from_text

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
    url: str | None = None,
    as_json: Annotated[bool, Parameter(name="--json")] = False,
) -> None:
    """Insert what the audit table lacks, from the Prefect API's state history.

    Parameters
    ----------
    since
        How far back to look: 90s, 15m, 1h, 7d, 2w.
    all_runs
        Also plain Prefect runs that failtrack never tracked.
    url
        The audit database (SQLAlchemy URL); default as everywhere.
    as_json
        Print the counts as JSON.
    """
    from .reconcile import reconcile as run_reconcile

    window = parse_duration(since)
    result = run_reconcile(window, all_runs=all_runs, url=url)
    if as_json:
        out.print_json(result.model_dump_json())
    else:
        out.print(
            f"Reconciled {result.flow_runs} flow run(s) and {result.task_runs} task run(s) "
            f"since {since!r}: read {result.states_read} state(s), added {result.inserted} row(s) "
            f"and {result.summaries_added} summary(ies)."
        )


def open_engine(url: str | None) -> Engine:
    """The audit database's engine, its schema upgraded; problems become one line."""
    from alembic.util import CommandError

    from .store.database import ensure_schema, get_engine, resolve_database_url

    target = url or resolve_database_url()
    try:
        ensure_schema(target)
        return get_engine(target)
    except (ValueError, OSError, CommandError) as problem:
        raise CLIError(f"the audit database cannot be used: {_first_line(problem)}") from None


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 time; naive ones are UTC."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CLIError(f"malformed time {text!r}: use ISO 8601, such as 2026-03-10T12:00") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def positive_top(number: int) -> int:
    """``--top``, checked."""
    if number < 1:
        raise CLIError(f"--top must be 1 or more, not {number}")
    return number


def print_json(model: BaseModel) -> None:
    """Exactly ``model.model_dump_json()`` on stdout, one line."""
    sys.stdout.write(model.model_dump_json() + "\n")
    sys.stdout.flush()


def show(model: M, as_json: bool, render: Callable[[M, Console], None]) -> None:
    """The model as JSON, or rendered as tables."""
    if as_json:
        print_json(model)
    else:
        render(model, wide(out))


def wide(console: Console) -> Console:
    """Tables need room: 140 columns at least when the output is not a terminal."""
    if console.is_terminal:
        return console
    return Console(file=sys.stdout, width=max(console.width, 140))


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
        _complain(str(problem))
        return 2
    except SQLAlchemyError as problem:
        _complain(f"the audit database cannot be used: {_first_line(problem)}")
        return 2
    return 0


def _complain(problem: str) -> None:
    """One line on stderr, printed as is (a message may hold brackets that look like markup)."""
    err.print(f"failtrack: {problem}", markup=False, highlight=False)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


from . import cli_audit  # noqa: F401  (its commands: report, patterns, timeline, stuck, prune)
from . import cli_resilience  # noqa: E402,F401  (resilience: circuits, dead-letters, requeue)
