"""What every ``failtrack`` command shares: the consoles, the one-line error, parsing of
durations and times, the shared options, and the audit database opened for reading.

The shared options are dataclasses flattened into each command's options
(``Parameter(name="*")``): `Scope` (``--since``, ``--until``, ``--flow``) and `Audit`
(``--url``, ``--json``). A command whose window reaches back another length by default
takes a subclass that only changes that default (`WeekScope`), so that ``--help`` shows it.
"""

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from cyclopts import Parameter
from pydantic import BaseModel
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy import Engine

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


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 time; naive ones are UTC."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CLIError(f"malformed time {text!r}: use ISO 8601, such as 2026-03-10T12:00") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def positive(option: str, number: int) -> int:
    """A count option (``--top``, ``--limit``), checked."""
    if number < 1:
        raise CLIError(f"{option} must be 1 or more, not {number}")
    return number


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def complain(problem: str) -> None:
    """One line on stderr, printed as is (a message may hold brackets that look like markup)."""
    err.print(f"failtrack: {problem}", markup=False, highlight=False)


def open_engine(url: str | None, as_json: bool = False) -> "Engine":
    """The audit database at `url` (default: the setting, the block, SQLite), for reading.

    It must exist with failtrack's schema: nothing is created, not even a folder
    (`prefect_failtrack.store.database.open_existing`). Once open, its URL (password
    hidden) is said in one line, on stdout, or on stderr when the output is JSON. Problems
    become one line that names the database.
    """
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from ..store.database import open_existing, resolve_database_url, safe_url

    target = url or resolve_database_url()
    shown = safe_url(target)
    try:
        engine = open_existing(target)
    except (ValueError, OSError, CommandError) as problem:
        raise CLIError(f"the audit database cannot be used: {first_line(problem)}") from None
    except SQLAlchemyError as problem:
        where = "" if shown in str(problem) or shown.startswith("<") else f" ({shown})"
        raise CLIError(
            f"the audit database cannot be used: {first_line(problem)}{where}"
        ) from None
    (err if as_json else out).print(
        f"Audit database: {shown}", markup=False, highlight=False, soft_wrap=True
    )
    return engine


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
    """Tables need room: 200 columns at least when the output is not a terminal (a file, a
    pipe), so that rows stay on one line each (the timeline's ten columns need ~190)."""
    if console.is_terminal:
        return console
    return Console(file=sys.stdout, width=max(console.width, 200))


Since = Annotated[str, Parameter(help="How far back the window reaches: 90s, 15m, 1h, 7d, 2w.")]
Until = Annotated[
    str | None,
    Parameter(help="Where the window ends (ISO 8601, UTC unless it says otherwise); default: now."),
]
Flow = Annotated[str | None, Parameter(help="Only runs of this flow (its name).")]
Url = Annotated[
    str | None,
    Parameter(help="The audit database (SQLAlchemy URL); default: the setting, the block, SQLite."),
]
Json = Annotated[
    bool, Parameter(name="--json", help="Print the result as JSON, on one line, instead of tables.")
]


@Parameter(name="*")
@dataclass(frozen=True)
class Scope:
    """Which runs a command looks at: a window back from ``--until``, and a flow."""

    since: Since = "24h"
    until: Until = None
    flow: Flow = None

    def window(self) -> dict[str, Any]:
        """``since``, ``until`` and ``flow`` as the report builders take them, checked."""
        return {
            "since": parse_duration(self.since),
            "until": parse_time(self.until),
            "flow": self.flow,
        }


@dataclass(frozen=True)
class WeekScope(Scope):
    """`Scope`, a week back by default."""

    since: Since = "7d"


@Parameter(name="*")
@dataclass(frozen=True)
class Audit:
    """The audit database a command works on, and whether it prints JSON."""

    url: Url = None
    as_json: Json = False

    def reader(self) -> "Engine":
        """The audit database, which must exist, opened for reading (`open_engine`)."""
        return open_engine(self.url, self.as_json)

    def show(self, model: M, render: Callable[[M, Console], None]) -> None:
        """`model` as JSON, or rendered as tables."""
        show(model, self.as_json, render)
