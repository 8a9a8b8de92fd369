"""The audit database itself: ``failtrack db upgrade`` (its schema) and ``failtrack prune``
(retention). ``db upgrade`` is the only command that creates a schema."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from cyclopts import Parameter

from ._common import Audit, out, parse_duration, print_json, wide


def upgrade(url: str | None = None) -> None:
    """Create or upgrade the audit schema (idempotent).

    Parameters
    ----------
    url
        SQLAlchemy URL; default: PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL, the block, or SQLite.
    """
    from ..store.database import current_revision, resolve_database_url, safe_url
    from ..store.database import upgrade as upgrade_schema

    target = url or resolve_database_url()
    before = current_revision(target)
    upgrade_schema(target)
    after = current_revision(target)
    shown = safe_url(target)
    if before == after:
        out.print(f"Audit schema at {shown} is up to date (revision {after!r}).")
    else:
        out.print(f"Upgraded audit schema at {shown} from {before!r} to {after!r}.")


def prune(
    *,
    older_than: Annotated[str, Parameter(help="Age of what goes: 90d, 12w...")],
    yes: Annotated[
        bool, Parameter(help="Really delete; without it, only say what would go.")
    ] = False,
    audit: Audit = Audit(),
) -> None:
    """Delete transitions and run summaries older than ``--older-than`` (dry run without --yes)."""
    from ..store.prune import prune as prune_store

    cutoff = datetime.now(UTC) - parse_duration(older_than)
    result = prune_store(audit.reader(), cutoff, dry_run=not yes)
    if audit.as_json:
        print_json(result)
        return
    what = f"{result.transitions} transition(s) and {result.summaries} run summary(ies)"
    when = f"older than {older_than!r} (before {cutoff:%Y-%m-%d %H:%M:%S} UTC)"
    said = (
        f"Would delete {what} {when}; run again with --yes to delete them."
        if result.dry_run
        else f"Deleted {what} {when}."
    )
    wide(out).print(said, markup=False, highlight=False)
