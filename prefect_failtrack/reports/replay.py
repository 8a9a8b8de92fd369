"""Shadow replay: stored failures re-classified with the rules of today, without writing.

Every transition that carries a class counts (retried attempts and final failures). The
exception is rebuilt from the stored class name and (redacted, truncated) message, and
carries the facts stored with it (``error_facts``: the status, SQLSTATE, vendor code or
verdict that decided), so that it is judged on the same facts as the first time, not on
its text alone; no module is imported for it, so a class whose module is not already
imported is matched by its dotted name only, and rules added at run time by the pipeline
(``add_rules``) are not there. Distinct (class, message, facts, old class) rows are
classified once each.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from ..classification import classify
from ..classification.text import ReconstructedError, exception_from_text, with_facts
from ..store.models import transitions
from .models import ReplayChange, ReplayReport
from .scope import Scope

EXAMPLES = 3


def reclassify(
    error_class: str, message: str | None, facts: Mapping[str, Any] | None = None
) -> str:
    """The class today's rules give to an exception rebuilt from its stored class, message
    and facts."""
    exc = exception_from_text(f"{error_class}: {message or ''}")
    exc = with_facts(exc if exc is not None else ReconstructedError(message or ""), facts)
    return classify(exc).error_type.value


def replay(
    engine: Engine, *, since: timedelta = timedelta(days=7), until: datetime | None = None
) -> ReplayReport:
    """Counts per old -> new class of the failures stored in the window, with examples."""
    scope = Scope.of(engine, since, until)
    t = transitions.c
    query = (
        select(t.error_type, t.error_class, t.error_message, t.error_facts, func.count())
        .where(t.error_class.is_not(None), scope.in_window(t.occurred_at))
        .group_by(t.error_type, t.error_class, t.error_message, t.error_facts)
        .order_by(t.error_type, t.error_class, t.error_message)
    )
    counts: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], list[str]] = defaultdict(list)
    with engine.connect() as connection:
        for old, error_class, message, facts, count in connection.execute(query):
            key = (old or "UNKNOWN", reclassify(error_class, message, facts))
            counts[key] += count
            text = f"{error_class}: {message or ''}"
            if len(examples[key]) < EXAMPLES and text not in examples[key]:
                examples[key].append(text)
    changes = [
        ReplayChange(old=old, new=new, count=n, examples=sorted(examples[old, new]))
        for (old, new), n in sorted(
            counts.items(), key=lambda kv: (kv[0][0] == kv[0][1], -kv[1], kv[0])
        )
    ]
    return ReplayReport(
        window_start=scope.start,
        window_end=scope.end,
        failures=sum(counts.values()),
        changed=sum(n for (old, new), n in counts.items() if old != new),
        changes=changes,
        generated_at=datetime.now(UTC),
    )
