"""Dependencies that keep failing: ``failtrack circuits``, ``dead-letters``, ``requeue``.

Input is checked before the database is opened; ``--json`` prints the model exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from cyclopts import Parameter
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ._common import Audit, CLIError, WeekScope, out, positive, wide

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


def _say(text: str) -> None:
    wide(out).print(text, markup=False, highlight=False)


def _error_type(value: str | None) -> str | None:
    if value is None:
        return None
    upper = value.strip().upper()
    if upper not in CLASSES:
        raise CLIError(f"unknown class {value!r}: use one of {', '.join(CLASSES)}")
    return upper


def circuits(
    *,
    dependency: Annotated[
        str | None,
        Parameter(help="Only the circuit of this dependency (its name, e.g. warehouse or http://api:8080)."),
    ] = None,
    close: Annotated[
        str | None,
        Parameter(
            help="Close the circuit of this dependency now (it is known to be back); sends "
            "failtrack.circuit.closed, and requeues its dead letters when requeue_on_close is set."
        ),
    ] = None,
    audit: Audit = Audit(),
) -> None:
    """Each dependency's circuit: its state, failures in its window, and since when it is open."""
    from ..resilience.report import build_circuits

    engine = audit.reader()
    if close is not None:
        from ..resilience.breaker import Breaker
        from ..settings import get_settings

        breaker = Breaker(get_settings(), url=engine.url.render_as_string(hide_password=False))
        if breaker.state(close, fresh=True) is None:
            raise CLIError(f"no circuit for {close!r}: `failtrack circuits` lists them")
        closed = breaker.succeeded(close, None)
        _flush_events()
        _say(f"Closed the circuit of {close!r}." if closed else f"The circuit of {close!r} is closed already.")
        return
    audit.show(build_circuits(engine, dependency=dependency), _render_circuits)


def _render_circuits(report: Any, console: Console) -> None:
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
@dataclass(frozen=True)
class LetterFilters(WeekScope):
    """Which dead letters: a window and a flow (`WeekScope`), and what their failure was.

    Parameters
    ----------
    error_type
        Only dead letters with a failure of this class (TRANSIENT, TIMEOUT, DEPENDENCY...).
    fingerprint
        Only dead letters with a failure of this fingerprint.
    dependency
        Only dead letters with a failure on this dependency.
    """

    error_type: str | None = None
    fingerprint: str | None = None
    dependency: str | None = None

    def report(self, audit: Audit, include_requeued: bool = False) -> tuple[Any, Any]:
        """The engine, and the dead letters these filters select (input checked first)."""
        from ..resilience.dead_letters import build_dead_letters

        options = {**self.window(), "error_type": _error_type(self.error_type)}
        engine = audit.reader()
        report = build_dead_letters(
            engine, **options, fingerprint=self.fingerprint,
            dependency=self.dependency, include_requeued=include_requeued,
        )  # fmt: skip
        return engine, report


def dead_letters(
    *,
    filters: LetterFilters = LetterFilters(),
    all_runs: Annotated[
        bool, Parameter(name="--all", help="Also the ones requeued already.")
    ] = False,
    audit: Audit = Audit(),
) -> None:
    """Flow runs that gave up on passing trouble, with what running them again needs.

    A dead letter ended Failed after spending its class budget, or with a retryable class it
    could not retry (a circuit that stayed open included), and with no PERMANENT or
    VALIDATION failure. ``--json`` shows the parameters as stored (redacted).
    """
    _, report = filters.report(audit, all_runs)
    audit.show(report, lambda r, console: _render_letters(r, console, filters.since))


def _render_letters(report: Any, console: Console, since: str) -> None:
    letters = report.dead_letters
    if not letters:
        console.print(f"No dead letter since {since!r}.", markup=False)
        return
    _table(
        console, f"Dead letters since {since!r}",
        ("failed at", "flow", "flow run id", "class", "dependency", "attempts", "requeue", "message"),
        [(_when(d.failed_at), d.flow_name or "-", d.flow_run_id, d.error_type, d.dependency or "-",
          d.attempts, "possible" if d.requeue.possible else _short(d.requeue.reason, 40),
          _short(d.message)) for d in letters],  # fmt: skip
    )
    if report.cannot_requeue:
        console.print(f"{report.cannot_requeue} of them have no deployment: they cannot be "
                      "requeued; run their flows again by hand.", markup=False)  # fmt: skip


def requeue(
    *,
    filters: LetterFilters = LetterFilters(),
    limit: Annotated[int | None, Parameter(help="Requeue at most this many (oldest first).")] = None,
    dry_run: Annotated[bool, Parameter(help="Only say what would be requeued.")] = False,
    audit: Audit = Audit(),
) -> None:
    """Run dead letters again: a new flow run of the same deployment, same parameters, each once.

    Each new run is labelled failtrack.requeue-of=<the run it replaces>; a dead letter is never
    requeued twice (``failtrack dead-letters --all`` shows as what it was).
    """
    from ..config import api_configured
    from ..resilience.requeue import requeue as requeue_letters

    if limit is not None:
        positive("--limit", limit)
    if not dry_run and not api_configured():
        raise CLIError("requeue creates flow runs through Prefect's API: set PREFECT_API_URL "
                       "(or use --dry-run)")  # fmt: skip
    engine, report = filters.report(audit)
    result = requeue_letters(engine, report.dead_letters, dry_run=dry_run, limit=limit)
    audit.show(result, _render_requeue)


def _render_requeue(result: Any, console: Console) -> None:
    for o in result.outcomes:
        name = f"flow run {o.flow_run_id!r} ({o.flow_name or '-'})"
        if o.action == "requeued":
            said = f"Requeued {name} as {o.new_flow_run_id!r}."
        elif o.action == "would requeue":
            said = f"Would requeue {name} (deployment {o.deployment_id!r})."
        elif o.action == "failed":
            said = f"Could not requeue {name}: {o.reason}"
        else:
            said = f"Skipped {name}: {o.reason}."
        console.print(said, markup=False)
    verb = "would requeue" if result.dry_run else "requeued"
    console.print(f"{result.requeued} {verb}, {result.skipped} skipped, {result.failed} failed.",
                  markup=False)  # fmt: skip
