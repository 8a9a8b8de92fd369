"""What every stored value goes through: text any backend takes, JSON any value makes.

One place for both databases and the spool (issue 18: a NUL in a flow-run tag or a
metric name used to make PostgreSQL refuse a whole summary): `storable` is applied to
every row by `prefect_failtrack.store.writes` just before it is written, whoever made
the row (the hooks, reconcile, the collector, a spool replay).

This module imports nothing heavy: the recorder's front (`store.recorder`) and the
spool need it in the pipeline's process before SQLAlchemy is loaded.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_default(value: Any) -> Any:
    """What ``json`` cannot encode, made encodable: dates as ISO strings, the rest as ``str``."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return list(value)
    return str(value)


json_dumps = json.JSONEncoder(default=json_default).encode
"""``json.dumps`` for any value (unknown types as ``str``); one encoder, reused, is cheaper."""

MAX_DEPTH = 64


def storable(value: Any, depth: int = 0) -> Any:
    """`value` with text that any database takes: NUL (PostgreSQL refuses it) and lone
    surrogates (UTF-8 cannot encode them) written as backslash escapes, ``\\x00`` and
    ``\\ud800``; dicts, lists and tuples are walked (keys too), `MAX_DEPTH` levels deep at
    most; what lies deeper is kept as its JSON text, made storable."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "\\x00")
        if not value.isascii():
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if depth >= MAX_DEPTH and isinstance(value, dict | list | tuple):
        return storable(json_dumps(value))
    # Most of a row is left as it is (None, numbers, ASCII text without NUL): told
    # inline, without a call, as this runs for every row.
    if isinstance(value, dict):
        return {
            (
                k if type(k) is str and k.isascii() and "\x00" not in k
                else storable(k if isinstance(k, str) else str(k), depth + 1)
            ): (
                v if type(v) in _SCALARS
                or (type(v) is str and v.isascii() and "\x00" not in v)
                else storable(v, depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [storable(v, depth + 1) for v in value]
    return value


_SCALARS = frozenset({type(None), bool, int, float, datetime})
"""Types `storable` leaves as they are, told without a call."""
