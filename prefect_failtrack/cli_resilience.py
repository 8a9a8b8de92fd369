"""The ``failtrack`` commands about dependencies: circuits, dead-letters, requeue.

They register on `prefect_failtrack.cli.app`, like ``cli_audit``; ``--url`` is the audit
database (default: the setting, the block, SQLite), ``--json`` prints the model exactly
(its ``model_dump_json()``). Input is checked before the database is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from cyclopts import Parameter
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .cli import CLIError, app, open_engine, out, parse_duration, parse_time, print_json, wide

Json = Annotated[bool, Parameter(name="--json", help="Print the result as JSON.")]
Url = Annotated[
    str | None,
    Parameter(help="The audit database (SQLAlchemy URL); default: the setting, the block, SQLite."),
]
CLASSES = ("TRANSIENT", "PERMANENT", "TIMEOUT", "VALIDATION", "DEPENDENCY", "UNKNOWN")


def _when(value: Any) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value is not None else "-"


def _short(text: str | None, limit: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(console: Console, title: str, headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*(Text(str(cell)) for cell in row))
    console.print(table)


def _error_type(value: str | None) -> str | None:
    if value is None:
        return None
    upper = value.strip().upper()
    if upper not in CLASSES:
        raise CLIError(f"unknown class {value!r}: use one of {', '.join(CLASSES)}")
    return upper


@app.command
def circuits(
    *, dependency: str | None = None, close: str | None = None, url: Url = None, as_json: Json = False
) -> None:
    """Each dependency's circuit: its state, failures in its window, and since when it is open.

    Parameters
    ----------
    dependency
        Only the circuit of this dependency (its name, e.g. warehouse or http://api:8080).
    close
        Close the circuit of this dependency now (the dependency is known to be back); sends
        failtrack.circuit.closed, and requeues its dead letters when requeue_on_close is set.
    """
    from .resilience.report import build_circuits

    engine = open_engine(url)
    if close is not None:
        from .resilience.breaker import Breaker
        from .settings import get_settings

        breaker = Breaker(get_settings(), url=engine.url.render_as_string(hide_password=False))
        if breaker.state(close, fresh=True) is None:
            raise CLIError(f"no circuit for {close!r}: `failtrack circuits` lists them")
        closed = breaker.succeeded(close, None)
        _flush_events()
        said = f"Closed the circuit of {close!r}." if closed else f"The circuit of {close!r} is closed already."
        wide(out).print(said, markup=False, highlight=False)
        return
    report = build_circuits(engine, dependency=dependency)
    if as_json:
        print_json(report)
        return
    console = wide(out)
    if not report.circuits:
        console.print("No circuit yet: no dependency has failed TRANSIENT or TIMEOUT.", markup=False)
        return
    _table(
        console, "Circuits",
        ("dependency", "state", "since", "half-open at", "failures / threshold", "window (s)", "trips"),
        [(v.dependency, v.state + ("" if v.enabled else " (off)"), _when(v.since), _when(v.open_until),
          f"{v.failures_in_window} / {v.threshold}", f"{v.window_seconds:.0f}", v.trips)
         for v in report.circuits],  # fmt: skip
    )


def _flush_events() -> None:
    """Send the events emitted so far before the command exits."""
    try:
        from prefect.events.worker import EventsWorker

        EventsWorker.instance().wait_until_empty()
    except Exception:
        pass


@Parameter(name="*")
@dataclass
class LetterFilters:
    """Which dead letters: shared by ``dead-letters`` and ``requeue``.

    Parameters
    ----------
    since
        How far back to look: 90s, 15m, 1h, 7d, 2w.
    until
        Where the window ends (ISO 8601, UTC unless it says otherwise); default: now.
    flow
        Only runs of this flow (its name).
    error_type
        Only dead letters with a failure of this class (TRANSIENT, TIMEOUT, DEPENDENCY...).
    fingerprint
        Only dead letters with a failure of this fingerprint.
    dependency
        Only dead letters with a failure on this dependency.
    """

    since: str = "7d"
    until: str | None = None
    flow: str | None = None
    error_type: str | None = None
    fingerprint: str | None = None
    dependency: str | None = None

    def report(self, url: str | None, include_requeued: bool = False) -> tuple[Any, Any]:
        """The engine, and the dead letters these filters select (input checked first)."""
        from .resilience.dead_letters import build_dead_letters

        options = {"since": parse_duration(self.since), "until": parse_time(self.until),
                   "error_type": _error_type(self.error_type)}  # fmt: skip
        engine = open_engine(url)
        report = build_dead_letters(
            engine, **options, flow=self.flow, fingerprint=self.fingerprint,
            dependency=self.dependency, include_requeued=include_requeued,
        )
        return engine, report


@app.command(name="dead-letters")
def dead_letters(
    *,
    filters: LetterFilters = LetterFilters(),  # noqa: B008  (cyclopts reads the default)
    all_runs: Annotated[bool, Parameter(name="--all")] = False,
    url: Url = None,
    as_json: Json = False,
) -> None:
    """Flow runs that gave up on passing trouble, with what running them again needs.

    A dead letter ended Failed after spending its class budget, or with a retryable class it
    could not retry (a circuit that stayed open included), and with no PERMANENT or
    VALIDATION failure. ``--json`` shows the parameters as stored (redacted).

    Parameters
    ----------
    all_runs
        Also the ones requeued already.
    """
    _, report = filters.report(url, all_runs)
    if as_json:
        print_json(report)
        return
    console = wide(out)
    letters = report.dead_letters
    if not letters:
        console.print(f"No dead letter since {filters.since!r}.", markup=False)
        return
    _table(
        console, f"Dead letters since {filters.since!r}",
        ("failed at", "flow", "flow run id", "class", "dependency", "attempts", "requeue", "message"),
        [(_when(d.failed_at), d.flow_name or "-", d.flow_run_id, d.error_type, d.dependency or "-",
          d.attempts, "possible" if d.requeue.possible else _short(d.requeue.reason, 40),
          _short(d.message)) for d in letters],  # fmt: skip
    )
    if report.cannot_requeue:
        console.print(f"{report.cannot_requeue} of them have no deployment: they cannot be "
                      "requeued; run their flows again by hand.", markup=False)


@app.command
def requeue(
    *,
    filters: LetterFilters = LetterFilters(),  # noqa: B008  (cyclopts reads the default)
    limit: int | None = None,
    dry_run: bool = False,
    url: Url = None,
    as_json: Json = False,
) -> None:
    """Run dead letters again: a new flow run of the same deployment, same parameters, each once.

    Each new run is labelled failtrack.requeue-of=<the run it replaces>; a dead letter is never
    requeued twice (``failtrack dead-letters --all`` shows as what it was).

    Parameters
    ----------
    limit
        Requeue at most this many (oldest first).
    dry_run
        Only say what would be requeued.
    """
    from .config import api_configured
    from .resilience.requeue import requeue as requeue_letters

    if limit is not None and limit < 1:
        raise CLIError(f"--limit must be 1 or more, not {limit}")
    if not dry_run and not api_configured():
        raise CLIError("requeue creates flow runs through Prefect's API: set PREFECT_API_URL "
                       "(or use --dry-run)")
    engine, report = filters.report(url)
    result = requeue_letters(engine, report.dead_letters, dry_run=dry_run, limit=limit)
    if as_json:
        print_json(result)
        return
    console = wide(out)
    for o in result.outcomes:
        name = f"flow run {o.flow_run_id!r} ({o.flow_name or '-'})"
        if o.action == "requeued":
            console.print(f"Requeued {name} as {o.new_flow_run_id!r}.", markup=False)
        elif o.action == "would requeue":
            console.print(f"Would requeue {name} (deployment {o.deployment_id!r}).", markup=False)
        elif o.action == "failed":
            console.print(f"Could not requeue {name}: {o.reason}", markup=False)
        else:
            console.print(f"Skipped {name}: {o.reason}.", markup=False)
    verb = "would requeue" if dry_run else "requeued"
    console.print(f"{result.requeued} {verb}, {result.skipped} skipped, {result.failed} failed.",
                  markup=False)  # fmt: skip
