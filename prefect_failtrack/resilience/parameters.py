"""A flow run's parameters as the audit table keeps them: for showing a dead letter, redacted.

They go into the metadata of the flow's Running row (``metadata["parameters"]``), which the
recorder's writer thread redacts like all metadata (values under secret-looking keys
replaced whole, secrets in strings masked). Big values are not kept: a top-level value
with more than `MAX_ITEMS` items or `MAX_CHARS` characters is replaced by a marker
(measured with ``len``, cheap, in the pipeline's thread). Requeue never uses this copy:
it reads the parameters from Prefect.
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from .safety import neutral

MAX_ITEMS = 1000
MAX_CHARS = 10_000


def _kept(value: Any) -> Any:
    if isinstance(value, str | bytes):
        size, limit, unit = len(value), MAX_CHARS, "characters"
    elif isinstance(value, Sized) and not isinstance(value, str | bytes):
        try:
            size = len(value)
        except Exception:
            return value
        limit, unit = MAX_ITEMS, "items"
    else:
        return value
    return value if size <= limit else f"[not stored: {size} {unit}]"


@neutral(default=None)
def stored_parameters(flow_run: Any) -> dict[str, Any] | None:
    """``{"parameters": {...}}`` for the Running row's metadata; ``None`` without parameters."""
    parameters = getattr(flow_run, "parameters", None)
    if not parameters:
        return None
    return {"parameters": {str(key): _kept(value) for key, value in parameters.items()}}


__all__ = ["stored_parameters"]
