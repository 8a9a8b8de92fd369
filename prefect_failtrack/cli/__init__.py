"""The ``failtrack`` command (cyclopts).

One module per group of commands: `classify`, `reports` (report, patterns, stuck),
`runs` (runs, timeline), `db` (db upgrade, prune), `reconcile`, `collect`, `resilience`
(circuits, dead-letters, requeue); what they share (options,
parsing, the audit database opened for reading, one-line errors) is in `_common`. This
module assembles the app and runs it.

Bad input (a malformed duration, an unknown run id, an unusable database) gets one clear
line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import sys

from cyclopts import App

from .._version import __version__
from ._common import CLIError, complain, first_line, out, parse_duration, parse_time
from .classify import classify
from .collect import collect
from .db import prune, upgrade
from .reconcile import reconcile
from .reports import patterns, report, stuck
from .resilience import circuits, dead_letters, requeue
from .runs import runs, timeline

app = App(
    name="failtrack",
    help="Failure classification and audit trail for Prefect flows.",
    version=__version__,
)
db_app = App(name="db", help="The audit database: create or upgrade its schema.")
db_app.command(upgrade)
app.command(db_app)
for command in (classify, report, patterns, runs, timeline, stuck, reconcile, prune, collect):
    app.command(command)
app.command(circuits)
app.command(dead_letters, name="dead-letters")
app.command(requeue)


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
        complain(str(problem))
        return 2
    except SQLAlchemyError as problem:
        complain(f"the audit database cannot be used: {first_line(problem)}")
        return 2
    return 0


__all__ = ["CLIError", "app", "main", "parse_duration", "parse_time"]
